"""Retention and erasure of personal data (UU No. 27/2022), end to end: an admin erases an aid
recipient on request through the gateway, and a reporter's contacts go a retention after their
aspiration closed; notifikasi's delivery log, which copied them, obeys both events."""
import uuid
from datetime import timedelta

import pytest

from services.common.mongo import connect, utcnow
from tests.nik import recipient
from tests.support import assert_problem, form_units, start_service, wait_until

MANADO, BITUNG = "71.71", "71.72"
VILLAGE = "71.71.01.1001"
PHONE, PHONE_E164 = "081371000101", "+6281371000101"  # as typed, and as stored and sent
PERSONAL = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "alamat", "telepon")


@pytest.fixture(scope="module")
def databases(env):
    client = connect(env["MONGO_URI"])
    yield {name: client[f"{env['BKPM_DB_PREFIX']}_{name}"] for name in ("kegiatan", "notifikasi")}
    client.close()


@pytest.fixture(scope="module")
def manado(api, national_unit):
    return form_units(api, "71", MANADO, BITUNG)[MANADO]


def created(response):
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_an_admin_erases_a_recipient_whose_distribution_stays_counted_and_notifikasi_forgets_their_phone(
        api, manado, databases):
    program = created(api.post("/bantuan/program", json={
        "nama": "Sembako Manado", "jenis": "sembako", "unit_id": manado["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 10, "wilayah_sasaran": [MANADO]}))
    created(api.post(f"/bantuan/program/{program['id']}/aktifkan"))
    person = recipient(8101, village=VILLAGE, telepon=PHONE)
    penerima = created(api.post("/bantuan/penerima", json=person))
    created(api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                  "tanggal": "2026-06-01", "jenis_bukti": "voucher",
                                                  "bukti": "VCR-8101"}))
    log = databases["notifikasi"].pengiriman
    wait_until(lambda: log.find_one({"penerima": f"penerima:{penerima['id']}", "tujuan": PHONE_E164}),
               "the receipt to the recipient in notifikasi's log")

    request = {"alasan": "Surat permintaan No. 7/2026."}
    at = f"/bantuan/penerima/{penerima['id']}/hapus"
    assert_problem(api.post(at, json=request, role="petugas", wilayah=MANADO), 403)
    assert_problem(api.post(at, json=request, role="admin", wilayah=BITUNG), 404)
    erased = created(api.post(at, json=request, role="admin", wilayah=MANADO))
    assert {name: erased[name] for name in PERSONAL} == dict.fromkeys(PERSONAL) and erased["dihapus"]
    assert_problem(api.post(at, json=request, role="admin", wilayah=MANADO), 409, "sudah_dihapus")

    shown = created(api.get(f"/bantuan/penerima/{penerima['id']}"))
    assert not {person[name] for name in ("nik", "no_kk", "nama", "alamat", "telepon")} & set(map(str, shown.values()))
    assert created(api.get(f"/bantuan/program/{program['id']}"))["tersalur"] == 1
    assert created(api.get(f"/bantuan/program/{program['id']}/rekap"))["per_wilayah"][VILLAGE] == 1
    trail = created(api.get(f"/bantuan/audit/{penerima['id']}"))
    assert [entry["aksi"] for entry in trail] == ["didaftarkan", "dihapus"] and trail[-1]["baru"] == request
    # The person is no longer registered: they may be again, as a new record.
    assert created(api.post("/bantuan/penerima", json=person))["id"] != penerima["id"]

    wait_until(lambda: not log.find_one({"penerima": f"penerima:{penerima['id']}", "tujuan": {"$ne": None}}),
               "notifikasi to forget the recipient's phone")
    entries = list(log.find({"penerima": f"penerima:{penerima['id']}"}))
    assert entries and all(PHONE_E164 not in str(entry) and person["nama"] not in str(entry) for entry in entries)


def closed_aspiration(closed, **fields):
    return {"_id": str(uuid.uuid4()), "nomor_tiket": f"ASP-{uuid.uuid4().hex[:10].upper()}", "kategori": "keluhan",
            "isi": "Lampu jalan mati.", "kode_wilayah": VILLAGE, "unit_id": "unit-manado", "unit_kode": MANADO,
            "kegiatan_id": None, "rahasia": False, "status": "selesai", "diterima": closed - timedelta(days=5),
            "batas_verifikasi": closed, "batas_jawaban": closed, "terlambat": [], "ditutup": closed,
            "riwayat": [{"status_lama": "diproses", "status_baru": "selesai", "catatan": "Menyala.", "publik": True,
                         "oleh": "petugas", "waktu": closed}],
            "pelapor": {"nama": "Ibu Pelapor", "telepon": PHONE, "email": "pelapor@contoh.id"}, **fields}


def delivery_to(aspirasi):
    event_id = f"event-{aspirasi['_id']}"
    return {"_id": f"{event_id}:pelapor:{aspirasi['_id']}:whatsapp", "event_id": event_id,
            "event_type": "aspirasi.diterima", "wilayah": VILLAGE, "penerima": f"pelapor:{aspirasi['_id']}",
            "nama": "Bapak/Ibu Pelapor", "akun": None, "pesan": "aspirasi.diterima.pelapor", "kanal": "whatsapp",
            "tujuan": PHONE, "cadangan": [["email", "pelapor@contoh.id"]], "konteks": {}, "status": "terkirim",
            "percobaan": 1, "galat_terakhir": None, "berikutnya": None, "dibuat": utcnow(), "diperbarui": utcnow()}


def test_a_reporter_is_erased_a_retention_after_the_case_closed_and_notifikasi_forgets_them(
        env, gateway, api, logs, databases):
    """Seeded straight in the databases: one aspiration closed longer than the default year
    ago, one closed lately. A second kegiatan instance runs the hourly timer as it starts."""
    old = closed_aspiration(utcnow() - timedelta(days=366))
    recent = closed_aspiration(utcnow() - timedelta(days=300))
    databases["kegiatan"].aspirasi.insert_many([old, recent])
    notifikasi = databases["notifikasi"]
    notifikasi.pengiriman.insert_many([delivery_to(old), delivery_to(recent)])
    notifikasi.alamat_diberitahu.insert_one({"_id": f"{'0' * 64}:pelapor:{old['_id']}", "dibuat": utcnow(),
                                             "penerima": f"pelapor:{old['_id']}"})

    kegiatan = start_service("kegiatan", env, logs, name="kegiatan-retensi")
    try:
        wait_until(lambda: databases["kegiatan"].aspirasi.find_one({"_id": old["_id"], "pelapor": None}),
                   "the old reporter erased")
    finally:
        kegiatan.stop()
    kept = databases["kegiatan"].aspirasi.find_one({"_id": old["_id"]})
    assert kept["pelapor_dihapus"] and (kept["isi"], kept["status"], len(kept["riwayat"])) == (
        old["isi"], "selesai", 1)
    assert databases["kegiatan"].aspirasi.find_one({"_id": recent["_id"]})["pelapor"] == recent["pelapor"]
    shown = created(api.get(f"/aspirasi/{old['_id']}"))
    assert shown["pelapor"] is None and shown["pelapor_dihapus"]

    wait_until(lambda: notifikasi.pengiriman.find_one({"_id": delivery_to(old)["_id"], "tujuan": None}),
               "notifikasi to forget the reporter's address")
    forgotten = notifikasi.pengiriman.find_one({"_id": delivery_to(old)["_id"]})
    assert PHONE not in str(forgotten) and "pelapor@contoh.id" not in str(forgotten)
    assert forgotten["status"] == "terkirim"
    assert notifikasi.alamat_diberitahu.find_one({"penerima": f"pelapor:{old['_id']}"}) is None
    assert notifikasi.pengiriman.find_one({"_id": delivery_to(recent)["_id"]})["tujuan"] == PHONE
