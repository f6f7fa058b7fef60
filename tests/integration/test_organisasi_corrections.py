"""Corrections in organisasi end to end (issue 18): PATCH as a JSON merge patch on a unit's name, a
board member's contacts and planned end of term, a member's contacts; through gunicorn, the
broker and the database. Every answer carries an ETag, a PATCH names the version it corrects
(If-Match: 428 without, 412 when stale), the next read sees the correction at once, and each
correction is one event naming what changed, never the values."""
import concurrent.futures

import pytest
import requests

from tests.support import assert_problem, events_fixture, form_units, wait_until

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
# Sulawesi Barat, which no other module uses.
PROVINSI, KABUPATEN = "76", "76.01"
WAKIL = {"jabatan": "wakil_ketua", "nama": "H. Andi Mappa", "mulai": "2026-01-05", "selesai": "2028-01-04",
         "telepon": "081233344455", "email": "andi@contoh.id"}
WARGA = {"nama": "Hj. Nurhayati", "kategori": "tokoh_agama", "telepon": "081277788899", "email": "nur@contoh.id"}

events = events_fixture("organisasi.events")


@pytest.fixture(scope="module")
def units(api, national_unit, events):
    return form_units(api, PROVINSI, KABUPATEN)


def patch(api, path, body, version=None, headers=None, **kwargs):
    sent = dict(headers if headers is not None else MERGE_PATCH)
    if version:
        sent["If-Match"] = version
    return api.request("PATCH", path, json=body, headers=sent, **kwargs)


def read(api, path, **kwargs):
    """A GET's body and its ETag."""
    response = api.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def created(response):
    assert response.status_code == 201, response.text
    return response.json()


# A unit's name

def test_a_unit_is_renamed_with_the_etag_it_was_read_with(api, units, events):
    path = f"/units/{units[KABUPATEN]['id']}"
    before, etag = read(api, path)
    renamed = patch(api, path, {"nama": "BKPM Pasangkayu"}, etag)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {**before, "nama": "BKPM Pasangkayu"}
    assert renamed.headers["ETag"] != etag
    # The answer's ETag is the next read's, and a client holding it gets 304.
    again, current = read(api, path)
    assert again == renamed.json() and current == renamed.headers["ETag"]
    assert api.get(path, headers={"If-None-Match": current}).status_code == 304
    event = events.wait_for(lambda e: e["type"] == "unit.diubah" and e["data"]["id"] == before["id"])[0]
    assert event["subject"] == f"units/{before['id']}" and event["wilayah"] == KABUPATEN
    assert event["data"] == {"id": before["id"], "tingkat": "kabupaten_kota", "kode_wilayah": KABUPATEN,
                             "nama": "BKPM Pasangkayu", "induk_id": units[PROVINSI]["id"], "diubah": ["nama"]}


def test_a_stale_etag_is_412_no_if_match_is_428_and_a_star_is_any_version(api, units):
    path = f"/units/{units[PROVINSI]['id']}"
    _, etag = read(api, path)
    assert patch(api, path, {"nama": "BKPM Sulbar"}, etag).status_code == 200
    stale = assert_problem(patch(api, path, {"nama": "BKPM Lain"}, etag), 412, "versi_berubah")
    assert "muat ulang" in stale["detail"]
    assert_problem(patch(api, path, {"nama": "BKPM Lain"}), 428, "if_match_wajib")
    assert read(api, path)[0]["nama"] == "BKPM Sulbar"
    # Plain JSON is a merge patch too.
    star = patch(api, path, {"nama": "BKPM Sulawesi Barat"}, "*", headers={"Content-Type": "application/json"})
    assert star.status_code == 200 and star.json()["nama"] == "BKPM Sulawesi Barat"


def test_a_correction_is_read_back_at_once_on_the_same_connection_and_soon_on_every_worker(api, units, gateway,
                                                                                          token):
    path = f"{gateway}/api/v1/units/{units[KABUPATEN]['id']}"
    with requests.Session() as session:  # one keep-alive connection: one worker
        session.headers["Authorization"] = f"Bearer {token()}"
        for name in ("BKPM Kabupaten Pasangkayu", "BKPM Pasangkayu Baru"):
            assert session.get(path, timeout=10).status_code == 200  # held in that worker's memory
            changed = session.patch(path, json={"nama": name}, headers={"If-Match": "*", **MERGE_PATCH}, timeout=10)
            assert changed.status_code == 200, changed.text
            assert session.get(path, timeout=10).json()["nama"] == name
    # Fresh connections reach every worker; each forgot its answers on hearing unit.diubah.
    headers = {"Authorization": f"Bearer {token()}"}
    wait_until(lambda: all(requests.get(path, headers=headers, timeout=10).json()["nama"] == "BKPM Pasangkayu Baru"
                           for _ in range(8)), "every worker reading the correction")


def test_of_corrections_racing_with_the_same_version_one_wins(api, units):
    path = f"/units/{units[PROVINSI]['id']}"
    _, etag = read(api, path)
    names = [f"BKPM Sulbar {n}" for n in range(4)]
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(lambda name: patch(api, path, {"nama": name}, etag), names))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 412, 412, 412], [answer.text for answer in answers]
    winner = next(answer.json()["nama"] for answer in answers if answer.status_code == 200)
    assert read(api, path)[0]["nama"] == winner


@pytest.mark.parametrize("body, field, words", [
    ({"kode_wilayah": "76.02"}, "kode_wilayah", "hanya nama"),
    ({"nama": None}, "nama", "null"),
    ({}, "_schema", "minimal satu field"),
])
def test_what_a_unit_correction_cannot_change_is_a_field_error(api, units, body, field, words):
    problem = assert_problem(patch(api, f"/units/{units[KABUPATEN]['id']}", body, "*"), 400, "input_tidak_valid")
    assert words in problem["errors"][field][0]


