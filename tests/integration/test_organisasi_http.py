"""The organisasi service end to end: HTTP through gunicorn, RPC over the real broker, the
real database, and events seen by a pika subscriber as an outside system would see them."""
import concurrent.futures
import uuid

import pytest

from tests.support import assert_problem, events_fixture

KAPOLDA = {"jabatan": "ketua", "nama": "Irjen Pol. Karyoto", "nrp": "68010123", "pangkat": "Irjen Pol",
           "jabatan_polri": "Kapolda Metro Jaya", "mulai": "2025-01-06", "telepon": "081234567890",
           "email": "kapolda@contoh.go.id"}


events = events_fixture("organisasi.events")


@pytest.fixture(scope="module")
def tree(api, events, national_unit):
    """national -> provinsi 31 -> kota 31.71 -> kecamatan 31.71.01, built through the API."""
    created = {"nasional": national_unit}
    for key, body in [("31", {"tingkat": "provinsi", "kode_wilayah": "31"}),
                      ("31.71", {"tingkat": "kabupaten_kota", "kode_wilayah": "31.71"}),
                      ("31.71.01", {"tingkat": "kecamatan", "kode_wilayah": "31.71.01"})]:
        response = api.post("/units", json=body)
        assert response.status_code == 201, response.text
        created[key] = response.json()
    return created



def test_units_form_a_tree_with_parents_derived_from_area_codes(tree):
    assert tree["nasional"]["induk_id"] is None
    assert tree["31"]["induk_id"] == tree["nasional"]["id"]
    assert tree["31.71"]["induk_id"] == tree["31"]["id"]
    assert tree["31.71.01"]["induk_id"] == tree["31.71"]["id"]
    assert tree["31"]["nama"] == "BKPM Daerah Khusus Ibukota Jakarta"
    assert tree["31.71.01"]["nama_wilayah"] == "Gambir"


def test_each_write_publishes_one_cloudevent(tree, events):
    for unit in (tree["31"], tree["31.71"], tree["31.71.01"]):
        found = events.wait_for(lambda e, u=unit: e["type"] == "unit.dibentuk" and e["data"]["id"] == u["id"])
        assert len(found) == 1
        event = found[0]
        assert event["specversion"] == "1.0"
        assert event["source"] == "/bkpm/organisasi"
        assert event["subject"] == f"units/{unit['id']}"
        assert event["wilayah"] == unit["kode_wilayah"]
        assert event["data"] == {k: unit[k] for k in ("id", "tingkat", "kode_wilayah", "nama", "induk_id")}
        uuid.UUID(event["id"])


def test_event_message_properties(tree, events):
    message = next(m for m in events.messages if m["body"]["data"].get("id") == tree["31"]["id"])
    assert message["routing_key"] == "unit.dibentuk"
    assert message["properties"].content_type == "application/cloudevents+json"
    assert message["properties"].delivery_mode == 2
    assert message["properties"].message_id == message["body"]["id"]


def test_unit_and_lists(api, tree):
    assert api.get(f"/units/{tree['31.71']['id']}").json() == tree["31.71"]
    page = api.get("/units", params={"kode_prefix": "31.71"}).json()
    assert [u["kode_wilayah"] for u in page["items"]] == ["31.71", "31.71.01"]
    assert page["total"] == 2
    children = api.get("/units", params={"induk_id": tree["31"]["id"]}).json()
    assert [u["id"] for u in children["items"]] == [tree["31.71"]["id"]]
    provinces = api.get("/units", params={"tingkat": "provinsi", "kode_prefix": "31"}).json()
    assert [u["kode_wilayah"] for u in provinces["items"]] == ["31"]
    paged = api.get("/units", params={"kode_prefix": "31", "per_page": 2, "page": 2}).json()
    assert paged["page"] == 2 and paged["per_page"] == 2 and paged["total"] == 3
    assert [u["kode_wilayah"] for u in paged["items"]] == ["31.71.01"]
    subtree = api.get(f"/units/{tree['31']['id']}/subtree").json()
    assert [u["kode_wilayah"] for u in subtree["items"]] == ["31", "31.71", "31.71.01"]


def test_second_unit_for_an_area_is_refused(api, tree):
    body = assert_problem(api.post("/units", json={"tingkat": "provinsi", "kode_wilayah": "31"}), 409, "unit_sudah_ada")
    assert body["unit_id"] == tree["31"]["id"]


def test_missing_parent_is_named(api, tree):
    body = assert_problem(api.post("/units", json={"tingkat": "kecamatan", "kode_wilayah": "31.72.01"}),
                          409, "induk_belum_ada")
    assert "31.72" in body["detail"] and "Jakarta Utara" in body["detail"]


