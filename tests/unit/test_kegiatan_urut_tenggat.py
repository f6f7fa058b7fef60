"""The officers' inbox order of aspirations (`urut=tenggat`, issue 20) over an in-memory store:
open cases by the deadline they wait on, the most overdue first, then closed ones newest first,
the same across pages and with filters; the stored order kept by every status change, and
given to cases stored without it (or by an older instance) by the backfill. No broker, no
database (tests/integration/test_aspirasi_urut.py runs it on SecantusDB)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import InvalidInput
from services.common.schema import load
from services.kegiatan import domain, usecases
from services.kegiatan.schemas import AspirasiBaruSchema, AspirasiQuerySchema, TindakLanjutSchema
from tests.unit.fake_kegiatan import FakeKegiatanRepository
from tests.unit.fakes import ADMIN, READER, FakeOrganisasi, actor

NOW = datetime(2026, 12, 4, 10, tzinfo=domain.WIB)  # a Friday morning in Jakarta
LATER = NOW + timedelta(hours=3)                    # when the cases are followed up
PLACE = "35.78.01.1001"
PETUGAS = actor("petugas", "35.78.01")               # records for the unit handling PLACE


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def organisasi():
    organisasi = FakeOrganisasi()
    for kode in ("35", "35.78", "35.78.01", PLACE, "35.15", "35.15.01"):
        organisasi.add_wilayah(kode)
    for kode in (None, "35", "35.78", "35.78.01", "35.15"):
        organisasi.add_unit(kode)
    return organisasi


def send(store, organisasi, now, kode_wilayah=PLACE):
    body = {"kode_wilayah": kode_wilayah, "kategori": "keluhan", "isi": "Lampu jalan mati sejak seminggu."}
    receipt = usecases.kirim_aspirasi(load(AspirasiBaruSchema, body), store, organisasi, now, frozenset())
    return store.aspirasi_by_ticket(receipt["nomor_tiket"])["id"]


def follow(store, aspirasi_id, *steps, now=LATER, who=PETUGAS):
    for status, fields in steps:
        data = load(TindakLanjutSchema, {"status": status, **fields})
        usecases.tindaklanjuti_aspirasi(who, aspirasi_id, data, store, READER, now, frozenset())


VERIFIED = ("diverifikasi", {})
IN_THE_FIELD = ("diverifikasi", {"lapangan": True})
REJECTED = ("ditolak", {"catatan": "Bukan wewenang BKPM."})


@pytest.fixture
def inbox(store, organisasi):
    """Seven cases of Karang Pilang, named by where the inbox puts them."""
    cases = {
        "overdue": send(store, organisasi, NOW - timedelta(days=7)),        # to verify by 2 Dec: missed
        "to_verify": send(store, organisasi, NOW),                           # by the end of 9 Dec
        "to_verify_later": send(store, organisasi, NOW + timedelta(days=3)),  # by the end of 10 Dec
        "to_answer": send(store, organisasi, NOW - timedelta(hours=2)),       # verified: answer by 11 Dec
        "field_work": send(store, organisasi, NOW + timedelta(hours=1)),      # verified: answer by 24 Dec
        "rejected": send(store, organisasi, NOW + timedelta(hours=2)),        # closed, the newer
        "done": send(store, organisasi, NOW - timedelta(days=1)),             # closed, the older
    }
    follow(store, cases["to_answer"], VERIFIED)
    follow(store, cases["field_work"], IN_THE_FIELD, ("diproses", {}))
    follow(store, cases["rejected"], REJECTED)
    follow(store, cases["done"], VERIFIED, ("diproses", {}), ("selesai", {}))
    usecases.periksa_tenggat(store, LATER)
    return cases


INBOX = ["overdue", "to_verify", "to_verify_later", "to_answer", "field_work", "rejected", "done"]


def listed(store, who=ADMIN, **query):
    answer = usecases.list_aspirasi(who, load(AspirasiQuerySchema, query), store, READER)
    return [item["id"] for item in answer["items"]]


def named(inbox, ids):
    names = {aspirasi_id: name for name, aspirasi_id in inbox.items()}
    return [names[aspirasi_id] for aspirasi_id in ids]


def test_open_cases_come_by_their_next_deadline_the_most_overdue_first_then_closed_ones_newest_first(store, inbox):
    assert named(inbox, listed(store, urut="tenggat")) == INBOX
    assert store.aspirasi(inbox["overdue"])["terlambat"] == ["verifikasi"]


def test_the_newest_first_stays_the_default(store, inbox):
    newest_first = ["to_verify_later", "rejected", "field_work", "to_verify", "to_answer", "done", "overdue"]
    assert named(inbox, listed(store)) == named(inbox, listed(store, urut="terbaru")) == newest_first


def test_pages_keep_the_order_across_them(store, inbox):
    pages = [listed(store, urut="tenggat", page=page, per_page=3) for page in (1, 2, 3)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert named(inbox, [aspirasi_id for page in pages for aspirasi_id in page]) == INBOX


def test_filters_and_the_callers_area_narrow_the_same_order(store, organisasi, inbox):
    send(store, organisasi, NOW - timedelta(days=30), kode_wilayah="35.15.01")  # Sidoarjo's, most overdue of all
    assert named(inbox, listed(store, PETUGAS, urut="tenggat")) == INBOX
    assert named(inbox, listed(store, urut="tenggat", status="diterima", kode_prefix="35.78")) == [
        "overdue", "to_verify", "to_verify_later"]
    assert named(inbox, listed(store, urut="tenggat", terlambat="false", kategori="keluhan", kode_prefix="35.78")) \
        == INBOX[1:]


def test_an_unknown_order_is_refused():
    with pytest.raises(InvalidInput) as refused:
        load(AspirasiQuerySchema, {"urut": "prioritas"})
    assert refused.value.payload["errors"] == {"urut": ["Harus salah satu dari: terbaru, tenggat."]}


@pytest.mark.parametrize("record, order", [
    ({"status": "diterima", "batas_verifikasi": utc(2026, 12, 9, 17)}, (True, utc(2026, 12, 9, 17))),
    ({"status": "diverifikasi", "batas_verifikasi": utc(2026, 12, 9, 17), "batas_jawaban": utc(2026, 12, 11, 17)},
     (True, utc(2026, 12, 11, 17))),
    ({"status": "diproses", "batas_verifikasi": utc(2026, 12, 9, 17), "batas_jawaban": utc(2026, 12, 11, 17)},
     (True, utc(2026, 12, 11, 17))),
    ({"status": "diproses", "batas_verifikasi": utc(2026, 12, 9, 17), "batas_jawaban": None}, (True, None)),
    ({"status": "selesai", "batas_verifikasi": utc(2026, 12, 9, 17), "batas_jawaban": utc(2026, 12, 11, 17)},
     (False, None)),
    ({"status": "ditolak", "batas_verifikasi": utc(2026, 12, 9, 17), "batas_jawaban": None}, (False, None)),
], ids=["diterima", "diverifikasi", "diproses", "diproses-before-answer-deadlines", "selesai", "ditolak"])
def test_the_stored_order_is_the_deadline_of_the_step_a_case_waits_for(record, order):
    assert domain.inbox_order(record) == dict(zip(("terbuka", "tenggat_berikut"), order, strict=True))


def test_every_status_change_stores_the_order_with_it(store, organisasi):
    aspirasi_id = send(store, organisasi, NOW)

    def stored():
        return {name: store.aspirasi(aspirasi_id)[name] for name in ("terbuka", "tenggat_berikut")}

    assert stored() == {"terbuka": True, "tenggat_berikut": utc(2026, 12, 9, 17)}
    follow(store, aspirasi_id, VERIFIED)
    assert stored() == {"terbuka": True, "tenggat_berikut": utc(2026, 12, 11, 17)}
    follow(store, aspirasi_id, ("diproses", {}))
    assert stored() == {"terbuka": True, "tenggat_berikut": utc(2026, 12, 11, 17)}
    follow(store, aspirasi_id, ("selesai", {}))
    assert stored() == {"terbuka": False, "tenggat_berikut": None}


def test_the_backfill_orders_cases_stored_without_it_or_by_an_older_instance_once(store, organisasi, inbox):
    table = store.tables["aspirasi"]
    for name in ("overdue", "field_work", "done"):  # stored before the order was kept
        for field in ("terbuka", "tenggat_berikut"):
            del table[inbox[name]][field]
    # Followed up by an older instance, which leaves the order as it was.
    table[inbox["to_verify"]].update(status="diverifikasi", batas_jawaban=utc(2026, 12, 16, 17))
    table[inbox["to_verify_later"]].update(status="ditolak")
    assert usecases.isi_urutan_tenggat(store) == 5
    assert usecases.isi_urutan_tenggat(store) == 0
    assert store.aspirasi(inbox["to_verify"])["tenggat_berikut"] == utc(2026, 12, 16, 17)
    assert named(inbox, listed(store, urut="tenggat")) == [
        "overdue", "to_answer", "to_verify", "field_work", "to_verify_later", "rejected", "done"]


def test_the_backfill_leaves_a_case_whose_status_moved_meanwhile_to_its_next_run(store, organisasi, monkeypatch):
    aspirasi_id = send(store, organisasi, NOW)
    del store.tables["aspirasi"][aspirasi_id]["terbuka"]
    stale = store.stale_inbox_order

    def followed_up_meanwhile():
        found = stale()
        store.tables["aspirasi"][aspirasi_id]["status"] = "ditolak"
        return found

    monkeypatch.setattr(store, "stale_inbox_order", followed_up_meanwhile)
    assert usecases.isi_urutan_tenggat(store) == 0
    assert "terbuka" not in store.tables["aspirasi"][aspirasi_id]
    monkeypatch.undo()
    assert usecases.isi_urutan_tenggat(store) == 1
    assert store.aspirasi(aspirasi_id)["terbuka"] is False