def test_a_unit_is_renamed_only_by_whoever_manages_it(api, units):
    path = f"/units/{units[PROVINSI]['id']}"
    assert_problem(patch(api, path, {"nama": "BKPM X"}, "*", role="admin", wilayah=KABUPATEN), 403)
    assert_problem(patch(api, path, {"nama": "BKPM X"}, "*", role="petugas", wilayah=PROVINSI), 403)
    assert_problem(patch(api, "/units/tidak-ada", {"nama": "BKPM X"}, "*"), 404)
    assert_problem(api.request("PATCH", path, data="nama=BKPM X", headers={"If-Match": "*",
                                                                            "Content-Type": "text/plain"}), 415)


# A board member's contacts and planned end of term

def test_a_board_member_is_corrected_with_the_etag_of_the_appointment(api, units, events, public_feed):
    unit_id = units[KABUPATEN]["id"]
    appointed = api.post(f"/units/{unit_id}/pengurus", json=WAKIL)
    wakil = created(appointed)
    path = f"/units/{unit_id}/pengurus/{wakil['id']}"
    assert read(api, path) == (wakil, appointed.headers["ETag"])  # the single GET answers as the POST did
    corrected = patch(api, path, {"telepon": "+62 812 1111 2222", "email": None, "selesai": "2029-01-04"},
                      appointed.headers["ETag"])
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert body["telepon"].replace("-", "").endswith("81211112222") and body["email"] is None
    assert body["selesai"] == "2029-01-04" and body["nama"] == WAKIL["nama"]
    assert read(api, path)[0] == body
    assert_problem(patch(api, path, {"email": "lain@contoh.id"}, appointed.headers["ETag"]), 412, "versi_berubah")
    assert_problem(patch(api, path, {"email": "lain@contoh.id"}), 428, "if_match_wajib")
    event = events.wait_for(lambda e: e["type"] == "pengurus.diubah" and e["data"]["id"] == wakil["id"])[0]
    assert event["data"]["diubah"] == ["email", "selesai", "telepon"]
    assert not {"telepon", "email", "nrp"} & set(event["data"])
    assert event["subject"] == f"units/{unit_id}/pengurus/{wakil['id']}" and event["wilayah"] == KABUPATEN
    # The feed shows the planned end of a term (as pengurus.diangkat does) and that it changed; never contacts.
    public = public_feed.wait_for(lambda e: e["id"] == event["id"])[0]
    assert public["data"] == {"id": wakil["id"], "unit_id": unit_id, "jabatan": "wakil_ketua", "mulai": "2026-01-05",
                              "selesai": "2029-01-04", "diubah": ["selesai"]}


def test_a_board_correction_keeps_the_rules_and_history(api, units):
    unit_id = units[PROVINSI]["id"]
    wakil = created(api.post(f"/units/{unit_id}/pengurus", json=WAKIL))
    path = f"/units/{unit_id}/pengurus/{wakil['id']}"
    early = assert_problem(patch(api, path, {"selesai": "2025-12-31"}, "*"), 400, "input_tidak_valid")
    assert early["errors"] == {"selesai": ["Tanggal selesai tidak boleh sebelum tanggal mulai."]}
    wrong = assert_problem(patch(api, path, {"jabatan": "ketua"}, "*"), 400, "input_tidak_valid")
    assert "berhentikan" in wrong["errors"]["jabatan"][0]
    assert_problem(patch(api, path, {"telepon": "12345"}, "*"), 400, "input_tidak_valid")
    assert api.post(f"{path}/berhenti", json={"tanggal": "2026-06-30"}).status_code == 200
    ended = assert_problem(patch(api, path, {"email": "baru@contoh.id"}, "*"), 409, "sudah_berhenti")
    assert "2026-06-30" in ended["detail"]
    assert_problem(patch(api, f"/units/{unit_id}/pengurus/tidak-ada", {"email": "baru@contoh.id"}, "*"), 404)


# A member's contacts

def test_a_member_is_corrected_by_managers_and_read_masked_by_others(api, units, events, public_feed):
    unit_id = units[KABUPATEN]["id"]
    joined = api.post(f"/units/{unit_id}/anggota", json=WARGA)
    warga = created(joined)
    path = f"/units/{unit_id}/anggota/{warga['id']}"
    masked, masked_etag = read(api, path, role="pemantau", wilayah=PROVINSI)
    assert masked["email"] != WARGA["email"] and masked_etag != joined.headers["ETag"]
    assert_problem(patch(api, path, {"email": "nur@baru.id"}, masked_etag, role="pemantau", wilayah=PROVINSI), 403)
    assert_problem(patch(api, path, {"email": "nur@baru.id"}, masked_etag), 412, "versi_berubah")
    corrected = patch(api, path, {"email": "nur@baru.id"}, joined.headers["ETag"], role="pengurus", wilayah=KABUPATEN)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {**warga, "email": "nur@baru.id"}
    event = events.wait_for(lambda e: e["type"] == "anggota.diubah" and e["data"]["id"] == warga["id"])[0]
    assert event["data"]["diubah"] == ["email"] and "email" not in event["data"]
    public = public_feed.wait_for(lambda e: e["id"] == event["id"])[0]  # a member's contacts are all it may change
    assert public["data"] == {"id": warga["id"], "unit_id": unit_id, "kategori": "tokoh_agama",
                              "bergabung": warga["bergabung"]}
    # Leaving ends the corrections: the membership is history.
    assert api.delete(path).status_code == 200
    assert_problem(patch(api, path, {"telepon": None}, "*"), 409, "sudah_keluar")
    left = read(api, path)[0]
    assert left["aktif"] is False and left["telepon"] == corrected.json()["telepon"]