@pytest.mark.parametrize("body, field", [
    ({"tingkat": "provinsi", "kode_wilayah": "99"}, "kode_wilayah"),           # unknown code
    ({"tingkat": "provinsi", "kode_wilayah": "31.71"}, "kode_wilayah"),        # wrong level
    ({"tingkat": "kecamatan", "kode_wilayah": "31.71.01.1001"}, "kode_wilayah"),  # a village is no unit
    ({"tingkat": "provinsi", "kode_wilayah": "3171"}, "kode_wilayah"),         # not a code
    ({"tingkat": "kelurahan", "kode_wilayah": "31"}, "tingkat"),
    ({"kode_wilayah": "31"}, "tingkat"),
])
def test_bad_unit_input_gets_field_messages(api, tree, body, field):
    problem = assert_problem(api.post("/units", json=body), 400, "input_tidak_valid")
    assert field in problem["errors"]


def test_malformed_json_is_400(api, tree):
    response = api.post("/units", data="{tingkat: provinsi", headers={"Content-Type": "application/json"})
    problem = assert_problem(response, 400, "input_tidak_valid")
    assert problem["errors"]


def test_board_appointment_and_second_ketua_refused(api, tree, events):
    unit = tree["31"]
    response = api.post(f"/units/{unit['id']}/pengurus", json=KAPOLDA)
    assert response.status_code == 201, response.text
    ketua = response.json()
    assert ketua["aktif"] is True and ketua["telepon"] == "0812-3456-7890"  # shown in the local form

    second = {**KAPOLDA, "nama": "Irjen Pol. Lain", "nrp": "68010124"}
    problem = assert_problem(api.post(f"/units/{unit['id']}/pengurus", json=second), 409, "jabatan_terisi")
    assert problem["pengurus_id"] == ketua["id"] and KAPOLDA["nama"] in problem["detail"]

    event = events.wait_for(lambda e: e["type"] == "pengurus.diangkat" and e["data"]["id"] == ketua["id"])[0]
    assert event["subject"] == f"units/{unit['id']}/pengurus/{ketua['id']}"
    assert event["data"]["jabatan"] == "ketua"
    assert "telepon" not in event["data"] and "email" not in event["data"] and "nrp" not in event["data"]


def test_concurrent_appointments_leave_one_holder(api, tree):
    unit = tree["31.71"]
    bodies = [{"jabatan": "sekretaris", "nama": f"AKBP Calon {i}", "nrp": f"7501{i:04d}", "pangkat": "AKBP",
               "jabatan_polri": "Kabag Ops Polres Metro Jakarta Pusat", "mulai": "2025-02-01"} for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(lambda b: api.post(f"/units/{unit['id']}/pengurus", json=b).status_code, bodies))
    assert statuses == [201] + [409] * 7
    active = api.get(f"/units/{unit['id']}/pengurus", params={"aktif": "true"}).json()
    assert [p["jabatan"] for p in active["items"]] == ["sekretaris"] and active["total"] == 1


