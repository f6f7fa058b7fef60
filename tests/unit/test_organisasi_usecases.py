"""organisasi's use cases over an in-memory store: who may change the organisation where, what
is refused and why, and which event each change emits. No broker, no database."""
from datetime import date

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.organisasi import usecases
from tests.unit.fake_organisasi import FakeOrganisasiRepository
from tests.unit.fakes import ADMIN, READER, actor

PAGE = {"page": 1, "per_page": 20}
KETUA = {"jabatan": "ketua", "nama": "Irjen Pol. Budi", "nrp": "68010012", "pangkat": "Irjen Pol.",
         "jabatan_polri": "Kapolda Metro Jaya", "mulai": "2026-01-02", "telepon": "081234567890",
         "email": "budi@contoh.id"}
WAKIL = {"jabatan": "wakil_ketua", "nama": "H. Ahmad", "mulai": "2026-01-02"}
WARGA = {"nama": "Siti", "kategori": "tokoh_agama", "telepon": "081298765432", "email": "siti@contoh.id"}


@pytest.fixture
def store():
    store = FakeOrganisasiRepository()
    for kode, nama in (("31", "DKI Jakarta"), ("31.71", "Kota Jakarta Pusat"), ("31.72", "Kota Jakarta Utara"),
                       ("31.71.01", "Gambir"), ("31.72.01", "Penjaringan"), ("32", "Jawa Barat")):
        store.add_wilayah(kode, nama)
    store.add_wilayah("31.75", "Kota Lama", aktif=False)
    return store


@pytest.fixture
def tree(store):
    """The national unit, DKI Jakarta's and Jakarta Pusat's: {area code or None: unit}."""
    return {kode: usecases.bentuk_unit(ADMIN, {"tingkat": tingkat, "kode_wilayah": kode}, store)
            for tingkat, kode in (("nasional", None), ("provinsi", "31"), ("kabupaten_kota", "31.71"))}


