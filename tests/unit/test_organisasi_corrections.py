"""Corrections in organisasi over an in-memory store: a unit's name, a board member's contacts and
planned end of term, a member's contacts; made against the version the caller read (412
otherwise), by those who may change the unit, announced with the names of what changed and
never the values."""
import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from services.common.patch import ANY_VERSION, etag_of
from services.common.schema import load
from services.organisasi import usecases
from services.organisasi.schemas import AnggotaUbahSchema, PengurusUbahSchema, UnitUbahSchema
from tests.unit.fake_organisasi import FakeOrganisasiRepository
from tests.unit.fakes import ADMIN, READER, actor

KETUA = {"jabatan": "ketua", "nama": "Irjen Pol. Budi", "nrp": "68010012", "pangkat": "Irjen Pol.",
         "jabatan_polri": "Kapolda Metro Jaya", "mulai": "2026-01-02", "selesai": "2028-12-31",
         "telepon": "+6281234567890", "email": "budi@contoh.id"}
WARGA = {"nama": "Siti", "kategori": "tokoh_agama", "telepon": "+6281298765432", "email": "siti@contoh.id",
         "bergabung": "2026-02-01"}


@pytest.fixture
def store():
    store = FakeOrganisasiRepository()
    for kode, nama in (("31", "DKI Jakarta"), ("31.71", "Kota Jakarta Pusat"), ("31.72", "Kota Jakarta Utara")):
        store.add_wilayah(kode, nama)
    return store


@pytest.fixture
def tree(store):
    return {kode: usecases.bentuk_unit(ADMIN, {"tingkat": tingkat, "kode_wilayah": kode}, store)
            for tingkat, kode in (("nasional", None), ("provinsi", "31"), ("kabupaten_kota", "31.71"),
                                  ("kabupaten_kota", "31.72"))}


@pytest.fixture
def ketua(store, tree):
    return usecases.angkat_pengurus(ADMIN, tree["31"]["id"], KETUA, store)


@pytest.fixture
def warga(store, tree):
    return usecases.tambah_anggota(ADMIN, tree["31.71"]["id"], WARGA, store)


def refused(error_class, func, *args):
    with pytest.raises(error_class) as caught:
        func(*args)
    return caught.value.payload


def version(view):
    """The If-Match a client sends after reading `view` (the gateway's ETag of that answer)."""
    return [etag_of(view)]


# A unit's name

def test_a_unit_is_renamed_against_the_version_read_and_the_change_announced(store, tree):
    unit_id = tree["31.71"]["id"]
    read = usecases.get_unit(ADMIN, unit_id, store)
    renamed = usecases.ubah_unit(ADMIN, unit_id, {"nama": "BKPM Jakarta Pusat"}, version(read), store)
    assert renamed == {**read, "nama": "BKPM Jakarta Pusat"}
    assert usecases.get_unit(ADMIN, unit_id, store) == renamed
    assert store.unit(unit_id)["diubah_oleh"] == ADMIN.sub
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("unit.diubah", f"units/{unit_id}", "31.71")
    assert event["data"] == {"id": unit_id, "tingkat": "kabupaten_kota", "kode_wilayah": "31.71",
                             "nama": "BKPM Jakarta Pusat", "induk_id": tree["31"]["id"], "diubah": ["nama"]}
    assert event["public"] == event["data"]  # a unit's name is public, as in unit.dibentuk


def test_a_correction_against_a_version_no_longer_current_is_refused_and_changes_nothing(store, tree):
    unit_id = tree["31.71"]["id"]
    read = usecases.get_unit(ADMIN, unit_id, store)
    usecases.ubah_unit(ADMIN, unit_id, {"nama": "BKPM Jakpus"}, version(read), store)
    payload = refused(PreconditionFailed, usecases.ubah_unit, ADMIN, unit_id, {"nama": "BKPM Lain"}, version(read),
                      store)
    assert payload["code"] == "versi_berubah" and "muat ulang" in payload["detail"]
    assert store.unit(unit_id)["nama"] == "BKPM Jakpus" and store.uow.types().count("unit.diubah") == 1
    # Any of several tags will do, and `*` is any version.
    current = usecases.get_unit(ADMIN, unit_id, store)
    assert usecases.ubah_unit(ADMIN, unit_id, {"nama": "BKPM A"}, [*version(read), *version(current)],
                              store)["nama"] == "BKPM A"
    assert usecases.ubah_unit(ADMIN, unit_id, {"nama": "BKPM B"}, [ANY_VERSION], store)["nama"] == "BKPM B"