def test_ending_an_appointment_keeps_history(api, tree, events):
    unit = tree["31.71.01"]
    first = api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": "wakil_ketua", "nama": "H. Ahmad Tokoh", "mulai": "2024-01-01"}).json()
    ended = api.post(f"/units/{unit['id']}/pengurus/{first['id']}/berhenti",
                     json={"tanggal": "2025-03-01", "alasan": "Masa jabatan berakhir"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["aktif"] is False and ended.json()["selesai"] == "2025-03-01"
    assert_problem(api.post(f"/units/{unit['id']}/pengurus/{first['id']}/berhenti", json={}), 409, "sudah_berhenti")

    successor = api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": "wakil_ketua", "nama": "Ibu Sri Tokoh", "mulai": "2025-03-02"})
    assert successor.status_code == 201, successor.text
    history = api.get(f"/units/{unit['id']}/pengurus").json()["items"]
    assert [(p["nama"], p["aktif"]) for p in history] == [("Ibu Sri Tokoh", True), ("H. Ahmad Tokoh", False)]
    newest = api.get(f"/units/{unit['id']}/pengurus", params={"per_page": 1}).json()
    assert [p["nama"] for p in newest["items"]] == ["Ibu Sri Tokoh"] and newest["total"] == 2
    event = events.wait_for(lambda e: e["type"] == "pengurus.diberhentikan" and e["data"]["id"] == first["id"])[0]
    assert event["data"]["selesai"] == "2025-03-01" and event["data"]["alasan"] == "Masa jabatan berakhir"


@pytest.mark.parametrize("change, field", [
    ({"nrp": None}, "nrp"),                       # ketua is Polri: NRP required
    ({"nrp": "1234"}, "nrp"),                     # NRP is 8 digits
    ({"jabatan_polri": "Kapolres Jakarta Pusat"}, "jabatan_polri"),  # a province's ketua is its Kapolda
    ({"mulai": "06-01-2025"}, "mulai"),
    ({"telepon": "12345"}, "telepon"),
])
def test_bad_board_input_gets_field_messages(api, tree, change, field):
    body = {k: v for k, v in {**KAPOLDA, **change}.items() if v is not None}
    problem = assert_problem(api.post(f"/units/{tree['31']['id']}/pengurus", json=body), 400)
    assert field in problem["errors"], problem


def test_members_join_and_leave(api, tree, events):
    unit = tree["31.71.01"]
    joined = api.post(f"/units/{unit['id']}/anggota", json={
        "nama": "Pdt. Yohanes", "kategori": "tokoh_agama", "telepon": "081311112222", "bergabung": "2025-01-10"})
    assert joined.status_code == 201, joined.text
    member = joined.json()
    left = api.delete(f"/units/{unit['id']}/anggota/{member['id']}", json={"tanggal": "2025-06-30"})
    assert left.status_code == 200 and left.json()["aktif"] is False and left.json()["keluar"] == "2025-06-30"
    assert_problem(api.delete(f"/units/{unit['id']}/anggota/{member['id']}"), 409, "sudah_keluar")
    everyone = api.get(f"/units/{unit['id']}/anggota").json()["items"]
    assert member["id"] in [m["id"] for m in everyone]
    assert member["id"] not in [m["id"] for m in api.get(f"/units/{unit['id']}/struktur").json()["anggota"]]
    assert events.wait_for(lambda e: e["type"] == "anggota.bergabung" and e["data"]["id"] == member["id"])
    assert events.wait_for(lambda e: e["type"] == "anggota.keluar" and e["data"]["id"] == member["id"])
    assert_problem(api.post(f"/units/{unit['id']}/anggota", json={"nama": "X", "kategori": "artis"}), 400)


def test_struktur_masks_contacts_for_readers(api, tree):
    unit = tree["31"]
    manager_view = api.get(f"/units/{unit['id']}/struktur").json()
    reader_view = api.get(f"/units/{unit['id']}/struktur", role="pemantau", wilayah="31").json()
    ketua_full = next(p for p in manager_view["pengurus"] if p["jabatan"] == "ketua")
    ketua_masked = next(p for p in reader_view["pengurus"] if p["jabatan"] == "ketua")
    assert ketua_full["telepon"] == "0812-3456-7890"
    assert ketua_masked["telepon"] != KAPOLDA["telepon"] and "*" in ketua_masked["telepon"]
    assert ketua_masked["email"].startswith("k***@")
    assert ketua_full["nrp"] == KAPOLDA["nrp"] and ketua_masked["nrp"] == "68****23"


def test_area_scope_is_enforced(api, tree):
    kota = tree["31.71"]
    assert_problem(api.get(f"/units/{kota['id']}", role="pengurus", wilayah="31.72"), 403, "akses_ditolak")
    assert_problem(api.get(f"/units/{kota['id']}/struktur", role="pemantau", wilayah="31.72"), 403)
    assert_problem(api.post(f"/units/{kota['id']}/anggota", role="pengurus", wilayah="31.72",
                            json={"nama": "A", "kategori": "masyarakat"}), 403)
    # 31.71 reaches itself and below, never its province.
    assert api.get(f"/units/{kota['id']}", role="pengurus", wilayah="31.71").status_code == 200
    assert_problem(api.get(f"/units/{tree['31']['id']}", role="pengurus", wilayah="31.71"), 403)
    listed = api.get("/units", role="pemantau", wilayah="31.71").json()
    assert {u["kode_wilayah"] for u in listed["items"]} == {"31.71", "31.71.01"}
    assert_problem(api.get("/units", role="pemantau", wilayah="31.71", params={"kode_prefix": "32"}), 403)
    # Readers read; only admin and pengurus change the organisation.
    assert_problem(api.post(f"/units/{kota['id']}/anggota", role="pemantau", wilayah="31.71",
                            json={"nama": "A", "kategori": "masyarakat"}), 403)


def test_no_token_is_401(api, tree):
    assert_problem(api.get("/units", role=None), 401, "tidak_terautentikasi")


def test_unknown_unit_is_404(api, tree):
    assert_problem(api.get(f"/units/{uuid.uuid4()}"), 404, "tidak_ditemukan")


def test_correlation_id_flows_from_request_to_event(api, tree, events):
    correlation = "uji-" + uuid.uuid4().hex[:12]
    response = api.post(f"/units/{tree['31.71']['id']}/anggota", headers={"X-Correlation-ID": correlation},
                        json={"nama": "Dr. Rina Akademisi", "kategori": "akademisi"})
    assert response.status_code == 201 and response.headers["X-Correlation-ID"] == correlation
    event = events.wait_for(lambda e: e["type"] == "anggota.bergabung" and e["data"]["id"] == response.json()["id"])[0]
    assert event["correlationid"] == correlation
