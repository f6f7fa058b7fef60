"""The kegiatan service end to end over HTTP: activities of every kind, their lifecycle and
participants; aspirations from anyone, routed, tracked and followed up within deadlines."""
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import assert_problem, events_fixture, form_units



events = events_fixture("kegiatan.events")


@pytest.fixture(scope="module")
def units(api, national_unit):
    """Jawa Timur -> Kota Surabaya -> Karang Pilang, and Kabupaten Sidoarjo beside Surabaya."""
    return form_units(api, "35", "35.78", "35.78.01", "35.15")


def when(days, hours=0):
    start = datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=7))) + timedelta(days=days, hours=hours)
    return start.isoformat()


def activity(unit, jenis, **fields):
    return {"unit_id": unit["id"], "jenis": jenis, "judul": f"Kegiatan {jenis}", "mulai": when(1),
            "selesai": when(1, 3), "lokasi": {"kode_wilayah": "35.78.01.1001", "alamat": "Balai RW 03"}, **fields}


KINDS = {
    "dialog": {},
    "penyuluhan": {"topik": "narkoba"},
    "patroli_bersama": {"rute": [{"kode_wilayah": "35.78.01.1001"}, {"titik": {"lat": -7.33, "lon": 112.7}}]},
    "bantuan_sosial": {"program_id": "program-sembako-1"},
    "pengembangan_kapasitas": {"materi": "pertolongan_pertama"},
}
REQUIRED = {"penyuluhan": "topik", "patroli_bersama": "rute", "bantuan_sosial": "program_id",
            "pengembangan_kapasitas": "materi"}


@pytest.fixture(scope="module")
def sembako(api, units):
    """A bantuan program a bantuan_sosial activity can name."""
    response = api.post("/bantuan/program", json={
        "nama": "Sembako Surabaya", "jenis": "sembako", "unit_id": units["35.78"]["id"], "mulai": "2026-12-01",
        "selesai": "2026-12-31", "kuota": 100, "wilayah_sasaran": ["35.78"]})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("jenis", list(KINDS))
def test_each_kind_is_scheduled_with_its_own_fields(api, units, events, sembako, jenis):
    fields = {**KINDS[jenis], **({"program_id": sembako["id"]} if jenis == "bantuan_sosial" else {})}
    response = api.post("/kegiatan", json=activity(units["35.78"], jenis, **fields), role="petugas",
                        wilayah="35.78")
    assert response.status_code == 201, response.text
    kegiatan = response.json()
    assert kegiatan["status"] == "direncanakan" and kegiatan["jenis"] == jenis
    for name, value in fields.items():
        assert kegiatan[name] == value
    event = events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan["id"])
    assert len(event) == 1 and event[0]["wilayah"] == "35.78.01.1001"


@pytest.mark.parametrize("jenis", list(REQUIRED))
def test_each_kind_is_refused_without_its_fields(api, units, jenis):
    problem = assert_problem(api.post("/kegiatan", json=activity(units["35.78"], jenis)), 400, "input_tidak_valid")
    assert list(problem["errors"]) == [REQUIRED[jenis]]


@pytest.mark.parametrize("change, field", [
    ({"topik": "lainnya"}, "topik_lainnya"),
    ({"selesai": when(0)}, "selesai"),
    ({"mulai": "2026-12-02T09:00:00"}, "mulai"),            # no time zone
    ({"lokasi": {"kode_wilayah": "35.15.01", "alamat": "x"}}, "lokasi"),  # outside the unit's area
    ({"lokasi": {"kode_wilayah": "35.78.99", "alamat": "x"}}, "lokasi"),  # not in the reference
    ({"unit_id": "tidak-ada"}, "unit_id"),
    ({"jenis": "patroli_bersama", "topik": None, "rute": [{}]}, "rute"),   # a stop needs a place
    ({"jenis": "bantuan_sosial", "topik": None, "program_id": "tidak-ada"}, "program_id"),  # unknown program
])
def test_bad_activities_get_field_messages(api, units, change, field):
    body = {k: v for k, v in {**activity(units["35.78"], "penyuluhan", topik="narkoba"), **change}.items()
            if v is not None}
    problem = assert_problem(api.post("/kegiatan", json=body), 400)
    assert field in problem["errors"], problem


