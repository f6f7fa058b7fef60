"""The citizens' portal and the survey's comments: the figures by area, with no survey average
that could give away one person's answer, activities without anything about anyone, and the
comments with the contacts typed in them masked. No broker, no database."""
import pytest

from services.common.errors import Forbidden, InvalidInput
from services.common.schema import PageQuerySchema, load
from services.kegiatan import domain, usecases
from services.kegiatan.schemas import (IndeksQuerySchema, KegiatanBaruSchema, PublikQuerySchema,
                                       SelesaiKegiatanSchema, SurveiSchema)
from tests.unit.fake_kegiatan import FakeBantuan, FakeKegiatanRepository
from tests.unit.fakes import FakeOrganisasi, actor

PETUGAS, PEMANTAU = actor("petugas", "35.78"), actor("pemantau", "35.78")
KARANG_PILANG, WONOKROMO = "35.78.01.1001", "35.78.02"
PERIOD = {"dari": "2026-12-01", "sampai": "2026-12-31"}
PAGE = {"page": 1, "per_page": 20}


@pytest.fixture
def store():
    return FakeKegiatanRepository()


@pytest.fixture
def held(store):
    """held(place, *answers, **fields): an activity at `place`, finished, whose participants
    answered the survey with (kepercayaan, kepuasan, komentar) each."""
    organisasi = FakeOrganisasi()
    for kode in ("35", "35.78", "35.78.01", KARANG_PILANG, WONOKROMO):
        organisasi.add_wilayah(kode)
    organisasi.add_unit("35.78")

    def held(place, *answers, **fields):
        body = {"unit_id": "unit-35.78", "jenis": "dialog", "judul": "Dialog kamtibmas",
                "mulai": "2026-12-05T09:00:00+07:00", "selesai": "2026-12-05T12:00:00+07:00",
                "lokasi": {"kode_wilayah": place, "alamat": "Balai RW 03"}, **fields}
        kegiatan = usecases.buat_kegiatan(PETUGAS, load(KegiatanBaruSchema, body), store, organisasi,
                                          FakeBantuan("program-sembako"))
        usecases.mulai_kegiatan(PETUGAS, kegiatan["id"], store)
        usecases.selesaikan_kegiatan(PETUGAS, kegiatan["id"], load(SelesaiKegiatanSchema, {"laporan": {
            "jumlah_peserta": len(answers), "ringkasan": "Dialog dengan warga."}}), store)
        codes = usecases.get_kode_survei(PETUGAS, kegiatan["id"], store)["kode"]
        for code, (kepercayaan, kepuasan, komentar) in zip(codes, answers, strict=True):
            answer = {"kode": code, "kepercayaan": kepercayaan, "kepuasan": kepuasan}
            usecases.isi_survei(kegiatan["id"], load(SurveiSchema, {**answer, **({"komentar": komentar}
                                                                             if komentar else {})}), store)
        return kegiatan
    return held


def indeks(store, kode="35.78", **query):
    return usecases.get_indeks(load(IndeksQuerySchema, {"kode_wilayah": kode, **PERIOD, **query}), store)


def test_the_index_withholds_averages_of_fewer_than_five_answers(store, held):
    held(KARANG_PILANG, *[(4, 4, None)] * 6)
    held(WONOKROMO, (1, 1, None), (2, 2, None), (1, 2, None))
    result = indeks(store)
    assert result["ringkasan"] == {
        "kode_wilayah": "35.78", "jumlah_kegiatan": 2, "jumlah_peserta": 0, "persen_aspirasi_tepat_waktu": None,
        "survei": {"jumlah_jawaban": 9, "rata_kepercayaan": 3.11, "rata_kepuasan": 3.22, "ditahan": None}}
    wonokromo = {"jumlah_jawaban": 3, "rata_kepercayaan": None, "rata_kepuasan": None,
                 "ditahan": "kurang dari 5 jawaban"}
    # Karang Pilang's six answers alone would be shown; but the province's average less theirs
    # would give away Wonokromo's three, so they are withheld too.
    karang_pilang = {"jumlah_jawaban": 6, "rata_kepercayaan": None, "rata_kepuasan": None,
                     "ditahan": "dapat dihitung dari wilayah lain"}
    assert [(area["kode_wilayah"], area["survei"]) for area in result["per_wilayah"]] == [
        ("35.78.01", karang_pilang), ("35.78.02", wonokromo)]