def test_a_change_made_between_the_read_and_the_write_wins_over_the_correction(store, tree):
    """Two corrections racing: this one read the record just before the other one wrote it."""
    unit_id = tree["31.71"]["id"]
    as_read = store.unit(unit_id)
    store.put("units", {**as_read, "nama": "BKPM Orang Lain"})
    store.unit = lambda wanted: dict(as_read)
    refused(PreconditionFailed, usecases.ubah_unit, ADMIN, unit_id, {"nama": "BKPM Saya"}, [ANY_VERSION], store)
    assert store.get("units", unit_id)["nama"] == "BKPM Orang Lain" and "unit.diubah" not in store.uow.types()


def test_a_correction_that_changes_nothing_writes_and_announces_nothing(store, tree):
    unit_id = tree["31.71"]["id"]
    read = usecases.get_unit(ADMIN, unit_id, store)
    events = len(store.uow.events)
    assert usecases.ubah_unit(ADMIN, unit_id, {"nama": read["nama"]}, version(read), store) == read
    assert len(store.uow.events) == events and "diubah_oleh" not in store.unit(unit_id)


@pytest.mark.parametrize("who, kode", [
    (actor("admin", "31.71"), "31"),       # above its area
    (actor("admin", "31.71"), "31.72"),    # beside it
    (actor("petugas", "31"), "31.71"),     # a role that does not manage the organisation
    (actor("pemantau", None), "31.71"),
])
def test_a_unit_is_renamed_only_by_managers_of_its_area_whatever_version_they_send(store, tree, who, kode):
    unit_id = tree[kode]["id"]
    refused(Forbidden, usecases.ubah_unit, who, unit_id, {"nama": "BKPM Baru"}, [ANY_VERSION], store)
    refused(Forbidden, usecases.ubah_unit, who, unit_id, {"nama": "BKPM Baru"}, ["tag-lama"], store)
    assert store.unit(unit_id)["nama"] != "BKPM Baru"
    refused(NotFound, usecases.ubah_unit, ADMIN, "unit-tidak-ada", {"nama": "BKPM Baru"}, [ANY_VERSION], store)
    own = usecases.ubah_unit(actor("pengurus", "31.71"), tree["31.71"]["id"], {"nama": "BKPM Baru"}, [ANY_VERSION],
                             store)
    assert own["nama"] == "BKPM Baru"


@pytest.mark.parametrize("schema, patch, errors", [
    (UnitUbahSchema, {}, {"_schema": ["Kirim minimal satu field yang diubah."]}),
    (UnitUbahSchema, {"nama": None}, {"nama": ["Tidak boleh kosong (null)."]}),
    (UnitUbahSchema, {"nama": ""}, {"nama": ["Panjang harus antara 1 dan 200."]}),
    (UnitUbahSchema, {"kode_wilayah": "31.72"},
     {"kode_wilayah": ["Tidak dapat diubah; yang dapat dikoreksi dari unit hanya nama."]}),
    (PengurusUbahSchema, {"jabatan": "wakil_ketua"}, {"jabatan": [
        "Tidak dapat diubah; yang dapat dikoreksi: telepon, email, selesai. Jabatan, nama atau tanggal mulai yang "
        "salah: berhentikan pengurus ini, lalu angkat dengan data yang benar."]}),
    (PengurusUbahSchema, {"selesai": "31-12-2028"}, {"selesai": ["Harus berupa tanggal dengan format YYYY-MM-DD."]}),
    (PengurusUbahSchema, {"email": "bukan-email"}, {"email": ["Alamat email tidak valid."]}),
    (AnggotaUbahSchema, {"nama": "Sitti"},
     {"nama": ["Tidak dapat diubah; yang dapat dikoreksi dari anggota hanya telepon dan email."]}),
    (AnggotaUbahSchema, {"telepon": "12"}, None),
])
def test_a_patch_names_only_what_may_be_corrected_in_valid_values(schema, patch, errors):
    with pytest.raises(InvalidInput) as caught:
        load(schema, patch)
    found = caught.value.payload["errors"]
    if errors is None:  # the phone's own message, from services.common.phone
        assert set(found) == set(patch) and found["telepon"][0]
    else:
        assert found == errors


def test_a_patch_may_remove_what_may_be_empty():
    assert load(PengurusUbahSchema, {"telepon": None, "email": None, "selesai": None}) == {
        "telepon": None, "email": None, "selesai": None}
    assert load(AnggotaUbahSchema, {"telepon": "0812-9876-5432"}) == {"telepon": "+6281298765432"}