def test_lifecycle_and_its_illegal_transitions(api, units, events):
    kegiatan = api.post("/kegiatan", json=activity(units["35.78.01"], "dialog")).json()
    path = f"/kegiatan/{kegiatan['id']}"
    laporan = {"laporan": {"jumlah_peserta": 40, "ringkasan": "Dialog berjalan baik.", "temuan": []}}
    assert_problem(api.post(f"{path}/selesai", json=laporan), 409, "transisi_tidak_sah")
    assert api.post(f"{path}/mulai").json()["status"] == "berlangsung"
    assert_problem(api.post(f"{path}/mulai"), 409, "transisi_tidak_sah")
    finished = api.post(f"{path}/selesai", json=laporan)
    assert finished.status_code == 200 and finished.json()["laporan"]["jumlah_peserta"] == 40
    assert_problem(api.post(f"{path}/batal", json={"alasan": "hujan"}), 409, "transisi_tidak_sah")
    assert_problem(api.post(f"{path}/mulai"), 409)

    events.wait_for(lambda e: e["type"] == "kegiatan.selesai" and e["data"]["id"] == kegiatan["id"])
    time.sleep(0.5)
    types = [e["type"] for e in events.events() if e["data"]["id"] == kegiatan["id"]]
    assert types == ["kegiatan.dijadwalkan", "kegiatan.dimulai", "kegiatan.selesai"]


def test_cancelling_needs_a_reason_and_works_from_planned_or_running(api, units, events):
    planned = api.post("/kegiatan", json=activity(units["35.78"], "dialog")).json()
    assert_problem(api.post(f"/kegiatan/{planned['id']}/batal", json={}), 400)
    cancelled = api.post(f"/kegiatan/{planned['id']}/batal", json={"alasan": "Banjir"}).json()
    assert cancelled["status"] == "dibatalkan" and cancelled["alasan_batal"] == "Banjir"
    event = events.wait_for(lambda e: e["type"] == "kegiatan.dibatalkan" and e["data"]["id"] == planned["id"])[0]
    assert event["data"]["alasan_batal"] == "Banjir"


def test_participants_and_their_contacts(api, units):
    kegiatan = api.post("/kegiatan", json=activity(units["35.78"], "penyuluhan", topik="terorisme")).json()
    path = f"/kegiatan/{kegiatan['id']}/peserta"
    added = api.post(path, json={"nama": "Ustaz Ahmad", "unsur": "tokoh_agama", "telepon": "081299998888"})
    assert added.status_code == 201, added.text
    assert_problem(api.post(path, json={"nama": "X", "unsur": "artis"}), 400)
    officer = api.get(path, role="petugas", wilayah="35.78").json()
    reader = api.get(path, role="pemantau", wilayah="35.78").json()
    assert officer["items"][0]["telepon"] == "0812-9999-8888"
    assert reader["items"][0]["telepon"] != "081299998888" and reader["total"] == 1
    assert api.get(f"/kegiatan/{kegiatan['id']}").json()["jumlah_peserta_tercatat"] == 1


def test_activities_are_listed_by_filters_within_the_callers_area(api, units):
    sidoarjo = api.post("/kegiatan", json={**activity(units["35.15"], "dialog"),
                                           "lokasi": {"kode_wilayah": "35.15.01", "alamat": "Pendopo"}})
    assert sidoarjo.status_code == 201, sidoarjo.text
    surabaya = api.get("/kegiatan", role="pemantau", wilayah="35.78").json()
    assert surabaya["total"] >= 1 and all(k["lokasi"]["kode_wilayah"].startswith("35.78") for k in surabaya["items"])
    only_penyuluhan = api.get("/kegiatan", params={"jenis": "penyuluhan", "kode_prefix": "35"}).json()
    assert only_penyuluhan["items"] and {k["jenis"] for k in only_penyuluhan["items"]} == {"penyuluhan"}
    by_date = api.get("/kegiatan", params={"dari": when(5), "kode_prefix": "35"}).json()
    assert by_date["total"] == 0
    assert_problem(api.get(f"/kegiatan/{sidoarjo.json()['id']}", role="pemantau", wilayah="35.78"), 403)
    surabaya_dialog = activity(units["35.78"], "dialog")
    assert_problem(api.post("/kegiatan", json=surabaya_dialog, role="petugas", wilayah="35.15"), 403)
    assert_problem(api.post("/kegiatan", json=surabaya_dialog, role="pemantau", wilayah="35.78"), 403)


