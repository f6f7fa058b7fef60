"""Idempotency-Key and Location end to end: through gunicorn, the broker and the services'
databases. A POST sent again with the same key and body gets the first answer and changes
nothing (one record, one event), whichever gateway worker or service instance gets it, also
when the copies arrive at once; the same key with another body is 422; a key is its caller's."""
import threading
import time
import uuid

import pytest
import requests

from services.common.mongo import connect
from tests.support import assert_problem, events_fixture, form_units

events = events_fixture("kegiatan.events")

PROVINSI, KOTA = "75", "75.71"  # Gorontalo and Kota Gorontalo: no other module forms them
DESA = "75.71.01.1001"


@pytest.fixture(scope="module")
def unit(api, national_unit):
    return form_units(api, PROVINSI, KOTA)[KOTA]


@pytest.fixture(scope="module")
def kegiatan_db(env):
    client = connect(env["MONGO_URI"])
    yield client[f"{env['BKPM_DB_PREFIX']}_kegiatan"]
    client.close()


def activity(unit, judul=None):
    return {"unit_id": unit["id"], "jenis": "dialog", "judul": judul or f"Dialog {uuid.uuid4().hex[:8]}",
            "mulai": "2026-12-02T09:00:00+08:00", "selesai": "2026-12-02T11:00:00+08:00",
            "lokasi": {"kode_wilayah": DESA, "alamat": "Balai Kelurahan Dembe I"}}


def keyed(key):
    return {"Idempotency-Key": key}


def scheduled(events, kegiatan_id):
    """The kegiatan.dijadwalkan events of one activity, after the outbox had time to publish any."""
    events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan_id)
    time.sleep(1.5)
    return [e for e in events.events("kegiatan.dijadwalkan") if e["data"]["id"] == kegiatan_id]


def test_the_same_key_and_body_again_gets_the_first_answer_and_does_nothing(api, unit, events, kegiatan_db):
    key, body = str(uuid.uuid4()), activity(unit)
    first = api.post("/kegiatan", json=body, headers=keyed(key))
    again = api.post("/kegiatan", json=body, headers=keyed(key))
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    kegiatan = first.json()
    assert again.headers["Location"] == first.headers["Location"] == f"/api/v1/kegiatan/{kegiatan['id']}"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert kegiatan_db.kegiatan.count_documents({"judul": body["judul"]}) == 1
    assert len(scheduled(events, kegiatan["id"])) == 1
    read = requests.get(f"{api.base}{first.headers['Location']}", timeout=10,
                        headers={"Authorization": first.request.headers["Authorization"]})
    assert read.status_code == 200 and read.json()["id"] == kegiatan["id"]
    # Kept under the key as its caller's, hashed: the text the client chose is stored nowhere.
    assert kegiatan_db.idempotensi.count_documents({"sidik": {"$exists": True}}) >= 1
    assert not kegiatan_db.idempotensi.find_one({"_id": key})


def test_without_a_key_the_same_body_is_another_activity(api, unit, kegiatan_db):
    body = activity(unit)
    assert api.post("/kegiatan", json=body).status_code == api.post("/kegiatan", json=body).status_code == 201
    assert kegiatan_db.kegiatan.count_documents({"judul": body["judul"]}) == 2


def test_the_same_key_with_another_body_is_422_and_changes_nothing(api, unit, kegiatan_db):
    key, body = str(uuid.uuid4()), activity(unit)
    assert api.post("/kegiatan", json=body, headers=keyed(key)).status_code == 201
    other = {**body, "judul": body["judul"] + " (diubah)"}
    problem = assert_problem(api.post("/kegiatan", json=other, headers=keyed(key)), 422, "kunci_idempotensi_dipakai")
    assert "Idempotency-Key" in problem["detail"]
    assert kegiatan_db.kegiatan.count_documents({"judul": other["judul"]}) == 0


def test_a_key_is_its_callers_own(api, unit, kegiatan_db):
    key, body = str(uuid.uuid4()), activity(unit)
    budi = api.post("/kegiatan", json=body, headers=keyed(key), sub="budi")
    sri = api.post("/kegiatan", json=body, headers=keyed(key), sub="sri")
    assert budi.status_code == sri.status_code == 201
    assert budi.json()["id"] != sri.json()["id"]
    assert api.post("/kegiatan", json={**body, "judul": "Lain"}, headers=keyed(key), sub="dewi").status_code == 201


def test_a_request_refused_changes_nothing_so_the_corrected_one_runs_under_the_same_key(api, unit, kegiatan_db):
    key, body = str(uuid.uuid4()), activity(unit)
    outside = {**body, "lokasi": {"kode_wilayah": "75.02.01", "alamat": "Di luar Kota Gorontalo"}}
    assert "lokasi" in assert_problem(api.post("/kegiatan", json=outside, headers=keyed(key)), 400)["errors"]
    assert api.post("/kegiatan", json=body, headers=keyed(key)).status_code == 201
    assert kegiatan_db.kegiatan.count_documents({"judul": body["judul"]}) == 1