def refused(error_class, func, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        func(*args, **kwargs)
    return caught.value.payload


# Units

def test_a_unit_is_formed_under_the_unit_of_its_parent_area_and_announced(store, tree):
    kota = tree["31.71"]
    assert kota["induk_id"] == tree["31"]["id"] and kota["nama"] == "BKPM Kota Jakarta Pusat"
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("unit.dibentuk", f"units/{kota['id']}", "31.71")
    assert event["data"]["id"] == kota["id"] and event["data"]["induk_id"] == tree["31"]["id"]
    assert tree[None]["induk_id"] is None and store.uow.events[0]["wilayah"] is None


def test_a_unit_whose_parent_is_not_formed_yet_is_refused_naming_the_parent(store, tree):
    payload = refused(Conflict, usecases.bentuk_unit, ADMIN, {"tingkat": "kecamatan", "kode_wilayah": "31.72.01"},
                      store)
    assert payload["code"] == "induk_belum_ada" and payload["kode_wilayah_induk"] == "31.72"
    assert "Kota Jakarta Utara" in payload["detail"]


def test_without_a_national_unit_no_province_unit(store):
    payload = refused(Conflict, usecases.bentuk_unit, ADMIN, {"tingkat": "provinsi", "kode_wilayah": "31"}, store)
    assert payload["code"] == "induk_belum_ada" and "Unit nasional belum dibentuk" in payload["detail"]


def test_a_second_unit_for_an_area_is_refused_and_names_the_first(store, tree):
    payload = refused(Conflict, usecases.bentuk_unit, ADMIN, {"tingkat": "provinsi", "kode_wilayah": "31"}, store)
    assert payload == {"code": "unit_sudah_ada", "detail": "Unit untuk wilayah 31 sudah ada.",
                       "unit_id": tree["31"]["id"]}
    assert store.uow.types().count("unit.dibentuk") == 3  # nothing emitted by the refused one


@pytest.mark.parametrize("kode, message", [
    ("33", "Kode wilayah 33 tidak ada dalam referensi wilayah Kemendagri."),
    ("31.75", "Kode wilayah 31.75 (Kota Lama) sudah tidak berlaku dalam daftar resmi terbaru."),
])
def test_a_unit_needs_a_listed_current_area(store, tree, kode, message):
    tingkat = "provinsi" if "." not in kode else "kabupaten_kota"
    payload = refused(InvalidInput, usecases.bentuk_unit, ADMIN, {"tingkat": tingkat, "kode_wilayah": kode}, store)
    assert payload["errors"] == {"kode_wilayah": [message]}


def test_a_level_that_does_not_match_the_code_is_a_field_error(store, tree):
    payload = refused(InvalidInput, usecases.bentuk_unit, ADMIN, {"tingkat": "provinsi", "kode_wilayah": "31.72"},
                      store)
    assert "kabupaten/kota" in payload["errors"]["kode_wilayah"][0]


@pytest.mark.parametrize("who, kode", [
    (actor("admin", "31.71"), "31.72"),     # another city
    (actor("admin", "31.71"), "31"),        # its own province: above it
    (actor("petugas", "31"), "31.72"),      # a role that does not manage the organisation
    (actor("pemantau", None), "31.72"),
])
def test_units_are_formed_only_by_managers_within_their_area(store, tree, who, kode):
    refused(Forbidden, usecases.bentuk_unit, who, {"tingkat": "kabupaten_kota" if "." in kode else "provinsi",
                                                   "kode_wilayah": kode}, store)
    assert store.unit_at(kode) is None or kode == "31"


def test_a_province_admin_forms_a_unit_below_it(store, tree):
    unit = usecases.bentuk_unit(actor("admin", "31"), {"tingkat": "kabupaten_kota", "kode_wilayah": "31.72"}, store)
    assert store.unit(unit["id"])["dibentuk_oleh"] == "admin-31"


def test_units_are_seen_and_listed_within_the_callers_area(store, tree):
    city = actor("pemantau", "31.71")
    assert usecases.get_unit(city, tree["31.71"]["id"], store)["kode_wilayah"] == "31.71"
    refused(Forbidden, usecases.get_unit, city, tree["31"]["id"], store)
    refused(NotFound, usecases.get_unit, city, "unit-tidak-ada", store)
    listed = usecases.list_unit(city, PAGE, store)
    assert [u["kode_wilayah"] for u in listed["items"]] == ["31.71"] and listed["total"] == 1
    everything = usecases.list_unit(ADMIN, {**PAGE, "tingkat": "provinsi"}, store)
    assert [u["kode_wilayah"] for u in everything["items"]] == ["31"]
    refused(Forbidden, usecases.list_unit, city, {**PAGE, "kode_prefix": "31.72"}, store)
    below = usecases.list_subunit(ADMIN, tree["31"]["id"], PAGE, store)
    assert [u["kode_wilayah"] for u in below["items"]] == ["31", "31.71"]


# Board

def test_a_board_member_is_appointed_and_announced_without_contacts_in_the_event(store, tree):
    unit = tree["31"]
    ketua = usecases.angkat_pengurus(ADMIN, unit["id"], KETUA, store)
    assert ketua["telepon"] == "0812-3456-7890" and ketua["aktif"] is True  # shown in the local form
    assert store.get("pengurus", ketua["id"])["dicatat_oleh"] == ADMIN.sub
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == (
        "pengurus.diangkat", f"units/{unit['id']}/pengurus/{ketua['id']}", "31")
    assert "telepon" not in event["data"] and "email" not in event["data"]
    assert event["data"]["jabatan"] == "ketua"


def test_a_held_position_is_refused_naming_its_holder(store, tree):
    unit_id = tree["31"]["id"]
    first = usecases.angkat_pengurus(ADMIN, unit_id, KETUA, store)
    payload = refused(Conflict, usecases.angkat_pengurus, ADMIN, unit_id, {**KETUA, "nama": "Irjen Pol. Lain"}, store)
    assert payload["code"] == "jabatan_terisi" and payload["pengurus_id"] == first["id"]
    assert "Irjen Pol. Budi" in payload["detail"]
    assert store.uow.types().count("pengurus.diangkat") == 1


def test_the_rules_of_a_position_are_field_errors(store, tree):
    payload = refused(InvalidInput, usecases.angkat_pengurus, ADMIN, tree["31"]["id"],
                      {**KETUA, "jabatan_polri": "Kapolres Jakarta Pusat"}, store)
    assert "Kapolda" in payload["errors"]["jabatan_polri"][0]


def test_a_board_is_changed_only_by_managers_within_the_units_area(store, tree):
    refused(Forbidden, usecases.angkat_pengurus, actor("admin", "31.71"), tree["31"]["id"], KETUA, store)
    refused(Forbidden, usecases.angkat_pengurus, actor("petugas", "31"), tree["31"]["id"], KETUA, store)
    refused(NotFound, usecases.angkat_pengurus, ADMIN, "unit-tidak-ada", KETUA, store)
    assert usecases.angkat_pengurus(actor("pengurus", "31"), tree["31"]["id"], KETUA, store)["jabatan"] == "ketua"


def test_ending_an_appointment_keeps_it_in_the_history_and_frees_the_position(store, tree):
    unit_id = tree["31"]["id"]
    ketua = usecases.angkat_pengurus(ADMIN, unit_id, KETUA, store)
    ended = usecases.berhentikan_pengurus(ADMIN, unit_id, ketua["id"], {"alasan": "mutasi"}, store, READER,
                                          today=date(2026, 6, 1))
    assert ended["aktif"] is False and ended["selesai"] == "2026-06-01" and ended["alasan_berhenti"] == "mutasi"
    event = store.uow.events[-1]
    assert event["type"] == "pengurus.diberhentikan" and event["data"]["alasan"] == "mutasi"
    successor = usecases.angkat_pengurus(ADMIN, unit_id, {**KETUA, "nama": "Irjen Pol. Baru"}, store)
    history = usecases.list_pengurus(ADMIN, unit_id, PAGE, store, READER)
    assert {p["id"] for p in history["items"]} == {ketua["id"], successor["id"]}
    payload = refused(Conflict, usecases.berhentikan_pengurus, ADMIN, unit_id, ketua["id"], {}, store, READER)
    assert payload["code"] == "sudah_berhenti" and "2026-06-01" in payload["detail"]


def test_an_end_before_the_start_is_a_field_error_and_an_unknown_person_404(store, tree):
    unit_id = tree["31"]["id"]
    ketua = usecases.angkat_pengurus(ADMIN, unit_id, KETUA, store)
    payload = refused(InvalidInput, usecases.berhentikan_pengurus, ADMIN, unit_id, ketua["id"],
                      {"tanggal": "2025-12-31"}, store, READER)
    assert payload["errors"] == {"tanggal": ["Tanggal berhenti tidak boleh sebelum tanggal mulai menjabat."]}
    refused(NotFound, usecases.berhentikan_pengurus, ADMIN, unit_id, "orang-lain", {}, store, READER)
    refused(NotFound, usecases.berhentikan_pengurus, ADMIN, tree["31.71"]["id"], ketua["id"], {}, store, READER)


# Members

def test_members_join_on_today_by_default_and_leave_once(store, tree):
    unit_id = tree["31.71"]["id"]
    member = usecases.tambah_anggota(ADMIN, unit_id, WARGA, store, today=date(2026, 3, 1))
    assert member["bergabung"] == "2026-03-01"
    assert store.uow.events[-1]["type"] == "anggota.bergabung" and store.uow.events[-1]["wilayah"] == "31.71"
    left = usecases.keluarkan_anggota(ADMIN, unit_id, member["id"], {"tanggal": "2026-04-01", "alasan": "pindah"},
                                      store, READER)
    assert left["aktif"] is False and left["keluar"] == "2026-04-01"
    assert store.uow.events[-1]["type"] == "anggota.keluar" and store.uow.events[-1]["data"]["alasan"] == "pindah"
    assert refused(Conflict, usecases.keluarkan_anggota, ADMIN, unit_id, member["id"], {}, store, READER)["code"] == \
        "sudah_keluar"
    payload = refused(InvalidInput, usecases.keluarkan_anggota, ADMIN, unit_id,
                      usecases.tambah_anggota(ADMIN, unit_id, {**WARGA, "bergabung": "2026-05-01"}, store)["id"],
                      {"tanggal": "2026-04-30"}, store, READER)
    assert payload["errors"] == {"tanggal": ["Tanggal keluar tidak boleh sebelum tanggal bergabung."]}


def test_members_are_added_only_by_managers_within_the_units_area(store, tree):
    refused(Forbidden, usecases.tambah_anggota, actor("admin", "31.72"), tree["31.71"]["id"], WARGA, store)
    refused(Forbidden, usecases.tambah_anggota, actor("pemantau", "31.71"), tree["31.71"]["id"], WARGA, store)
    assert "anggota.bergabung" not in store.uow.types()


def test_contacts_and_nrp_are_whole_only_for_those_who_manage(store, tree):
    unit_id = tree["31"]["id"]
    usecases.angkat_pengurus(ADMIN, unit_id, KETUA, store)
    usecases.angkat_pengurus(ADMIN, unit_id, WAKIL, store)
    usecases.tambah_anggota(ADMIN, unit_id, WARGA, store)
    managed = usecases.get_struktur(actor("pengurus", "31"), unit_id, store, READER)
    assert [p["jabatan"] for p in managed["pengurus"]] == ["ketua", "wakil_ketua"]
    assert managed["pengurus"][0]["nrp"] == KETUA["nrp"] and managed["anggota"][0]["telepon"] == "0812-9876-5432"
    read = usecases.get_struktur(actor("pemantau", "31"), unit_id, store, READER)
    assert read["pengurus"][0]["nrp"] != KETUA["nrp"] and "*" in read["pengurus"][0]["telepon"]
    assert "*" in read["anggota"][0]["email"]
    listed = usecases.list_anggota(actor("petugas", "31"), unit_id, PAGE, store, READER)
    assert "*" in listed["items"][0]["telepon"] and listed["total"] == 1


# Lookups for other services

def test_the_unit_responsible_for_an_area_is_the_most_specific_one_formed(store, tree):
    village = usecases.get_penanggung_jawab_wilayah("31.71.01", store)
    assert village["unit"]["id"] == tree["31.71"]["id"] and village["wilayah"]["nama"] == "Gambir"
    assert usecases.get_penanggung_jawab_wilayah("32", store)["unit"]["id"] == tree[None]["id"]
    assert usecases.get_penanggung_jawab_wilayah("99", store)["wilayah"] is None


def test_areas_are_answered_retired_ones_included_and_unknown_ones_left_out(store):
    assert usecases.list_wilayah(["31.75", "99", "31"], store) == [
        {"kode": "31", "nama": "DKI Jakarta", "aktif": True}, {"kode": "31.75", "nama": "Kota Lama", "aktif": False}]
    assert usecases.get_unit_dan_wilayah("unit-tidak-ada", "31", store)["unit"] is None


def test_contacts_for_notifikasi_are_the_active_board_and_members_and_the_sekretaris_up_one_level(store, tree):
    usecases.angkat_pengurus(ADMIN, tree["31"]["id"], {
        **KETUA, "jabatan": "sekretaris", "jabatan_polri": "Kabag", "akun": "sek-31"}, store)
    kota = tree["31.71"]["id"]
    sekretaris = usecases.angkat_pengurus(ADMIN, kota, {**KETUA, "jabatan": "sekretaris", "nama": "AKBP Sari",
                                                        "jabatan_polri": "Kasat Binmas"}, store)
    member = usecases.tambah_anggota(ADMIN, kota, WARGA, store)
    usecases.keluarkan_anggota(ADMIN, kota, usecases.tambah_anggota(ADMIN, kota, WARGA, store)["id"], {}, store, READER)
    contacts = usecases.list_kontak_unit(kota, store, READER)
    assert [(c["id"], c["peran"]) for c in contacts] == [(sekretaris["id"], "sekretaris"), (member["id"], "anggota")]
    assert contacts[0]["telepon"] == KETUA["telepon"]
    assert [c["nama"] for c in usecases.list_kontak_sekretaris(kota, True, store, READER)] == [
        "AKBP Sari", KETUA["nama"]]
    assert [c["akun"] for c in usecases.list_kontak_sekretaris(tree["31"]["id"], False, store, READER)] == ["sek-31"]
    assert usecases.get_kontak_pengurus(kota, sekretaris["id"], store, READER)["email"] == KETUA["email"]
    assert usecases.get_kontak_pengurus(kota, "orang-lain", store, READER) is None
