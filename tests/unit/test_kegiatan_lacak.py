"""Public tracking of an aspiration by its ticket (what the citizens' portal draws its timeline
from): every status change, the public answers under them, which steps missed their
SP4N-LAPOR! deadline, the province for the clock; never the reporter, the text, an internal
note or who made a step. Over the in-memory store, no broker, no database."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from services.common.schema import load
from services.kegiatan import domain, usecases
from services.kegiatan.schemas import AspirasiBaruSchema, TindakLanjutSchema
from tests.unit.fake_kegiatan import FakeKegiatanRepository
from tests.unit.fakes import READER, FakeOrganisasi, actor

NOW = datetime(2026, 12, 4, 10, tzinfo=domain.WIB)           # a Friday morning in Jakarta
VERIFY_BY = datetime(2026, 12, 9, 17, tzinfo=timezone.utc)   # the end of the third working day after it
ANSWER_BY = datetime(2026, 12, 11, 17, tzinfo=timezone.utc)  # five working days after verifying at NOW
PLACE = "35.78.01.1001"
PETUGAS = actor("petugas", "35.78.01", sub="petugas-karang-pilang")
NAMA, PHONE, EMAIL = "Sri Wahyuni", "081299998888", "warga@contoh.id"
ISI = "Lampu jalan di gang Melati mati sejak seminggu."
INTERNAL = "Catatan kerja: telepon pelapor, rumahnya di gang Melati no. 7."


@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def ticket(store):
    """A confidential aspiration with a reporter who left every contact; its ticket number."""
    organisasi = FakeOrganisasi()
    for kode in ("35", "35.78", "35.78.01", PLACE):
        organisasi.add_wilayah(kode)
    organisasi.add_unit("35.78.01")
    body = {"kode_wilayah": PLACE, "kategori": "keluhan", "isi": ISI, "rahasia": True,
            "pelapor": {"nama": NAMA, "telepon": PHONE, "email": EMAIL}}
    receipt = usecases.kirim_aspirasi(load(AspirasiBaruSchema, body), store, organisasi, NOW, frozenset())
    return receipt["nomor_tiket"]


def follow(store, nomor, status, now, **fields):
    aspirasi = store.aspirasi_by_ticket(nomor)
    data = load(TindakLanjutSchema, {"status": status, **fields})
    usecases.tindaklanjuti_aspirasi(PETUGAS, aspirasi["id"], data, store, READER, now, frozenset())


def test_every_status_change_is_tracked_with_its_public_answer_and_none_of_the_internal_notes(store, ticket):
    follow(store, ticket, "diverifikasi", NOW + timedelta(hours=2), catatan=INTERNAL)
    follow(store, ticket, "diproses", NOW + timedelta(days=1), catatan="Sudah dilaporkan ke PLN.", publik=True)
    follow(store, ticket, "selesai", ANSWER_BY + timedelta(hours=1), catatan="Lampu menyala kembali.")
    tracked = usecases.get_tiket(ticket, store)
    assert tracked["status"] == "selesai" and tracked["kode_provinsi"] == "35"
    assert tracked["riwayat"] == [
        {"status": "diverifikasi", "waktu": (NOW + timedelta(hours=2)).isoformat(), "jawaban_publik": None,
         "terlambat": False},
        # From verified to in progress no deadline applies: neither late nor on time.
        {"status": "diproses", "waktu": (NOW + timedelta(days=1)).isoformat(),
         "jawaban_publik": "Sudah dilaporkan ke PLN.", "terlambat": None},
        {"status": "selesai", "waktu": (ANSWER_BY + timedelta(hours=1)).isoformat(),
         "jawaban_publik": "Lampu menyala kembali.", "terlambat": True},
    ]
    # The answers as before, for clients that read only them.
    assert [a["catatan"] for a in tracked["jawaban"]] == ["Sudah dilaporkan ke PLN.", "Lampu menyala kembali."]
    assert tracked["batas_jawaban"] == ANSWER_BY.isoformat()


def test_tracking_tells_nothing_about_the_reporter_the_text_the_village_or_who_worked_on_it(store, ticket):
    follow(store, ticket, "diverifikasi", NOW, catatan=INTERNAL, publik=False)
    tracked = usecases.get_tiket(ticket, store)
    assert set(tracked) == {"nomor_tiket", "kategori", "status", "kode_provinsi", "diterima", "batas_verifikasi",
                            "batas_jawaban", "jawaban", "riwayat"}
    assert {key for step in tracked["riwayat"] for key in step} == {"status", "waktu", "jawaban_publik", "terlambat"}
    text = json.dumps(tracked)
    for secret in (NAMA, PHONE, "+6281299998888", EMAIL, ISI, INTERNAL, "gang Melati", PETUGAS.sub,
                   "35.78", PLACE, "unit-"):
        assert secret not in text, secret


@pytest.mark.parametrize("when, late", [(VERIFY_BY - timedelta(seconds=1), False), (VERIFY_BY, True)],
                         ids=["before-the-deadline", "at-the-deadline"])
def test_a_step_out_of_received_answers_to_the_verification_deadline(store, ticket, when, late):
    follow(store, ticket, "ditolak", when, catatan="Bukan wewenang Polri; silakan ke kelurahan.")
    [step] = usecases.get_tiket(ticket, store)["riwayat"]
    assert (step["status"], step["terlambat"]) == ("ditolak", late)
    assert step["jawaban_publik"] == "Bukan wewenang Polri; silakan ke kelurahan."  # a rejection is public


def test_a_ticket_not_yet_followed_up_has_no_steps(store, ticket):
    tracked = usecases.get_tiket(ticket, store)
    assert tracked["riwayat"] == [] and tracked["jawaban"] == [] and tracked["status"] == "diterima"
    assert tracked["batas_verifikasi"] == VERIFY_BY.isoformat() and tracked["batas_jawaban"] is None
