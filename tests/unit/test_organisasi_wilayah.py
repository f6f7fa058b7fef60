"""The area reference as an area picker reads it (organisasi's use cases over an in-memory store):
children of a code, search by name ranked, one area with the names above it; retired codes
left out of lists but answered by code."""
import pytest

from services.common.errors import InvalidInput, NotFound
from services.common.schema import load
from services.organisasi import domain, usecases
from services.organisasi.schemas import WilayahQuerySchema
from tests.unit.fake_organisasi import FakeOrganisasiRepository

AREAS = (("33", "Jawa Tengah"), ("31", "DKI Jakarta"), ("18", "Lampung"), ("17", "Bengkulu"),
         ("33.22", "Kabupaten Semarang"), ("33.74", "Kota Semarang"), ("33.01", "Kabupaten Cilacap"),
         ("33.74.01", "Semarang Tengah"), ("33.74.13", "Semarang Barat"), ("33.04", "Kabupaten Banjarnegara"),
         ("33.04.06", "Pagentan"), ("33.04.06.1011", "Semarang"), ("18.04", "Kabupaten Lampung Barat"),
         ("18.04.19", "Sekincau"), ("18.04.19.2002", "Semarang Jaya"), ("17.71", "Kota Bengkulu"),
         ("17.71.08", "Gading Cempaka"), ("17.71.08.1003", "SEMARANG"))


@pytest.fixture
def store():
    store = FakeOrganisasiRepository()
    for kode, nama in AREAS:
        store.add_wilayah(kode, nama)
    store.add_wilayah("33.74.99", "Semarang Lama", aktif=False)  # retired by decree
    store.add_wilayah("34", "Provinsi Lama", aktif=False)
    return store


def listed(query, store):
    return usecases.list_referensi_wilayah(load(WilayahQuerySchema, query), store)["items"]


def test_without_induk_the_current_provinces_are_listed_by_code(store):
    assert listed({}, store) == [
        {"kode": "17", "nama": "Bengkulu", "tingkat": "provinsi", "aktif": True},
        {"kode": "18", "nama": "Lampung", "tingkat": "provinsi", "aktif": True},
        {"kode": "31", "nama": "DKI Jakarta", "tingkat": "provinsi", "aktif": True},
        {"kode": "33", "nama": "Jawa Tengah", "tingkat": "provinsi", "aktif": True}]


def test_the_children_of_a_code_are_one_level_below_it_without_retired_ones(store):
    assert [(a["kode"], a["tingkat"]) for a in listed({"induk": "33"}, store)] == [
        ("33.01", "kabupaten_kota"), ("33.04", "kabupaten_kota"), ("33.22", "kabupaten_kota"),
        ("33.74", "kabupaten_kota")]
    assert [a["kode"] for a in listed({"induk": "33.74"}, store)] == ["33.74.01", "33.74.13"]
    assert [a["tingkat"] for a in listed({"induk": "33.04.06"}, store)] == ["desa_kelurahan"]


def test_the_children_are_looked_up_by_every_code_the_kemendagri_format_allows_below():
    assert domain.child_codes(None)[:2] == ["00", "01"] and len(domain.child_codes(None)) == 100
    assert domain.child_codes("33.74")[-1] == "33.74.99"
    villages = domain.child_codes("33.74.01")
    assert (villages[0], villages[-1], len(villages)) == ("33.74.01.0000", "33.74.01.9999", 10_000)
    assert domain.child_codes("33.74.01.1001") == []


def test_children_of_a_code_the_reference_does_not_list_are_a_404(store):
    with pytest.raises(NotFound):
        listed({"induk": "99"}, store)


def test_a_search_ranks_names_starting_with_the_text_first_then_shorter_names(store):
    found = listed({"q": "semarang"}, store)
    assert [(a["nama"], a["kode"]) for a in found] == [
        ("SEMARANG", "17.71.08.1003"), ("Semarang", "33.04.06.1011"),  # same length: by name, then code
        ("Semarang Jaya", "18.04.19.2002"), ("Semarang Barat", "33.74.13"), ("Semarang Tengah", "33.74.01"),
        ("Kota Semarang", "33.74"), ("Kabupaten Semarang", "33.22")]
    assert "Semarang Lama" not in [a["nama"] for a in found]  # retired


def test_a_search_answers_each_area_with_the_names_above_it_province_first(store):
    village = listed({"q": "semarang jaya"}, store)[0]
    assert village == {"kode": "18.04.19.2002", "nama": "Semarang Jaya", "tingkat": "desa_kelurahan", "aktif": True,
                       "induk": [{"kode": "18", "nama": "Lampung"},
                                 {"kode": "18.04", "nama": "Kabupaten Lampung Barat"},
                                 {"kode": "18.04.19", "nama": "Sekincau"}]}
    assert listed({"q": "jawa"}, store)[0]["induk"] == []


def test_a_search_answers_at_most_twenty_areas():
    store = FakeOrganisasiRepository()
    for number in range(30):
        store.add_wilayah(f"{number + 11}", f"Sukamaju {'I' * number}")
    found = listed({"q": "sukamaju"}, store)
    assert len(found) == domain.BATAS_PENCARIAN_WILAYAH == 20
    assert [a["nama"] for a in found[:2]] == ["Sukamaju ", "Sukamaju I"]


def test_a_search_is_for_three_letters_or_more():
    with pytest.raises(InvalidInput):
        load(WilayahQuerySchema, {"q": "se"})


def test_a_search_with_induk_finds_the_names_at_every_level_below_it(store):
    assert [a["kode"] for a in listed({"q": "semarang", "induk": "33"}, store)] == [
        "33.04.06.1011", "33.74.13", "33.74.01", "33.74", "33.22"]
    assert [a["kode"] for a in listed({"q": "semarang", "induk": "33.74"}, store)] == ["33.74.13", "33.74.01"]
    with pytest.raises(NotFound):
        listed({"q": "semarang", "induk": "99"}, store)


def test_one_area_is_answered_with_the_names_above_it(store):
    assert usecases.get_referensi_wilayah("33.74.13", store) == {
        "kode": "33.74.13", "nama": "Semarang Barat", "tingkat": "kecamatan", "aktif": True,
        "induk": [{"kode": "33", "nama": "Jawa Tengah"}, {"kode": "33.74", "nama": "Kota Semarang"}]}


def test_a_retired_area_is_answered_by_its_code_as_no_longer_current(store):
    retired = usecases.get_referensi_wilayah("33.74.99", store)
    assert retired["aktif"] is False and retired["nama"] == "Semarang Lama"
    assert retired["induk"][-1] == {"kode": "33.74", "nama": "Kota Semarang"}


def test_a_code_the_reference_does_not_list_is_a_404(store):
    with pytest.raises(NotFound) as caught:
        usecases.get_referensi_wilayah("33.99", store)
    assert "33.99" in caught.value.payload["detail"]