# Aspirations

def send(api, headers=None, **fields):
    body = {"kode_wilayah": "35.78.01.1001", "kategori": "keluhan", "isi": "Lampu jalan mati sejak seminggu.",
            **fields}
    return api.post("/aspirasi", json=body, role=None, headers=headers)


def test_short_fields_are_one_line_and_free_text_keeps_its_lines_but_no_control_characters(api, units):
    one_line = ["Harus satu baris, tanpa baris baru atau karakter kendali."]
    dialog = activity(units["35.78"], "dialog", judul="Dialog warga\r\nBcc: semua@contoh.id",
                      lokasi={"kode_wilayah": "35.78.01.1001", "alamat": "Balai RW 03\u2028Lantai 2"})
    assert assert_problem(api.post("/kegiatan", json=dialog), 400, "input_tidak_valid")["errors"] == {
        "judul": one_line, "lokasi": {"alamat": one_line}}
    problem = assert_problem(send(api, isi="Lampu mati.\x1b[2J", pelapor={"nama": "Bu Sri\nKlik tautan ini"}), 400)
    assert problem["errors"] == {"isi": ["Tidak boleh memuat karakter kendali (selain baris baru dan tab)."],
                                 "pelapor": {"nama": one_line}}
    assert send(api, isi="Lampu jalan mati.\r\nSudah seminggu.\n\tMohon dibantu.").status_code == 201


def test_anonymous_aspiration_is_routed_tracked_and_followed_up(api, units, events):
    response = send(api, pelapor={"nama": "Bu Sri", "telepon": "081355556666"})
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["status"] == "diterima" and receipt["unit"] == units["35.78.01"]["nama"]
    assert receipt["nomor_tiket"].startswith("ASP-")

    tracked = api.get(f"/aspirasi/lacak/{receipt['nomor_tiket']}", role=None).json()
    assert tracked["status"] == "diterima" and "pelapor" not in tracked and "isi" not in tracked

    [created] = events.wait_for(lambda e: e["type"] == "aspirasi.diterima"
                                and e["data"]["nomor_tiket"] == receipt["nomor_tiket"])
    assert created["data"]["unit_id"] == units["35.78.01"]["id"] and "pelapor" not in created["data"]
    aspirasi_id = created["data"]["id"]

    assert_problem(api.post(f"/aspirasi/{aspirasi_id}/tindak-lanjut", role="petugas", wilayah="35.15",
                            json={"status": "diverifikasi"}), 403)
    assert_problem(api.post(f"/aspirasi/{aspirasi_id}/tindak-lanjut", role="petugas", wilayah="35.78.01",
                            json={"status": "selesai"}), 409, "transisi_tidak_sah")
    for status, catatan, publik in [("diverifikasi", "Dicek ke lokasi oleh Bhabinkamtibmas.", None),
                                    ("diproses", "Sudah dilaporkan ke PLN.", True),
                                    ("selesai", "Lampu sudah menyala kembali.", None)]:
        body = {"status": status, "catatan": catatan, **({"publik": publik} if publik is not None else {})}
        moved = api.post(f"/aspirasi/{aspirasi_id}/tindak-lanjut", role="petugas", wilayah="35.78.01", json=body)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    assert moved.json()["batas_jawaban"]

    tracked = api.get(f"/aspirasi/lacak/{receipt['nomor_tiket']}", role=None).json()
    assert tracked["status"] == "selesai"
    assert [a["catatan"] for a in tracked["jawaban"]] == ["Sudah dilaporkan ke PLN.", "Lampu sudah menyala kembali."]
    updates = events.wait_for(lambda e: e["type"] == "aspirasi.diperbarui" and e["data"]["id"] == aspirasi_id
                              and e["data"]["status_baru"] == "selesai")
    assert updates[0]["data"]["status_lama"] == "diproses"


