"""kegiatan's use cases over an in-memory store: who may record activities, participants and
follow-ups where, what is refused and why, which event each change emits, what answers mask,
and the deadlines of aspirations. No broker, no database."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.common.schema import PageQuerySchema, load
from services.kegiatan import domain, usecases
from services.kegiatan.schemas import (AspirasiBaruSchema, AspirasiQuerySchema, KegiatanBaruSchema,
                                       KegiatanQuerySchema, RekapQuerySchema, SelesaiKegiatanSchema, SurveiSchema,
                                       TindakLanjutSchema)
from tests.unit.fake_kegiatan import FakeBantuan, FakeKegiatanRepository
from tests.unit.fakes import ADMIN, READER, FakeOrganisasi, actor

WIB = domain.WIB
NOW = datetime(2026, 12, 4, 10, tzinfo=WIB)                 # a Friday morning in Jakarta
VERIFY_BY = datetime(2026, 12, 9, 17, tzinfo=timezone.utc)  # the end of the third working day after it
PAGE = {"page": 1, "per_page": 20}
PLACE = "35.78.01.1001"
PETUGAS = actor("petugas", "35.78")        # records for Surabaya
PEMANTAU = actor("pemantau", "35.78")      # reads Surabaya
SIDOARJO = actor("petugas", "35.15")       # records next door
KECAMATAN = actor("petugas", "35.78.01")   # records for Karang Pilang, which handles aspirations from PLACE
PHONE, EMAIL = "081299998888", "warga@contoh.id"
# PHONE as stored and handed to notifikasi, as shown, and as shown masked.
E164, LOCAL, MASKED = "+6281299998888", "0812-9999-8888", "0812******88"
LAPORAN = {"laporan": {"jumlah_peserta": 3, "ringkasan": "Dialog kamtibmas."}}


@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def organisasi():
    """Jawa Timur -> Kota Surabaya -> Karang Pilang, and Kabupaten Sidoarjo; 35.78.09 is retired."""
    organisasi = FakeOrganisasi()
    for kode in ("35", "35.78", "35.78.01", PLACE, "35.78.02", "35.15", "35.15.01"):
        organisasi.add_wilayah(kode)
    organisasi.add_wilayah("35.78.09", "Kelurahan Lama", aktif=False)
    for kode in (None, "35", "35.78", "35.78.01", "35.15"):
        organisasi.add_unit(kode)
    return organisasi


@pytest.fixture
def bantuan():
    return FakeBantuan("program-sembako")


@pytest.fixture
def schedule(store, organisasi, bantuan):
    """schedule(jenis="dialog", who=PETUGAS, unit="35.78", **fields): a new activity, as its
    entrypoint validates it."""
    def schedule(jenis="dialog", who=PETUGAS, unit="35.78", **fields):
        return usecases.buat_kegiatan(who, activity(organisasi, jenis, unit, **fields), store, organisasi, bantuan)
    return schedule


def activity(organisasi, jenis="dialog", unit="35.78", **fields):
    body = {"unit_id": f"unit-{unit}", "jenis": jenis, "judul": f"Kegiatan {jenis}",
            "mulai": "2026-12-05T09:00:00+07:00", "selesai": "2026-12-05T12:00:00+07:00",
            "lokasi": {"kode_wilayah": PLACE, "alamat": "Balai RW 03"}, **fields}
    return load(KegiatanBaruSchema, body)


def refused(error_class, func, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        func(*args, **kwargs)
    return caught.value.payload


def finished(store, kegiatan, who=PETUGAS):
    usecases.mulai_kegiatan(who, kegiatan["id"], store)
    return usecases.selesaikan_kegiatan(who, kegiatan["id"], load(SelesaiKegiatanSchema, LAPORAN), store)


def send(store, organisasi, now=NOW, holidays=frozenset(), **fields):
    body = {"kode_wilayah": PLACE, "kategori": "keluhan", "isi": "Lampu jalan mati sejak seminggu.", **fields}
    return usecases.kirim_aspirasi(load(AspirasiBaruSchema, body), store, organisasi, now, holidays)


LISTS = {"kegiatan": (usecases.list_kegiatan, KegiatanQuerySchema),
         "aspirasi": (lambda *args: usecases.list_aspirasi(*args, READER), AspirasiQuerySchema)}


def listed(what, who, store, **query):
    """The ids of the records a list shows `who` for `query`, validated as its entrypoint does."""
    list_of, schema = LISTS[what]
    return [record["id"] for record in list_of(who, load(schema, query), store)["items"]]


def received(store, receipt):
    return store.aspirasi_by_ticket(receipt["nomor_tiket"])


def follow(store, aspirasi, status, who=KECAMATAN, now=NOW, **fields):
    data = load(TindakLanjutSchema, {"status": status, **fields})
    return usecases.tindaklanjuti_aspirasi(who, aspirasi["id"], data, store, READER, now, frozenset())


# Activities

def test_an_activity_is_scheduled_and_announced_where_it_happens(store, schedule):
    kegiatan = schedule()
    assert kegiatan["status"] == "direncanakan" and kegiatan["unit_kode"] == "35.78"
    assert store.kegiatan(kegiatan["id"])["dibuat_oleh"] == PETUGAS.sub
    [event] = store.uow.events
    assert (event["type"], event["subject"], event["wilayah"]) == (
        "kegiatan.dijadwalkan", f"kegiatan/{kegiatan['id']}", PLACE)
    assert event["data"]["id"] == kegiatan["id"] and event["data"]["unit_id"] == "unit-35.78"
    assert event["public"]["lokasi"]["kode_wilayah"] == PLACE


@pytest.mark.parametrize("who", [PEMANTAU, SIDOARJO, actor("petugas", "35.78.01"), actor("admin", "36")],
                         ids=["reader", "next-door", "below-the-unit", "another-province"])
def test_activities_are_scheduled_only_by_recorders_covering_the_unit(store, schedule, who):
    refused(Forbidden, schedule, who=who)
    assert store.uow.events == [] and store.rows("kegiatan") == []


@pytest.mark.parametrize("change, errors", [
    ({"unit_id": "unit-tidak-ada"}, {"unit_id": ["Unit unit-tidak-ada tidak ditemukan."]}),
    ({"lokasi": {"kode_wilayah": "35.78.99", "alamat": "x"}},
     {"lokasi": {"kode_wilayah": ["Kode wilayah 35.78.99 tidak ada dalam referensi wilayah Kemendagri."]}}),
    ({"lokasi": {"kode_wilayah": "35.78.09", "alamat": "x"}},
     {"lokasi": {"kode_wilayah": [
         "Kode wilayah 35.78.09 (Kelurahan Lama) sudah tidak berlaku dalam daftar resmi terbaru."]}}),
    ({"lokasi": {"kode_wilayah": "35.15.01", "alamat": "x"}},
     {"lokasi": {"kode_wilayah": ["Lokasi 35.15.01 berada di luar wilayah unit (35.78)."]}}),
    ({"jenis": "penyuluhan"}, {"topik": ["Wajib diisi untuk kegiatan penyuluhan."]}),
    ({"jenis": "bantuan_sosial", "program_id": "program-tidak-ada"},
     {"program_id": ["Program bantuan program-tidak-ada tidak ditemukan."]}),
])
def test_a_bad_activity_is_a_field_error(store, organisasi, bantuan, change, errors):
    data = activity(organisasi, **change)
    payload = refused(InvalidInput, usecases.buat_kegiatan, ADMIN, data, store, organisasi, bantuan)
    assert payload["errors"] == errors
    assert store.uow.events == []


def test_a_social_aid_activity_names_a_program_bantuan_knows(schedule, store):
    kegiatan = schedule("bantuan_sosial", program_id="program-sembako")
    assert kegiatan["program_id"] == "program-sembako"
    assert store.uow.events[-1]["data"]["program_id"] == "program-sembako"


@pytest.mark.parametrize("which", ["organisasi", "bantuan"])
def test_nothing_is_scheduled_while_a_service_asked_is_down(store, organisasi, bantuan, which):
    {"organisasi": organisasi, "bantuan": bantuan}[which].down = True
    data = activity(organisasi, "bantuan_sosial", program_id="program-sembako")
    refused(Unavailable, usecases.buat_kegiatan, ADMIN, data, store, organisasi, bantuan)
    assert store.rows("kegiatan") == []


def test_activities_are_seen_and_listed_within_the_callers_area(store, schedule):
    surabaya = schedule()
    sidoarjo = schedule("penyuluhan", who=SIDOARJO, unit="35.15", topik="narkoba",
                        lokasi={"kode_wilayah": "35.15.01", "alamat": "Pendopo"})
    assert usecases.get_kegiatan(PEMANTAU, surabaya["id"], store)["id"] == surabaya["id"]
    refused(Forbidden, usecases.get_kegiatan, PEMANTAU, sidoarjo["id"], store)
    refused(NotFound, usecases.get_kegiatan, PEMANTAU, "kegiatan-tidak-ada", store)
    assert listed("kegiatan", PEMANTAU, store) == [surabaya["id"]]
    assert listed("kegiatan", ADMIN, store, jenis="penyuluhan") == [sidoarjo["id"]]
    assert listed("kegiatan", ADMIN, store, kode_prefix="35.15") == [sidoarjo["id"]]
    assert listed("kegiatan", ADMIN, store, dari="2026-12-05T09:00:00+07:00", sampai="2026-12-05T09:00:01+07:00") \
        == sorted([surabaya["id"], sidoarjo["id"]])
    assert listed("kegiatan", ADMIN, store, sampai="2026-12-05T09:00:00+07:00") == []
    refused(Forbidden, usecases.list_kegiatan, PEMANTAU, load(KegiatanQuerySchema, {"kode_prefix": "35.15"}), store)


# The lifecycle

def test_an_activity_starts_finishes_and_hands_out_survey_codes(store, schedule):
    kegiatan = schedule()
    started = usecases.mulai_kegiatan(PETUGAS, kegiatan["id"], store)
    assert started["status"] == "berlangsung"
    assert store.kegiatan(kegiatan["id"])["berlangsung_oleh"] == PETUGAS.sub
    done = usecases.selesaikan_kegiatan(PETUGAS, kegiatan["id"],
                                        load(SelesaiKegiatanSchema, {"laporan": {**LAPORAN["laporan"],
                                                                                 "jumlah_peserta": 5}}), store)
    assert done["status"] == "selesai" and done["laporan"]["jumlah_peserta"] == 5
    assert len(store.unused_survey_codes(kegiatan["id"])[0]) == 5
    assert store.uow.types() == ["kegiatan.dijadwalkan", "kegiatan.dimulai", "kegiatan.selesai"]
    end = store.uow.events[-1]
    assert (end["subject"], end["wilayah"]) == (f"kegiatan/{kegiatan['id']}", PLACE)
    assert end["data"]["laporan"]["ringkasan"] == "Dialog kamtibmas." and "laporan" not in end["public"]


def test_survey_codes_cover_the_registered_participants_when_more_came(store, schedule):
    kegiatan = schedule()
    for nama in ("A", "B", "C", "D"):
        usecases.tambah_peserta(PETUGAS, kegiatan["id"], {"nama": nama, "unsur": "masyarakat"}, store)
    finished(store, kegiatan)  # the report counts 3
    assert len(store.unused_survey_codes(kegiatan["id"])[0]) == 4


@pytest.mark.parametrize("started", [False, True], ids=["planned", "running"])
def test_an_activity_is_cancelled_with_its_reason(store, schedule, started):
    kegiatan = schedule()
    if started:
        usecases.mulai_kegiatan(PETUGAS, kegiatan["id"], store)
    cancelled = usecases.batalkan_kegiatan(PETUGAS, kegiatan["id"], {"alasan": "Banjir"}, store)
    assert cancelled["status"] == "dibatalkan" and cancelled["alasan_batal"] == "Banjir"
    event = store.uow.events[-1]
    assert event["type"] == "kegiatan.dibatalkan" and event["wilayah"] == PLACE
    assert event["data"]["alasan_batal"] == "Banjir" and "alasan_batal" not in event["public"]


@pytest.mark.parametrize("steps, action, status, label", [
    ((), "selesai", "direncanakan", "diselesaikan"),
    (("mulai",), "mulai", "berlangsung", "dimulai"),
    (("mulai", "selesai"), "batal", "selesai", "dibatalkan"),
    (("batal",), "mulai", "dibatalkan", "dimulai"),
])
def test_a_step_the_lifecycle_does_not_allow_is_a_conflict(store, schedule, steps, action, status, label):
    kegiatan = schedule()
    moves = {"mulai": lambda: usecases.mulai_kegiatan(PETUGAS, kegiatan["id"], store),
             "selesai": lambda: usecases.selesaikan_kegiatan(PETUGAS, kegiatan["id"],
                                                             load(SelesaiKegiatanSchema, LAPORAN), store),
             "batal": lambda: usecases.batalkan_kegiatan(PETUGAS, kegiatan["id"], {"alasan": "Hujan"}, store)}
    for step in steps:
        moves[step]()
    emitted = len(store.uow.events)
    payload = refused(Conflict, moves[action])
    assert payload == {"code": "transisi_tidak_sah", "status_kegiatan": status,
                       "detail": f"Kegiatan berstatus '{status}' tidak dapat {label}."}
    assert len(store.uow.events) == emitted


def test_a_step_someone_else_took_first_is_a_conflict_naming_the_new_status(store, schedule, monkeypatch):
    kegiatan = schedule()
    move = store.move_kegiatan

    def cancelled_meanwhile(tx, kegiatan_id, allowed_from, changes):
        move(tx, kegiatan_id, ("direncanakan",), {"status": "dibatalkan", "alasan_batal": "Lain"})
        return move(tx, kegiatan_id, allowed_from, changes)

    monkeypatch.setattr(store, "move_kegiatan", cancelled_meanwhile)
    payload = refused(Conflict, usecases.mulai_kegiatan, PETUGAS, kegiatan["id"], store)
    assert payload["code"] == "transisi_tidak_sah" and payload["status_sekarang"] == "dibatalkan"
    assert store.uow.types() == ["kegiatan.dijadwalkan"]


@pytest.mark.parametrize("who, error", [(PEMANTAU, Forbidden), (SIDOARJO, Forbidden),
                                        (actor("petugas", "35.78.01"), Forbidden)],
                         ids=["reader", "next-door", "below-the-unit"])
def test_only_recorders_of_the_unit_move_an_activity(store, schedule, who, error):
    kegiatan = schedule()
    refused(error, usecases.mulai_kegiatan, who, kegiatan["id"], store)
    refused(error, usecases.batalkan_kegiatan, who, kegiatan["id"], {"alasan": "x"}, store)
    refused(NotFound, usecases.mulai_kegiatan, PETUGAS, "kegiatan-tidak-ada", store)
    assert store.kegiatan(kegiatan["id"])["status"] == "direncanakan"


# Participants

def test_participants_are_recorded_and_counted(store, schedule):
    kegiatan = schedule()
    peserta = usecases.tambah_peserta(PETUGAS, kegiatan["id"], {"nama": "Ustaz Ahmad", "unsur": "tokoh_agama",
                                                                "telepon": PHONE}, store)
    assert peserta["telepon"] == LOCAL and peserta["email"] is None
    stored = store.rows("peserta")[0]
    assert (stored["kode_wilayah"], stored["unit_id"], stored["dicatat_oleh"]) == (PLACE, "unit-35.78", PETUGAS.sub)
    assert store.kegiatan(kegiatan["id"])["jumlah_peserta_tercatat"] == 1
    assert store.uow.types() == ["kegiatan.dijadwalkan"]  # attendance is not an event


def test_no_participants_for_a_cancelled_activity(store, schedule):
    kegiatan = schedule()
    usecases.batalkan_kegiatan(PETUGAS, kegiatan["id"], {"alasan": "Banjir"}, store)
    payload = refused(Conflict, usecases.tambah_peserta, PETUGAS, kegiatan["id"], {"nama": "X", "unsur": "polri"},
                      store)
    assert payload["code"] == "kegiatan_dibatalkan"
    assert store.rows("peserta") == []


def test_a_participant_recorded_after_the_finish_gets_a_survey_code(store, schedule):
    kegiatan = schedule()
    finished(store, kegiatan)
    usecases.tambah_peserta(PETUGAS, kegiatan["id"], {"nama": "Terlambat", "unsur": "masyarakat"}, store)
    assert len(store.unused_survey_codes(kegiatan["id"])[0]) == 4


@pytest.mark.parametrize("who", [PEMANTAU, SIDOARJO], ids=["reader", "next-door"])
def test_participants_are_recorded_only_by_recorders_of_the_unit(store, schedule, who):
    kegiatan = schedule()
    refused(Forbidden, usecases.tambah_peserta, who, kegiatan["id"], {"nama": "X", "unsur": "polri"}, store)
    assert store.rows("peserta") == []


def test_participants_contacts_are_whole_only_for_recorders(store, schedule):
    kegiatan = schedule()
    usecases.tambah_peserta(PETUGAS, kegiatan["id"], {"nama": "Bu Sri", "unsur": "masyarakat", "telepon": PHONE,
                                                      "email": EMAIL}, store)

    def participants(who):
        return usecases.list_peserta(who, kegiatan["id"], load(PageQuerySchema, {}), store, READER)

    [whole] = participants(PETUGAS)["items"]
    [masked] = participants(PEMANTAU)["items"]
    assert (whole["telepon"], whole["email"]) == (LOCAL, EMAIL)
    assert (masked["telepon"], masked["email"]) == ("0812******88", "w***@contoh.id")  # stored as typed here
    assert participants(PEMANTAU)["total"] == 1
    refused(Forbidden, usecases.list_peserta, SIDOARJO, kegiatan["id"], PAGE, store, READER)


# Trust survey

def test_survey_codes_are_for_recorders_of_the_unit(store, schedule):
    kegiatan = schedule()
    finished(store, kegiatan)
    codes = usecases.get_kode_survei(PETUGAS, kegiatan["id"], store)
    assert len(codes["kode"]) == 3 and codes["kode"] == sorted(codes["kode"]) and codes["terpakai"] == 0
    refused(Forbidden, usecases.get_kode_survei, PEMANTAU, kegiatan["id"], store)
    refused(NotFound, usecases.get_kode_survei, PETUGAS, "kegiatan-tidak-ada", store)


def test_a_survey_code_is_answered_once(store, schedule):
    kegiatan = schedule()
    finished(store, kegiatan)
    first, second, _ = usecases.get_kode_survei(PETUGAS, kegiatan["id"], store)["kode"]

    def answer(kegiatan_id, kode, trust=4):
        data = load(SurveiSchema, {"kode": kode, "kepercayaan": trust, "kepuasan": 3})
        return usecases.isi_survei(kegiatan_id, data, store)

    assert answer(kegiatan["id"], first) == {"kegiatan_id": kegiatan["id"], "diterima": True}
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("survei.diisi", f"kegiatan/{kegiatan['id']}",
                                                                   PLACE)
    assert event["data"] == {"kegiatan_id": kegiatan["id"], "unit_id": "unit-35.78", "kepercayaan": 4,
                             "kepuasan": 3}
    assert refused(Conflict, answer, kegiatan["id"], first, 1)["code"] == "kode_sudah_dipakai"
    refused(NotFound, answer, kegiatan["id"], "BUKANKODE")
    other = schedule()
    refused(NotFound, answer, other["id"], second)                 # a code of another activity
    assert store.uow.types().count("survei.diisi") == 1
    assert usecases.get_kode_survei(PETUGAS, kegiatan["id"], store)["terpakai"] == 1


# Summary

def test_the_summary_counts_an_area_and_period(store, organisasi, schedule):
    kegiatan = schedule()
    usecases.tambah_peserta(PETUGAS, kegiatan["id"], {"nama": "A", "unsur": "polri"}, store)
    finished(store, kegiatan)
    kode = usecases.get_kode_survei(PETUGAS, kegiatan["id"], store)["kode"][0]
    usecases.isi_survei(kegiatan["id"], load(SurveiSchema, {"kode": kode, "kepercayaan": 5, "kepuasan": 4}), store)
    schedule(lokasi={"kode_wilayah": PLACE, "alamat": "x"}, mulai="2027-01-05T09:00:00+07:00",
             selesai="2027-01-05T10:00:00+07:00")     # after the period
    send(store, organisasi)

    def rekap(who, **query):
        return usecases.get_rekap(who, load(RekapQuerySchema, {"dari": "2026-12-01", "sampai": "2026-12-31",
                                                               **query}), store)

    summary = rekap(PEMANTAU)
    assert summary["kode_wilayah"] == "35.78"     # the caller's own area by default
    assert summary["kegiatan"]["jumlah"] == 1 and summary["kegiatan"]["per_status"]["selesai"] == 1
    assert summary["peserta"]["per_unsur"]["polri"] == 1
    assert summary["aspirasi"]["diterima"] == 1
    assert summary["survei"] == {"jumlah_jawaban": 1, "rata_kepercayaan": 5.0, "rata_kepuasan": 4.0}
    assert rekap(ADMIN, kode_wilayah="35.15")["kegiatan"]["jumlah"] == 0
    assert rekap(ADMIN, unit_id="unit-lain")["kegiatan"]["jumlah"] == 0
    refused(Forbidden, rekap, PEMANTAU, kode_wilayah="35")
    assert refused(InvalidInput, rekap, ADMIN, sampai="2026-11-30")["errors"] == {
        "sampai": ["Tanggal akhir tidak boleh sebelum tanggal awal."]}


def test_the_summary_breaks_down_by_area_below_and_month_in_wib(store, schedule):
    """Surabaya: Karang Pilang in December and on 1 February 01:00 WIB (still 31 January in
    UTC), district 35.78.02 on 31 January."""
    schedule(mulai="2026-12-05T09:00:00+07:00", selesai="2026-12-05T10:00:00+07:00")
    schedule(lokasi={"kode_wilayah": "35.78.02", "alamat": "x"}, mulai="2027-01-31T09:00:00+07:00",
             selesai="2027-01-31T10:00:00+07:00")
    schedule(mulai="2027-02-01T01:00:00+07:00", selesai="2027-02-01T02:00:00+07:00")

    def rekap(who=PEMANTAU, sampai="2027-02-28", *rinci):
        return usecases.get_rekap(who, load(RekapQuerySchema, {"dari": "2026-12-01", "sampai": sampai,
                                                               "rinci": list(rinci)}), store)

    def rows(answer):
        return [(row["kode_wilayah"], row["bulan"], row["kegiatan"]["jumlah"]) for row in answer["rincian"]]

    assert rekap()["rincian"] == [] and rekap()["kegiatan"]["jumlah"] == 3
    by_month = rekap(PEMANTAU, "2027-02-28", "bulan")
    assert by_month["kegiatan"]["jumlah"] == 3
    assert rows(by_month) == [("35.78", "2026-12", 1), ("35.78", "2027-01", 1), ("35.78", "2027-02", 1)]
    assert rows(rekap(PEMANTAU, "2027-02-28", "wilayah")) == [("35.78.01", None, 2), ("35.78.02", None, 1)]
    assert rows(rekap(PEMANTAU, "2027-02-28", "bulan", "wilayah", "bulan")) == [
        ("35.78.01", "2026-12", 1), ("35.78.01", "2027-01", 0), ("35.78.01", "2027-02", 1),
        ("35.78.02", "2026-12", 0), ("35.78.02", "2027-01", 1), ("35.78.02", "2027-02", 0)]
    zero = rekap(PEMANTAU, "2027-02-28", "bulan", "wilayah")["rincian"][1]
    assert zero["peserta"]["jumlah"] == 0 and zero["survei"]["rata_kepercayaan"] is None
    assert rows(rekap(ADMIN, "2027-02-28", "wilayah")) == [("35", None, 3)]   # national: by province
    assert refused(InvalidInput, rekap, PEMANTAU, "2036-12-01", "bulan")["errors"]["rinci"] == [
        "Rincian per bulan paling lama 120 bulan; periode ini 121 bulan. Persempit dari/sampai."]
    assert rows(rekap(PEMANTAU, "2036-12-01", "wilayah"))[0] == ("35.78.01", None, 2)


# Aspirations

def test_an_aspiration_goes_to_the_most_specific_unit_with_a_ticket_and_a_deadline(store, organisasi):
    receipt = send(store, organisasi, pelapor={"nama": "Bu Sri", "telepon": PHONE})
    assert receipt["unit"] == "BKPM 35.78.01" and receipt["status"] == "diterima"
    assert receipt["nomor_tiket"].startswith("ASP-")
    assert receipt["batas_verifikasi"] == VERIFY_BY.isoformat()
    aspirasi = received(store, receipt)
    assert (aspirasi["unit_id"], aspirasi["unit_kode"], aspirasi["diterima"]) == ("unit-35.78.01", "35.78.01", NOW)
    [event] = store.uow.events
    assert (event["type"], event["subject"], event["wilayah"]) == (
        "aspirasi.diterima", f"aspirasi/{aspirasi['id']}", PLACE)
    assert "pelapor" not in event["data"] and "isi" not in event["data"]
    assert "nomor_tiket" in event["data"] and "nomor_tiket" not in event["public"]
    assert send(store, organisasi, kode_wilayah="35.78.02")["unit"] == "BKPM 35.78"   # no kecamatan unit there


def test_the_verification_deadline_skips_the_holidays_given(store, organisasi):
    receipt = send(store, organisasi, holidays=frozenset({date(2026, 12, 7)}))
    assert receipt["batas_verifikasi"] == (VERIFY_BY + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("kode, message", [
    ("35.99", "Kode wilayah 35.99 tidak ada dalam referensi wilayah Kemendagri."),
    ("35.78.09", "Kode wilayah 35.78.09 (Kelurahan Lama) sudah tidak berlaku dalam daftar resmi terbaru."),
])
def test_an_aspiration_needs_a_listed_current_area(store, organisasi, kode, message):
    assert refused(InvalidInput, send, store, organisasi, kode_wilayah=kode)["errors"] == {"kode_wilayah": [message]}
    assert store.uow.events == []


def test_without_any_unit_no_aspiration_is_received(store):
    organisasi = FakeOrganisasi().add_wilayah(PLACE)
    assert refused(Conflict, send, store, organisasi)["code"] == "belum_ada_unit"


def test_nothing_is_received_while_organisasi_is_down(store, organisasi):
    organisasi.down = True
    refused(Unavailable, send, store, organisasi)
    assert store.rows("aspirasi") == []


def test_an_aspiration_links_only_to_a_dialog(store, organisasi, schedule):
    patrol = schedule("patroli_bersama", rute=[{"kode_wilayah": PLACE}])
    assert refused(InvalidInput, send, store, organisasi, kegiatan_id=patrol["id"])["errors"] == {
        "kegiatan_id": [f"Tidak ada dialog {patrol['id']}."]}
    refused(InvalidInput, send, store, organisasi, kegiatan_id="kegiatan-tidak-ada")
    dialog = schedule()
    assert received(store, send(store, organisasi, kegiatan_id=dialog["id"]))["kegiatan_id"] == dialog["id"]


def test_a_ticket_number_drawn_twice_is_drawn_again(store, organisasi, monkeypatch):
    first = send(store, organisasi)["nomor_tiket"]
    draws = iter([first, first, "ASP-BARU234567"])
    monkeypatch.setattr(domain, "new_ticket", lambda: next(draws))
    assert send(store, organisasi)["nomor_tiket"] == "ASP-BARU234567"
    monkeypatch.setattr(domain, "new_ticket", lambda: first)
    refused(Unavailable, send, store, organisasi)
    assert len(store.rows("aspirasi")) == 2 and store.uow.types() == ["aspirasi.diterima"] * 2


def test_tracking_by_ticket_shows_only_public_answers(store, organisasi):
    receipt = send(store, organisasi, pelapor={"nama": "Bu Sri", "telepon": PHONE})
    aspirasi = received(store, receipt)
    follow(store, aspirasi, "diverifikasi", catatan="Catatan kerja")
    follow(store, aspirasi, "diproses", catatan="Sudah dilaporkan ke PLN.", publik=True)
    tracked = usecases.get_tiket(receipt["nomor_tiket"], store)
    assert tracked["status"] == "diproses" and "pelapor" not in tracked and "isi" not in tracked
    assert [a["catatan"] for a in tracked["jawaban"]] == ["Sudah dilaporkan ke PLN."]
    refused(NotFound, usecases.get_tiket, "ASP-TIDAKADA", store)


@pytest.mark.parametrize("who, pelapor", [
    (KECAMATAN, {"nama": "Saksi", "telepon": LOCAL, "email": EMAIL}),             # the handling unit
    (actor("pemantau", "35.78.01"), {"nama": "Saksi", "telepon": MASKED, "email": "w***@contoh.id"}),
    (actor("admin", "35"), None),                                                   # above it
    (ADMIN, None),
], ids=["handling-recorder", "handling-reader", "province", "national"])
def test_a_confidential_reporter_is_seen_only_inside_the_handling_unit(store, organisasi, who, pelapor):
    aspirasi = received(store, send(store, organisasi, rahasia=True,
                                    pelapor={"nama": "Saksi", "telepon": PHONE, "email": EMAIL}))
    assert usecases.get_aspirasi(who, aspirasi["id"], store, READER)["pelapor"] == pelapor


@pytest.mark.parametrize("who, telepon", [(PETUGAS, LOCAL), (PEMANTAU, MASKED)], ids=["recorder", "reader"])
def test_a_reporters_contacts_are_masked_for_readers(store, organisasi, who, telepon):
    aspirasi = received(store, send(store, organisasi, pelapor={"nama": "Bu Sri", "telepon": PHONE}))
    assert usecases.get_aspirasi(who, aspirasi["id"], store, READER)["pelapor"]["telepon"] == telepon
    [listed] = usecases.list_aspirasi(who, load(AspirasiQuerySchema, {}), store, READER)["items"]
    assert listed["pelapor"]["telepon"] == telepon


def test_aspirations_are_seen_and_listed_within_the_callers_area(store, organisasi):
    surabaya = received(store, send(store, organisasi))
    sidoarjo = received(store, send(store, organisasi, kode_wilayah="35.15.01", kategori="masukan"))
    refused(Forbidden, usecases.get_aspirasi, PEMANTAU, sidoarjo["id"], store, READER)
    refused(NotFound, usecases.get_aspirasi, PEMANTAU, "aspirasi-tidak-ada", store, READER)
    assert listed("aspirasi", PEMANTAU, store) == [surabaya["id"]]
    assert listed("aspirasi", ADMIN, store, kategori="masukan") == [sidoarjo["id"]]
    assert listed("aspirasi", ADMIN, store, terlambat="true") == []
    usecases.periksa_tenggat(store, VERIFY_BY)
    assert listed("aspirasi", ADMIN, store, terlambat="true", kode_prefix="35.78") == [surabaya["id"]]
    assert listed("aspirasi", ADMIN, store, terlambat="false", kode_prefix="35") == []
    assert listed("aspirasi", PEMANTAU, store, kode_prefix="35") == [surabaya["id"]]  # narrowed to the caller's
    refused(Forbidden, usecases.list_aspirasi, PEMANTAU, load(AspirasiQuerySchema, {"kode_prefix": "35.15"}), store,
            READER)


# Follow-up

def test_an_aspiration_is_followed_up_step_by_step_and_announced(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    verified = follow(store, aspirasi, "diverifikasi", catatan="Dicek ke lokasi.")
    assert verified["batas_jawaban"] == datetime(2026, 12, 11, 17, tzinfo=timezone.utc).isoformat()
    follow(store, aspirasi, "diproses", catatan="Dilaporkan ke PLN.", publik=True)
    done = follow(store, aspirasi, "selesai", catatan="Lampu menyala.")
    assert done["status"] == "selesai"
    assert [(r["status_lama"], r["status_baru"], r["publik"]) for r in done["riwayat"]] == [
        ("diterima", "diverifikasi", False), ("diverifikasi", "diproses", True), ("diproses", "selesai", True)]
    assert store.aspirasi(aspirasi["id"])["riwayat"][0]["oleh"] == KECAMATAN.sub
    updates = [e for e in store.uow.events if e["type"] == "aspirasi.diperbarui"]
    assert {(e["subject"], e["wilayah"]) for e in updates} == {(f"aspirasi/{aspirasi['id']}", PLACE)}
    # The note answers the reporter only when it is public.
    assert [e["data"]["jawaban"] for e in updates] == [None, "Dilaporkan ke PLN.", "Lampu menyala."]
    assert all("jawaban" not in e["public"] for e in updates)


def test_a_field_visit_gives_fourteen_working_days_to_answer(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    verified = follow(store, aspirasi, "diverifikasi", lapangan=True)
    assert verified["batas_jawaban"] == datetime(2026, 12, 24, 17, tzinfo=timezone.utc).isoformat()


@pytest.mark.parametrize("who", [PEMANTAU, SIDOARJO, actor("petugas", "35.78.01.1001")],
                         ids=["reader", "next-door", "below-the-unit"])
def test_only_recorders_covering_the_handling_unit_follow_up(store, organisasi, who):
    aspirasi = received(store, send(store, organisasi))
    refused(Forbidden, follow, store, aspirasi, "diverifikasi", who=who)
    assert store.aspirasi(aspirasi["id"])["status"] == "diterima" and store.uow.types() == ["aspirasi.diterima"]


def test_a_follow_up_outside_the_workflow_is_refused(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    payload = refused(Conflict, follow, store, aspirasi, "selesai")
    assert payload["code"] == "transisi_tidak_sah" and payload["status_aspirasi"] == "diterima"
    assert refused(InvalidInput, follow, store, aspirasi, "ditolak")["errors"] == {
        "catatan": ["Sebutkan alasan penolakan."]}
    refused(NotFound, follow, store, {"id": "aspirasi-tidak-ada"}, "diverifikasi")
    assert store.uow.types() == ["aspirasi.diterima"]


def test_a_follow_up_someone_else_made_first_is_a_conflict(store, organisasi, monkeypatch):
    aspirasi = received(store, send(store, organisasi))
    update = store.update_aspirasi

    def rejected_meanwhile(tx, aspirasi_id, expected_status, changes, entry):
        update(tx, aspirasi_id, expected_status, {"status": "ditolak"}, entry)
        return update(tx, aspirasi_id, expected_status, changes, entry)

    monkeypatch.setattr(store, "update_aspirasi", rejected_meanwhile)
    payload = refused(Conflict, follow, store, aspirasi, "diverifikasi")
    assert payload["code"] == "transisi_tidak_sah" and payload["status_sekarang"] == "ditolak"


# Deadlines

def test_a_missed_deadline_is_flagged_once(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    usecases.periksa_tenggat(store, VERIFY_BY - timedelta(seconds=1))
    assert store.uow.types() == ["aspirasi.diterima"]
    for _ in range(3):
        usecases.periksa_tenggat(store, VERIFY_BY + timedelta(hours=1))
    late = store.uow.events[-1]
    assert store.uow.types() == ["aspirasi.diterima", "aspirasi.terlambat"]
    assert (late["subject"], late["wilayah"]) == (f"aspirasi/{aspirasi['id']}", PLACE)
    assert late["data"]["tenggat"] == "verifikasi" and late["data"]["batas"] == VERIFY_BY.isoformat()
    assert store.aspirasi(aspirasi["id"])["terlambat"] == ["verifikasi"]


def test_the_answer_deadline_is_flagged_apart_from_the_verification_one(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    usecases.periksa_tenggat(store, VERIFY_BY)
    answer_by = follow(store, aspirasi, "diverifikasi", now=VERIFY_BY)["batas_jawaban"]
    usecases.periksa_tenggat(store, datetime.fromisoformat(answer_by))
    usecases.periksa_tenggat(store, datetime.fromisoformat(answer_by) + timedelta(days=1))
    late = [e["data"]["tenggat"] for e in store.uow.events if e["type"] == "aspirasi.terlambat"]
    assert late == ["verifikasi", "jawaban"]


def test_a_follow_up_after_a_missed_deadline_records_it_first(store, organisasi):
    aspirasi = received(store, send(store, organisasi))
    follow(store, aspirasi, "diverifikasi", now=VERIFY_BY + timedelta(hours=1))
    assert store.uow.types() == ["aspirasi.diterima", "aspirasi.terlambat", "aspirasi.diperbarui"]
    usecases.periksa_tenggat(store, VERIFY_BY + timedelta(hours=2))
    assert store.uow.types().count("aspirasi.terlambat") == 1


# For other services

def test_other_services_get_an_activity_as_it_is(store, schedule):
    kegiatan = schedule()
    assert usecases.get_kegiatan_ringkas(kegiatan["id"], store) == kegiatan
    assert usecases.get_kegiatan_ringkas("kegiatan-tidak-ada", store) is None


def test_notifikasi_gets_the_reporters_contacts_only_when_they_left_some_and_never_the_name_typed(store, organisasi):
    with_phone = received(store, send(store, organisasi, pelapor={"nama": "Akun Anda diblokir", "telepon": PHONE}))
    nameless = received(store, send(store, organisasi, pelapor={"nama": "Anonim"}))
    anonymous = received(store, send(store, organisasi))
    assert usecases.get_kontak_pelapor(with_phone["id"], store, READER) == {
        "id": with_phone["id"], "nama": "Bapak/Ibu Pelapor", "telepon": E164, "email": None}
    assert usecases.get_kontak_pelapor(nameless["id"], store, READER) is None
    assert usecases.get_kontak_pelapor(anonymous["id"], store, READER) is None
    assert usecases.get_kontak_pelapor("aspirasi-tidak-ada", store, READER) is None
