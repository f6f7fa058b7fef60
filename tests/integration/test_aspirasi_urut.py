"""The inbox order of aspirations (`GET /api/v1/aspirasi?urut=tenggat`, issue 20) on the real
stack: open cases by the deadline they wait on, a late one first, then closed ones newest first,
the same across pages and with filters, sorted by SecantusDB on the stored order that every
status change keeps; and the backfill that gives that order to cases stored without it, on a
database of its own. Kota Batam (21.71): no other test sends aspirations there."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.common.mongo import connect, ensure_indexes
from services.kegiatan import usecases
from services.kegiatan.repository import ASPIRASI, KegiatanRepository
from tests.support import assert_problem, form_units, wait_until

AREA = "21.71"
CLIENT = {"X-Forwarded-For": "203.0.113.121"}  # the anonymous rate limit counts per address
PETUGAS = {"role": "petugas", "wilayah": AREA}
REJECTED = {"status": "ditolak", "catatan": "Bukan wewenang BKPM."}


@pytest.fixture(scope="module")
def batam(api, national_unit):
    return form_units(api, "21", AREA)[AREA]


def send(api, kecamatan):
    """An aspiration as a citizen sends it, as the API lists it."""
    receipt = api.post("/aspirasi", role=None, headers=CLIENT, json={
        "kode_wilayah": f"{AREA}.{kecamatan}", "kategori": "keluhan", "isi": "Lampu jalan mati sejak seminggu."})
    assert receipt.status_code == 201, receipt.text
    listed = api.get("/aspirasi", params={"kode_prefix": AREA, "per_page": 200}).json()["items"]
    return next(item["id"] for item in listed if item["nomor_tiket"] == receipt.json()["nomor_tiket"])


def follow(api, aspirasi_id, *steps):
    for step in steps:
        moved = api.post(f"/aspirasi/{aspirasi_id}/tindak-lanjut", json=step, **PETUGAS)
        assert moved.status_code == 200, moved.text


@pytest.fixture(scope="module")
def cases(api, batam, env):
    """Seven cases of Batam, sent in this order (the newest last), named by where the inbox
    puts them: the late one missed its verification deadline (moved an hour back with the
    stored order, as three working days passing would have it, not the clock); two wait for
    verification (3 working days), one for its answer (5), one for an answer after field work
    (14); two are closed."""
    names = ("done", "late", "to_verify", "to_answer", "rejected", "field_work", "to_verify_newer")
    ids = {name: send(api, f"0{n % 3 + 1}") for n, name in enumerate(names)}
    follow(api, ids["done"], {"status": "diverifikasi"}, {"status": "diproses"}, {"status": "selesai"})
    follow(api, ids["to_answer"], {"status": "diverifikasi"})
    follow(api, ids["rejected"], REJECTED)
    follow(api, ids["field_work"], {"status": "diverifikasi", "lapangan": True}, {"status": "diproses"})
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    client = connect(env["MONGO_URI"])
    try:
        client[f"{env['BKPM_DB_PREFIX']}_kegiatan"][ASPIRASI].update_one(
            {"_id": ids["late"]}, {"$set": {"batas_verifikasi": an_hour_ago, "tenggat_berikut": an_hour_ago}})
    finally:
        client.close()
    wait_until(lambda: api.get(f"/aspirasi/{ids['late']}").json()["terlambat"] == ["verifikasi"], "the late flag")
    return ids


INBOX = ["late", "to_verify_newer", "to_verify", "to_answer", "field_work", "rejected", "done"]


def named(cases, items):
    names = {aspirasi_id: name for name, aspirasi_id in cases.items()}
    return [names[item["id"]] for item in items]


def page(api, **query):
    answer = api.get("/aspirasi", params={"kode_prefix": AREA, **query}, **PETUGAS)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_inbox_lists_open_cases_by_deadline_a_late_one_first_across_pages(api, cases):
    first, second = (page(api, urut="tenggat", per_page=4, page=n) for n in (1, 2))
    assert first["total"] == second["total"] == 7
    assert named(cases, first["items"]) + named(cases, second["items"]) == INBOX
    assert first["items"][0]["terlambat"] == ["verifikasi"]
    assert [item["status"] for item in second["items"]] == ["diproses", "ditolak", "selesai"]


def test_the_newest_first_stays_the_default(api, cases):
    newest_first = ["to_verify_newer", "field_work", "rejected", "to_answer", "to_verify", "late", "done"]
    assert named(cases, page(api)["items"]) == named(cases, page(api, urut="terbaru")["items"]) == newest_first


def test_filters_narrow_the_same_order(api, cases):
    assert named(cases, page(api, urut="tenggat", status="diterima")["items"]) == ["late", "to_verify_newer",
                                                                                   "to_verify"]
    assert named(cases, page(api, urut="tenggat", terlambat="false", per_page=3, page=2)["items"]) == [
        "field_work", "rejected", "done"]


def test_an_unknown_order_is_refused(api, batam):
    problem = assert_problem(api.get("/aspirasi", params={"urut": "prioritas"}), 400, "input_tidak_valid")
    assert problem["errors"] == {"urut": ["Harus salah satu dari: terbaru, tenggat."]}


def test_the_service_made_the_inbox_index(env, cases):
    client = connect(env["MONGO_URI"])
    try:
        indexes = {index["name"]: list(index["key"].items())
                   for index in client[f"{env['BKPM_DB_PREFIX']}_kegiatan"][ASPIRASI].list_indexes()}
    finally:
        client.close()
    assert indexes["wilayah_tenggat"] == [("kode_wilayah", 1), ("terbuka", -1), ("tenggat_berikut", 1),
                                          ("diterima", -1)]


# The backfill, on a database of its own

T0 = datetime(2026, 12, 1, 3, tzinfo=timezone.utc)


@pytest.fixture
def repository(mongo_uri):
    client = connect(mongo_uri)
    db = client[f"urut_{uuid.uuid4().hex[:8]}"]
    ensure_indexes(db, KegiatanRepository.INDEXES)
    yield KegiatanRepository(db, None)
    client.drop_database(db.name)
    client.close()


def stored(n, status, verify_in, answer_in=None, **order):
    """A case as an older version stored it (or with the inbox `order` given): received n hours
    after T0, to verify within `verify_in` days and, once verified, answer within `answer_in`."""
    return {"_id": f"asp-{n}", "nomor_tiket": f"ASP-{n}", "kode_wilayah": "21.71.01", "status": status,
            "diterima": T0 + timedelta(hours=n), "batas_verifikasi": T0 + timedelta(days=verify_in),
            "batas_jawaban": None if answer_in is None else T0 + timedelta(days=answer_in), "terlambat": [],
            "riwayat": [], **order}


def test_the_backfill_orders_what_older_versions_stored_once(repository):
    repository.db[ASPIRASI].insert_many([
        stored(0, "diterima", 3),                                    # before the order was kept
        stored(1, "diverifikasi", 1, 9),
        stored(2, "selesai", 2, 4),
        stored(3, "diterima", 2, terbuka=True, tenggat_berikut=T0 + timedelta(days=2)),   # kept already
        # Verified and closed by an older instance, which left the order of a case to verify.
        stored(4, "diverifikasi", 1, 5, terbuka=True, tenggat_berikut=T0 + timedelta(days=1)),
        stored(5, "ditolak", 4, terbuka=True, tenggat_berikut=T0 + timedelta(days=4)),
        stored(6, "ditolak", 1, terbuka=False, tenggat_berikut=None),
    ])
    assert usecases.isi_urutan_tenggat(repository) == 5
    assert usecases.isi_urutan_tenggat(repository) == 0
    items, total = repository.find_aspirasi("21.71", {}, 1, 4, urut="tenggat")
    rest, _ = repository.find_aspirasi("21.71", {}, 2, 4, urut="tenggat")
    assert total == 7
    assert [(a["id"], a["terbuka"], a["tenggat_berikut"]) for a in items + rest] == [
        ("asp-3", True, T0 + timedelta(days=2)), ("asp-0", True, T0 + timedelta(days=3)),
        ("asp-4", True, T0 + timedelta(days=5)), ("asp-1", True, T0 + timedelta(days=9)),
        ("asp-6", False, None), ("asp-5", False, None), ("asp-2", False, None)]