def test_an_aspiration_links_only_to_a_dialog(api, units):
    patrol = api.post("/kegiatan", json=activity(units["35.78"], "patroli_bersama", **KINDS["patroli_bersama"])).json()
    assert_problem(send(api, kegiatan_id=patrol["id"]), 400)
    dialog = api.post("/kegiatan", json=activity(units["35.78"], "dialog")).json()
    assert send(api, kegiatan_id=dialog["id"]).status_code == 201
    linked = api.get("/aspirasi", params={"kegiatan_id": dialog["id"]}).json()
    assert linked["total"] == 1 and linked["items"][0]["kegiatan_id"] == dialog["id"]


def test_aspiration_goes_to_the_most_specific_unit_that_exists(api, units):
    kecamatan_without_unit = send(api, kode_wilayah="35.78.02").json()   # Wonocolo: no unit -> Surabaya
    assert kecamatan_without_unit["unit"] == units["35.78"]["nama"]
    regency_without_unit = send(api, kode_wilayah="35.07").json()         # Malang: no unit -> Jawa Timur
    assert regency_without_unit["unit"] == units["35"]["nama"]
    assert_problem(send(api, kode_wilayah="35.99"), 400, "input_tidak_valid")


def test_confidential_reporters_stay_inside_the_handling_unit(api, units, events):
    receipt = send(api, rahasia=True, pelapor={"nama": "Saksi", "telepon": "081377778888"}).json()
    [created] = events.wait_for(lambda e: e["type"] == "aspirasi.diterima"
                                and e["data"]["nomor_tiket"] == receipt["nomor_tiket"])
    inside = api.get(f"/aspirasi/{created['data']['id']}", role="petugas", wilayah="35.78.01").json()
    outside = api.get(f"/aspirasi/{created['data']['id']}", role="admin", wilayah="35").json()
    assert inside["pelapor"]["nama"] == "Saksi"
    assert outside["pelapor"] is None


def test_a_late_aspiration_is_flagged_exactly_once(api, units, events, env, gateway):
    from services.common.mongo import connect
    receipt = send(api).json()
    [created] = events.wait_for(lambda e: e["type"] == "aspirasi.diterima"
                                and e["data"]["nomor_tiket"] == receipt["nomor_tiket"])
    client = connect(env["MONGO_URI"])
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    try:  # three working days pass: the deadline is moved, not the clock
        client[f"{env['BKPM_DB_PREFIX']}_kegiatan"].aspirasi.update_one(
            {"_id": created["data"]["id"]}, {"$set": {"batas_verifikasi": an_hour_ago}})
    finally:
        client.close()
    late = events.wait_for(lambda e: e["type"] == "aspirasi.terlambat" and e["data"]["id"] == created["data"]["id"],
                           what="the late flag")
    time.sleep(2)  # several more checks run (every 0.5 s here)
    late = [e for e in events.events("aspirasi.terlambat") if e["data"]["id"] == created["data"]["id"]]
    assert len(late) == 1 and late[0]["data"]["tenggat"] == "verifikasi"
    listed = api.get("/aspirasi", params={"terlambat": "true"}, role="pemantau", wilayah="35.78").json()
    assert created["data"]["id"] in [a["id"] for a in listed["items"]]


def test_anonymous_submissions_are_rate_limited(api, units, env):
    # Without ALTCHA, 30 a minute per address here, counted per gateway worker (memory storage):
    # past 2 x 30 a refusal is certain. The address is the one the trusted proxy reports
    # (TRUSTED_PROXIES=127.0.0.1), so other tests, from 127.0.0.1, keep their own allowance.
    client = {"X-Forwarded-For": "203.0.113.7"}
    workers, limit = int(env.get("GATEWAY_WORKERS", 2)), int(env["ASPIRASI_RATE_LIMIT_TANPA_ALTCHA"].split()[0])
    for n in range(workers * limit + 1):
        response = send(api, headers=client, isi=f"Aspirasi ke-{n}")
        if response.status_code == 429:
            break
    assert_problem(response, 429, "terlalu_banyak_permintaan")
    assert send(api).status_code == 201  # another address is not held back