def test_copies_sent_at_once_make_one_record(api, unit, kegiatan_db, token):
    key, body, copies = str(uuid.uuid4()), activity(unit), 8
    headers = {**keyed(key), "Authorization": f"Bearer {token()}"}
    start, answers = threading.Barrier(copies), []

    def send():
        start.wait()
        answers.append(requests.post(f"{api.base}/api/v1/kegiatan", json=body, headers=headers, timeout=15))
    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [answer.json() for answer in answers if answer.status_code == 201]
    busy = [answer for answer in answers if answer.status_code != 201]
    assert created and all(answer == created[0] for answer in created)
    for answer in busy:  # a copy that could not wait for the first one's answer is told to retry
        assert_problem(answer, 409, "permintaan_sedang_diproses")
        assert answer.headers["Retry-After"] == "1"
    assert kegiatan_db.kegiatan.count_documents({"judul": body["judul"]}) == 1


def test_an_anonymous_aspiration_sent_again_gets_the_same_ticket(api, unit, events):
    key = str(uuid.uuid4())
    body = {"kode_wilayah": DESA, "kategori": "keluhan", "isi": f"Jalan berlubang di depan balai ({key[:8]})."}
    first = api.post("/aspirasi", json=body, role=None, headers=keyed(key))
    again = api.post("/aspirasi", json=body, role=None, headers=keyed(key))
    assert first.status_code == again.status_code == 201, again.text
    ticket = first.json()["nomor_tiket"]
    assert again.json()["nomor_tiket"] == ticket
    assert first.headers["Location"] == again.headers["Location"] == f"/api/v1/aspirasi/lacak/{ticket}"
    tracked = requests.get(f"{api.base}{first.headers['Location']}", timeout=10)
    assert tracked.status_code == 200 and tracked.json()["status"] == "diterima"
    events.wait_for(lambda e: e["type"] == "aspirasi.diterima" and e["data"]["nomor_tiket"] == ticket)
    time.sleep(1.5)
    assert len([e for e in events.events("aspirasi.diterima") if e["data"]["nomor_tiket"] == ticket]) == 1


def test_a_unit_formed_again_under_its_key_is_the_same_answer_not_a_conflict(api, unit, organisasi_db):
    key, body = str(uuid.uuid4()), {"tingkat": "kabupaten_kota", "kode_wilayah": "75.02"}
    first = api.post("/units", json=body, headers=keyed(key))
    again = api.post("/units", json=body, headers=keyed(key))
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["Location"] == f"/api/v1/units/{first.json()['id']}"
    assert_problem(api.post("/units", json=body), 409, "unit_sudah_ada")  # it exists, once
    assert organisasi_db.units.count_documents({"kode_wilayah": "75.02"}) == 1


def test_a_bad_key_is_400(api, unit):
    problem = assert_problem(api.post("/kegiatan", json=activity(unit), headers=keyed("ada spasi")), 400,
                             "input_tidak_valid")
    assert list(problem["errors"]) == ["Idempotency-Key"]


def test_a_route_issuing_credentials_ignores_the_key(api, env):
    key, body = str(uuid.uuid4()), {"nama": "SIPP Polda Gorontalo", "wilayah": PROVINSI}
    first = api.post("/klien", json=body, headers=keyed(key))
    again = api.post("/klien", json=body, headers=keyed(key))
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()["client_id"] != again.json()["client_id"]  # two clients: no secret was kept to repeat
    assert first.headers["Location"] == "/api/v1/klien"
    client = connect(env["MONGO_URI"])
    try:
        assert client[f"{env['BKPM_DB_PREFIX']}_akun"].idempotensi.count_documents({}) == 0
    finally:
        client.close()


@pytest.mark.parametrize("path, body, readable", [
    ("/units/{unit}/pengurus", {"jabatan": "sekretaris", "nama": "AKBP Rahmat", "nrp": "75020001", "pangkat": "AKBP",
                                "jabatan_polri": "Kasat Binmas", "mulai": "2025-02-01"},
     "/api/v1/units/{unit}/pengurus/{id}"),
    ("/units/{unit}/anggota", {"nama": "Pak Hasan", "kategori": "tokoh_agama"}, "/api/v1/units/{unit}/anggota/{id}"),
])
def test_a_201_locates_where_what_it_created_is_read(api, unit, path, body, readable):
    response = api.post(path.format(unit=unit["id"]), json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == readable.format(unit=unit["id"], id=response.json()["id"])
    read = requests.get(f"{api.base}{response.headers['Location']}", timeout=10,
                        headers={"Authorization": response.request.headers["Authorization"]})
    assert read.status_code == 200 and read.json() == response.json()
    assert read.headers["ETag"] == response.headers["ETag"]