# A board member's contacts and planned end of term

def test_a_board_members_contacts_and_end_of_term_are_corrected_and_announced_without_the_contacts(
        store, tree, ketua):
    unit_id = tree["31"]["id"]
    read = usecases.get_pengurus(ADMIN, unit_id, ketua["id"], store, READER)
    assert read == ketua
    corrected = usecases.ubah_pengurus(ADMIN, unit_id, ketua["id"],
                                       {"telepon": "+6281111111111", "email": None, "selesai": "2029-06-30"},
                                       version(read), store, READER)
    assert corrected["telepon"] != ketua["telepon"] and corrected["email"] is None
    assert corrected["selesai"] == "2029-06-30" and corrected["nama"] == KETUA["nama"]
    stored = store.get("pengurus", ketua["id"])
    assert stored["telepon"] == "+6281111111111" and "email" in stored and stored["email"] is None
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == (
        "pengurus.diubah", f"units/{unit_id}/pengurus/{ketua['id']}", "31")
    assert event["data"]["diubah"] == ["email", "selesai", "telepon"]
    assert not {"telepon", "email", "nrp"} & set(event["data"])
    # The feed names the position and its term, as for pengurus.diangkat, and of the changes only the term's.
    assert event["public"] == {"id": ketua["id"], "unit_id": unit_id, "jabatan": "ketua", "mulai": "2026-01-02",
                               "selesai": "2029-06-30", "diubah": ["selesai"]}
    assert usecases.get_pengurus(ADMIN, unit_id, ketua["id"], store, READER) == corrected


def test_correcting_only_contacts_tells_the_feed_nothing_it_does_not_show(store, tree, ketua):
    usecases.ubah_pengurus(ADMIN, tree["31"]["id"], ketua["id"], {"email": "budi@polri.go.id"}, [ANY_VERSION], store,
                           READER)
    event = store.uow.events[-1]
    assert event["data"]["diubah"] == ["email"] and event["public"]["diubah"] == []


def test_the_answer_and_the_read_hand_the_contacts_whole_and_are_logged(store, tree, ketua):
    unit_id = tree["31"]["id"]
    before = len(store.access_log())
    usecases.ubah_pengurus(ADMIN, unit_id, ketua["id"], {"email": "baru@contoh.id"}, [ANY_VERSION], store, READER)
    usecases.get_pengurus(ADMIN, unit_id, ketua["id"], store, READER)
    entries = store.access_log()[before:]
    assert [(entry["jenis"], entry["data_id"]) for entry in entries] == [("pengurus", [ketua["id"]])] * 2
    assert entries[0]["kolom"] == ["email", "nrp", "telepon"]


def test_an_end_of_term_before_its_start_is_a_field_error(store, tree, ketua):
    payload = refused(InvalidInput, usecases.ubah_pengurus, ADMIN, tree["31"]["id"], ketua["id"],
                      {"selesai": "2025-12-31"}, [ANY_VERSION], store, READER)
    assert payload["errors"] == {"selesai": ["Tanggal selesai tidak boleh sebelum tanggal mulai."]}
    assert store.get("pengurus", ketua["id"])["selesai"] == "2028-12-31"


def test_an_ended_appointment_is_history_and_is_not_corrected(store, tree, ketua):
    unit_id = tree["31"]["id"]
    usecases.berhentikan_pengurus(ADMIN, unit_id, ketua["id"], {"tanggal": "2026-06-01"}, store, READER)
    read = usecases.get_pengurus(ADMIN, unit_id, ketua["id"], store, READER)
    payload = refused(Conflict, usecases.ubah_pengurus, ADMIN, unit_id, ketua["id"], {"selesai": "2026-07-01"},
                      version(read), store, READER)
    assert payload["code"] == "sudah_berhenti" and "2026-06-01" in payload["detail"]
    assert store.get("pengurus", ketua["id"])["selesai"] == "2026-06-01"


