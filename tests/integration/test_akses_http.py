"""The access log of personal data end to end: a recorder's read of a recipient's whole NIK goes
through the gateway and the broker to bantuan, which writes it down in its database; the admins
of the area read it at GET /api/v1/akses, merged across the services, and nobody else does."""
from tests.nik import recipient
from tests.support import assert_problem

BANDUNG = {"role": "petugas", "wilayah": "32.73", "sub": "petugas-akses-bandung"}


def logged_reads_of(api, record_id, **who):
    """The entries naming `record_id` that `who` reads in the access log, every page."""
    found, cursor = [], None
    while True:
        page = api.get("/akses", params={"limit": 200, **({"cursor": cursor} if cursor else {})}, **who)
        assert page.status_code == 200, page.text
        body = page.json()
        found += [entry for entry in body["items"] if record_id in entry["data_id"]]
        if not body["items"]:
            return found, page.text
        cursor = body["next_cursor"]


def test_an_admin_of_the_area_sees_who_read_a_recipient_whole_and_no_one_else_does(api):
    data = recipient(7777)
    registered = api.post("/bantuan/penerima", json=data, **BANDUNG)
    assert registered.status_code == 201, registered.text
    penerima_id = registered.json()["id"]
    read = api.get(f"/bantuan/penerima/{penerima_id}", **BANDUNG)
    assert read.status_code == 200 and read.json()["nik"] == data["nik"]

    entries, text = logged_reads_of(api, penerima_id, role="admin", wilayah="32.73")
    [entry] = entries  # registering is no read: the recorder typed the data themselves
    assert entry["oleh"] == {"sub": BANDUNG["sub"], "peran": ["petugas"]}
    assert entry["rute"] == "bantuan.get_penerima" and entry["layanan"] == "bantuan"
    assert entry["jenis"] == "penerima" and entry["wilayah"] == data["kode_wilayah"]
    assert set(entry["kolom"]) >= {"nik", "no_kk"}
    assert data["nik"] not in text and data["no_kk"] not in text

    assert logged_reads_of(api, penerima_id, role="admin")[0] == entries  # national admins see all
    assert logged_reads_of(api, penerima_id, role="admin", wilayah="32.04")[0] == []
    assert_problem(api.get("/akses", role="petugas", wilayah="32.73"), 403)
    assert_problem(api.get("/akses", params={"cursor": "bukan-cursor"}), 400)