def test_an_area_withheld_among_its_siblings_is_withheld_when_asked_for_alone(store, held):
    held(KARANG_PILANG, *[(4, 4, None)] * 6)
    held(WONOKROMO, (1, 1, None), (2, 2, None), (1, 2, None))
    # Karang Pilang's own figures with Surabaya's would give away Wonokromo's three answers.
    alone = indeks(store, "35.78.01")
    assert alone["ringkasan"]["survei"] == {"jumlah_jawaban": 6, "rata_kepercayaan": None, "rata_kepuasan": None,
                                            "ditahan": "dapat dihitung dari wilayah lain"}
    assert alone["per_wilayah"][0]["survei"]["rata_kepercayaan"] == 4.0   # the village, nothing beside it
    assert indeks(store, "35")["ringkasan"]["survei"]["rata_kepercayaan"] == 3.11


def test_the_index_shows_areas_with_five_answers_or_more(store, held):
    held(KARANG_PILANG, *[(4, 5, None)] * 5)
    held(WONOKROMO, *[(3, 3, None)] * 5)
    held(WONOKROMO, mulai="2027-01-05T09:00:00+07:00", selesai="2027-01-05T10:00:00+07:00")  # after the period
    result = indeks(store)
    assert [(area["kode_wilayah"], area["jumlah_kegiatan"], area["survei"]) for area in result["per_wilayah"]] == [
        ("35.78.01", 1, {"jumlah_jawaban": 5, "rata_kepercayaan": 4.0, "rata_kepuasan": 5.0, "ditahan": None}),
        ("35.78.02", 1, {"jumlah_jawaban": 5, "rata_kepercayaan": 3.0, "rata_kepuasan": 3.0, "ditahan": None})]
    assert indeks(store, "35.78.01")["per_wilayah"][0]["kode_wilayah"] == KARANG_PILANG  # one level down
    assert indeks(store, "35.78.01")["ringkasan"]["survei"]["rata_kepercayaan"] == 4.0
    assert indeks(store, "35.15")["ringkasan"]["jumlah_kegiatan"] == 0
    with pytest.raises(InvalidInput):
        indeks(store, sampai="2026-11-30")


def test_the_portal_lists_activities_without_participants_report_or_reason(store, held):
    kegiatan = held(KARANG_PILANG, (4, 4, None))
    held(WONOKROMO, mulai="2027-01-05T09:00:00+07:00", selesai="2027-01-05T10:00:00+07:00")

    def publik(**query):
        return usecases.list_kegiatan_publik(load(PublikQuerySchema, {"kode_wilayah": "35.78", **query}), store)

    assert publik()["total"] == 2
    page = publik(**PERIOD)
    assert page["items"] == [{"id": kegiatan["id"], "jenis": "dialog", "judul": "Dialog kamtibmas",
                              "mulai": kegiatan["mulai"], "selesai": kegiatan["selesai"], "status": "selesai",
                              "lokasi": {"kode_wilayah": KARANG_PILANG, "alamat": "Balai RW 03"}}]
    assert publik(dari="2027-01-05")["total"] == 1 and publik(sampai="2026-12-04")["total"] == 0
    assert publik(kode_wilayah="35.15")["total"] == 0
    with pytest.raises(InvalidInput):
        publik(dari="2026-12-02", sampai="2026-12-01")


def test_survey_comments_are_for_recorders_with_contacts_masked(store, held):
    kegiatan = held(KARANG_PILANG, (4, 4, "Hubungi saya di 0812-3456-7890 atau budi.santoso@contoh.id ya"),
                    (5, 5, "Rapat tanggal 2026-12-05 bagus"), (3, 3, None))
    comments = usecases.list_komentar_survei(PETUGAS, kegiatan["id"], load(PageQuerySchema, PAGE), store)
    assert comments["total"] == 2
    assert sorted(c["komentar"] for c in comments["items"]) == [
        "Hubungi saya di 0812********90 atau b***@contoh.id ya", "Rapat tanggal 2026-12-05 bagus"]
    with pytest.raises(Forbidden):
        usecases.list_komentar_survei(PEMANTAU, kegiatan["id"], load(PageQuerySchema, PAGE), store)


@pytest.mark.parametrize("text, masked", [
    ("wa +62 812 3456 7890", "wa +62 ***********90"),
    ("telp (031) 8290-1234.", "telp (031)********34."),
    ("a.b+c@mail.co.id", "a***@mail.co.id"),
    ("Rp 1.500.000 dan 25 orang", "Rp 1.500.000 dan 25 orang"),  # seven digits: not a number to call
])
def test_contacts_typed_in_a_comment_are_masked(text, masked):
    assert domain.mask_contacts_in(text) == masked