def test_a_board_member_is_corrected_only_by_managers_of_the_units_area(store, tree, ketua):
    unit_id = tree["31"]["id"]
    patch = {"email": "lain@contoh.id"}
    for who in (actor("admin", "31.71"), actor("petugas", "31"), actor("pemantau", "31")):
        refused(Forbidden, usecases.ubah_pengurus, who, unit_id, ketua["id"], patch, [ANY_VERSION], store, READER)
    refused(NotFound, usecases.ubah_pengurus, ADMIN, unit_id, "orang-lain", patch, [ANY_VERSION], store, READER)
    refused(NotFound, usecases.ubah_pengurus, ADMIN, tree["31.71"]["id"], ketua["id"], patch, [ANY_VERSION], store,
            READER)
    assert store.get("pengurus", ketua["id"])["email"] == KETUA["email"]


def test_a_reader_who_may_not_manage_sees_one_board_member_masked(store, tree, ketua):
    seen = usecases.get_pengurus(actor("pemantau", "31"), tree["31"]["id"], ketua["id"], store, READER)
    assert seen["id"] == ketua["id"] and seen["email"] != KETUA["email"] and seen["nrp"] != KETUA["nrp"]
    refused(Forbidden, usecases.get_pengurus, actor("pemantau", "32"), tree["31"]["id"], ketua["id"], store, READER)


def test_a_stale_board_correction_is_refused(store, tree, ketua):
    unit_id = tree["31"]["id"]
    read = usecases.get_pengurus(ADMIN, unit_id, ketua["id"], store, READER)
    usecases.ubah_pengurus(ADMIN, unit_id, ketua["id"], {"selesai": None}, version(read), store, READER)
    refused(PreconditionFailed, usecases.ubah_pengurus, ADMIN, unit_id, ketua["id"], {"email": "x@contoh.id"},
            version(read), store, READER)
    assert store.get("pengurus", ketua["id"])["selesai"] is None
    assert store.get("pengurus", ketua["id"])["email"] == KETUA["email"]


# A member's contacts

def test_a_members_contacts_are_corrected_and_the_feed_learns_only_that_the_record_changed(store, tree, warga):
    unit_id = tree["31.71"]["id"]
    read = usecases.get_anggota(ADMIN, unit_id, warga["id"], store, READER)
    corrected = usecases.ubah_anggota(ADMIN, unit_id, warga["id"], {"telepon": None, "email": "siti@baru.id"},
                                      version(read), store, READER)
    assert corrected == {**read, "telepon": None, "email": "siti@baru.id"}
    event = store.uow.events[-1]
    assert (event["type"], event["subject"]) == ("anggota.diubah", f"units/{unit_id}/anggota/{warga['id']}")
    assert event["data"] == {"id": warga["id"], "unit_id": unit_id, "nama": "Siti", "kategori": "tokoh_agama",
                             "bergabung": "2026-02-01", "diubah": ["email", "telepon"]}
    assert event["public"] == {"id": warga["id"], "unit_id": unit_id, "kategori": "tokoh_agama",
                               "bergabung": "2026-02-01"}


def test_a_member_who_left_is_not_corrected_and_a_stale_version_is_refused(store, tree, warga):
    unit_id = tree["31.71"]["id"]
    read = usecases.get_anggota(ADMIN, unit_id, warga["id"], store, READER)
    usecases.keluarkan_anggota(ADMIN, unit_id, warga["id"], {"tanggal": "2026-03-01"}, store, READER)
    refused(PreconditionFailed, usecases.ubah_anggota, ADMIN, unit_id, warga["id"], {"email": "a@contoh.id"},
            version(read), store, READER)
    payload = refused(Conflict, usecases.ubah_anggota, ADMIN, unit_id, warga["id"], {"email": "a@contoh.id"},
                      [ANY_VERSION], store, READER)
    assert payload["code"] == "sudah_keluar" and "2026-03-01" in payload["detail"]
    assert "anggota.diubah" not in store.uow.types()


def test_a_member_is_corrected_only_by_managers_and_unknown_members_are_404(store, tree, warga):
    unit_id = tree["31.71"]["id"]
    refused(Forbidden, usecases.ubah_anggota, actor("petugas", "31.71"), unit_id, warga["id"], {"telepon": None},
            [ANY_VERSION], store, READER)
    refused(Forbidden, usecases.ubah_anggota, actor("admin", "31.72"), unit_id, warga["id"], {"telepon": None},
            [ANY_VERSION], store, READER)
    refused(NotFound, usecases.ubah_anggota, ADMIN, unit_id, "orang-lain", {"telepon": None}, [ANY_VERSION], store,
            READER)
    refused(NotFound, usecases.get_anggota, ADMIN, tree["31.72"]["id"], warga["id"], store, READER)
    assert store.get("anggota", warga["id"])["telepon"] == WARGA["telepon"]
