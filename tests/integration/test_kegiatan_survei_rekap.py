"""The trust survey (once per code) and the summary of an area and period, checked against a
small fixture whose numbers are counted by hand."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from services.common.mongo import connect
from tests.support import assert_problem, form_units

PLACE = {"kode_wilayah": "36.71.01.1001", "alamat": "Aula Kecamatan Tangerang"}
PERIOD = {"kode_wilayah": "36.71", "dari": "2026-11-01", "sampai": "2027-03-31"}


@pytest.fixture(scope="module")
def tangerang(api, national_unit):
    return form_units(api, "36", "36.71")["36.71"]


def schedule(api, unit, jenis, day, **fields):
    body = {"unit_id": unit["id"], "jenis": jenis, "judul": f"{jenis} {day}", "lokasi": PLACE,
            "mulai": f"{day}T09:00:00+07:00", "selesai": f"{day}T12:00:00+07:00", **fields}
    response = api.post("/kegiatan", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def aspire(api, isi):
    response = api.post("/aspirasi", role=None, json={"kode_wilayah": "36.71.01", "kategori": "masukan", "isi": isi})
    assert response.status_code == 201, response.text
    return api.get("/aspirasi", params={"kode_prefix": "36.71.01"}).json()["items"][0]


def follow(api, aspirasi, *statuses):
    for status in statuses:
        response = api.post(f"/aspirasi/{aspirasi['id']}/tindak-lanjut", json={"status": status, "catatan": "ok"})
        assert response.status_code == 200, response.text


def wait_until(check, what, timeout=15):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def finished(api, tangerang, env):
    """In Kota Tangerang:
    - activities in the period: a dialog finished (participants: 2 masyarakat, 1 polri), a
      dialog cancelled, a penyuluhan planned; and a dialog in April 2027, outside the period;
    - two survey answers on the finished dialog: trust 4 and 5, satisfaction 3 and 5;
    - aspirations: one resolved on time, one resolved after missing its verification
      deadline, one still open."""
    dialog = schedule(api, tangerang, "dialog", "2027-03-03")
    for nama, unsur in [("Warga A", "masyarakat"), ("Warga B", "masyarakat"), ("Bripka C", "polri")]:
        assert api.post(f"/kegiatan/{dialog['id']}/peserta", json={"nama": nama, "unsur": unsur}).status_code == 201
    api.post(f"/kegiatan/{dialog['id']}/mulai")
    done = api.post(f"/kegiatan/{dialog['id']}/selesai",
                    json={"laporan": {"jumlah_peserta": 3, "ringkasan": "Dialog kamtibmas."}})
    assert done.status_code == 200, done.text
    codes = api.get(f"/kegiatan/{dialog['id']}/survei").json()["kode"]
    for kode, trust, satisfaction in [(codes[0], 4, 3), (codes[1], 5, 5)]:
        answered = api.post(f"/kegiatan/{dialog['id']}/survei", role=None,
                            json={"kode": kode, "kepercayaan": trust, "kepuasan": satisfaction})
        assert answered.status_code == 201, answered.text
    cancelled = schedule(api, tangerang, "dialog", "2027-03-10")
    api.post(f"/kegiatan/{cancelled['id']}/batal", json={"alasan": "Cuaca buruk"})
    schedule(api, tangerang, "penyuluhan", "2027-03-20", topik="kenakalan_remaja")
    schedule(api, tangerang, "dialog", "2027-04-02")

    follow(api, aspire(api, "Tepat waktu"), "diverifikasi", "diproses", "selesai")
    late = aspire(api, "Terlambat")
    client = connect(env["MONGO_URI"])
    try:
        aspirasi = client[f"{env['BKPM_DB_PREFIX']}_kegiatan"].aspirasi
        aspirasi.update_one({"_id": late["id"]},
                            {"$set": {"batas_verifikasi": datetime.now(timezone.utc) - timedelta(hours=1)}})
        wait_until(lambda: aspirasi.find_one({"_id": late["id"]})["terlambat"] == ["verifikasi"], "the late flag")
    finally:
        client.close()
    follow(api, late, "diverifikasi", "diproses", "selesai")
    aspire(api, "Masih terbuka")
    return dialog, codes


def test_survey_is_answered_once_per_code(api, finished):
    dialog, codes = finished
    assert len(codes) == 3
    path = f"/kegiatan/{dialog['id']}/survei"
    assert_problem(api.post(path, role=None, json={"kode": codes[0], "kepercayaan": 1, "kepuasan": 1}),
                   409, "kode_sudah_dipakai")
    assert_problem(api.post(path, role=None, json={"kode": "BUKANKODE", "kepercayaan": 1, "kepuasan": 1}), 404)
    assert_problem(api.post(path, role=None, json={"kode": codes[2], "kepercayaan": 6, "kepuasan": 1}), 400)
    assert api.get(path).json() == {"kegiatan_id": dialog["id"], "kode": [codes[2]], "terpakai": 2}


def test_summary_matches_the_hand_counted_fixture(api, finished):
    rekap = api.get("/rekap/kegiatan", params=PERIOD, role="pemantau", wilayah="36.71")
    assert rekap.status_code == 200, rekap.text
    body = rekap.json()
    assert body["kegiatan"] == {
        "jumlah": 3,
        "per_jenis": {"dialog": 2, "penyuluhan": 1, "patroli_bersama": 0, "bantuan_sosial": 0,
                      "pengembangan_kapasitas": 0},
        "per_status": {"direncanakan": 1, "berlangsung": 0, "selesai": 1, "dibatalkan": 1},
    }
    assert body["peserta"]["jumlah"] == 3
    assert body["peserta"]["per_unsur"]["masyarakat"] == 2 and body["peserta"]["per_unsur"]["polri"] == 1
    assert body["aspirasi"] == {"diterima": 3, "diselesaikan": 2, "tepat_waktu": 1, "terlambat": 1,
                                "persen_tepat_waktu": 50.0}
    assert body["survei"] == {"jumlah_jawaban": 2, "rata_kepercayaan": 4.5, "rata_kepuasan": 4.0}


def test_summary_is_scoped_and_validated(api, finished):
    assert_problem(api.get("/rekap/kegiatan", params={**PERIOD, "kode_wilayah": "36"}, role="pemantau",
                           wilayah="36.71"), 403)
    assert_problem(api.get("/rekap/kegiatan", params={**PERIOD, "sampai": "2026-01-01"}), 400)
    province = api.get("/rekap/kegiatan", params={**PERIOD, "kode_wilayah": "36"}).json()
    assert province["kegiatan"]["jumlah"] == 3


def test_summary_of_one_unit(api, finished, tangerang):
    own = api.get("/rekap/kegiatan", params={**PERIOD, "unit_id": tangerang["id"]}).json()
    assert own["kegiatan"]["jumlah"] == 3 and own["peserta"]["jumlah"] == 3 and own["aspirasi"]["diterima"] == 3
    other = api.get("/rekap/kegiatan", params={**PERIOD, "unit_id": "unit-lain"}).json()
    assert other["kegiatan"]["jumlah"] == 0 and other["survei"]["jumlah_jawaban"] == 0
