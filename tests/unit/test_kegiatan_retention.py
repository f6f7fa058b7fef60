"""A reporter's name and contacts are erased PELAPOR_RETENTION_DAYS after their aspiration is
closed (UU No. 27/2022), once, with an internal event for the services that copied them; the
aspiration keeps everything else. Over kegiatan's in-memory store."""
from datetime import datetime, timedelta

import pytest

from services.common.schema import load
from services.kegiatan import domain, usecases
from services.kegiatan.repository import ASPIRASI
from services.kegiatan.schemas import AspirasiBaruSchema, TindakLanjutSchema
from tests.unit.fake_kegiatan import FakeKegiatanRepository
from tests.unit.fakes import READER, FakeOrganisasi, actor

CLOSED = datetime(2026, 12, 4, 10, tzinfo=domain.WIB)
RETENTION = timedelta(days=365)
PLACE = "35.78.01.1001"
PETUGAS = actor("petugas", "35.78.01")
PELAPOR = {"nama": "Siti Aminah", "telepon": "081234567890", "email": "siti@contoh.id"}
STORED = {**PELAPOR, "telepon": "+6281234567890"}  # the phone in E.164


@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def organisasi():
    organisasi = FakeOrganisasi()
    for kode in ("35", "35.78", "35.78.01", PLACE):
        organisasi.add_wilayah(kode)
    organisasi.add_unit("35.78.01")
    return organisasi


def reported(store, organisasi, *steps, pelapor=PELAPOR):
    """An aspiration taken through `steps` (status, note) at CLOSED; its stored record."""
    body = {"kode_wilayah": PLACE, "kategori": "keluhan", "isi": "Lampu jalan mati.",
            **({"pelapor": pelapor} if pelapor else {})}
    receipt = usecases.kirim_aspirasi(load(AspirasiBaruSchema, body), store, organisasi, CLOSED - timedelta(days=3),
                                      frozenset())
    aspirasi = store.aspirasi_by_ticket(receipt["nomor_tiket"])
    for status, catatan in steps:
        usecases.tindaklanjuti_aspirasi(PETUGAS, aspirasi["id"], load(TindakLanjutSchema, {
            "status": status, "catatan": catatan}), store, READER, CLOSED, frozenset())
    return store.aspirasi(aspirasi["id"])


SOLVED = (("diverifikasi", "Dicek."), ("diproses", "Ke PLN."), ("selesai", "Menyala."))


def erasures(store):
    return [event for event in store.uow.events if event["type"] == "aspirasi.pelapor_dihapus"]


def test_the_reporter_is_erased_a_retention_after_the_case_closes_and_nothing_else(store, organisasi):
    before = reported(store, organisasi, *SOLVED)
    assert before["ditutup"] == CLOSED
    assert usecases.hapus_pelapor_lama(store, RETENTION, CLOSED + RETENTION - timedelta(seconds=1)) == 0
    assert store.aspirasi(before["id"])["pelapor"] == STORED and not erasures(store)

    moment = CLOSED + RETENTION
    assert usecases.hapus_pelapor_lama(store, RETENTION, moment) == 1
    after = store.aspirasi(before["id"])
    assert after == {**before, "pelapor": None, "pelapor_dihapus": moment}
    [event] = erasures(store)
    assert event["data"] == {"id": before["id"], "kode_wilayah": PLACE}
    assert event["public"] is None and event["wilayah"] == PLACE  # internal: never on the public feed
    # Staff see that it was erased, and notifikasi gets no contact any more.
    shown = usecases.get_aspirasi(PETUGAS, before["id"], store, READER)
    assert shown["pelapor"] is None and shown["pelapor_dihapus"] == moment.isoformat()
    assert usecases.get_kontak_pelapor(before["id"], store, READER) is None


def test_erasing_again_changes_nothing_and_tells_nobody(store, organisasi):
    reported(store, organisasi, *SOLVED)
    later = CLOSED + RETENTION + timedelta(days=1)
    assert [usecases.hapus_pelapor_lama(store, RETENTION, later) for _ in range(3)] == [1, 0, 0]
    assert len(erasures(store)) == 1


def test_rejected_aspirations_are_closed_too_and_open_or_anonymous_ones_are_left(store, organisasi):
    rejected = reported(store, organisasi, ("ditolak", "Bukan wewenang kami."))
    open_one = reported(store, organisasi, ("diverifikasi", "Dicek."))
    anonymous = reported(store, organisasi, *SOLVED, pelapor=None)
    assert usecases.hapus_pelapor_lama(store, RETENTION, CLOSED + 3 * RETENTION) == 1
    assert store.aspirasi(rejected["id"])["pelapor"] is None
    assert store.aspirasi(open_one["id"])["pelapor"] == STORED
    assert "pelapor_dihapus" not in store.aspirasi(anonymous["id"])
    assert [event["data"]["id"] for event in erasures(store)] == [rejected["id"]]


def test_one_closed_before_its_closing_time_was_recorded_takes_it_from_its_history(store, organisasi):
    legacy = reported(store, organisasi, *SOLVED)
    del store.tables[ASPIRASI][legacy["id"]]["ditutup"]
    assert usecases.hapus_pelapor_lama(store, RETENTION, CLOSED + timedelta(days=30)) == 0
    assert store.aspirasi(legacy["id"])["ditutup"] == CLOSED  # not looked at again before its time
    assert usecases.hapus_pelapor_lama(store, RETENTION, CLOSED + RETENTION) == 1
