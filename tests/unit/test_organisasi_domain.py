"""The organisasi domain rules, in plain Python: no broker, no database."""
import pytest

from services.common.errors import Forbidden, InvalidInput
from services.common.access import Actor, within
from services.common.privacy import mask_email, mask_phone
from services.organisasi.domain import (TINGKAT_LABEL, check_appointment, check_unit_level, code_depth,
                                        mask_contact, parent_code, parse_wilayah_rows,
                                        plan_wilayah_import, require_manage)


def field_errors(func, *args):
    """Call `func`, expect InvalidInput, and return its field -> messages dict."""
    with pytest.raises(InvalidInput) as caught:
        func(*args)
    assert caught.value.payload["code"] == "input_tidak_valid"
    return caught.value.payload["errors"]


def forbidden(func, *args):
    """Call `func`, expect Forbidden, and return its payload."""
    with pytest.raises(Forbidden) as caught:
        func(*args)
    payload = caught.value.payload
    assert payload["code"] == "akses_ditolak"
    assert "errors" not in payload
    return payload


def actor(role="admin", wilayah=None):
    return Actor(sub="penguji", roles=(role,), wilayah=wilayah)


# Area codes and levels

@pytest.mark.parametrize("kode, depth", [(None, 0), ("", 0), ("31", 1), ("31.71", 2),
                                         ("31.71.01", 3), ("31.71.01.1001", 4)])
def test_code_depth(kode, depth):
    assert code_depth(kode) == depth


@pytest.mark.parametrize("kode, parent", [("31.71.01.1001", "31.71.01"), ("31.71.01", "31.71"),
                                          ("31.71", "31"), ("31", None), (None, None)])
def test_parent_code(kode, parent):
    assert parent_code(kode) == parent


@pytest.mark.parametrize("tingkat, kode", [("nasional", None), ("provinsi", "31"),
                                           ("kabupaten_kota", "31.71"), ("kecamatan", "31.71.01")])
def test_unit_level_matching_its_code_is_accepted(tingkat, kode):
    assert check_unit_level(tingkat, kode) is None


@pytest.mark.parametrize("tingkat, kode, named_level", [
    ("provinsi", "31.71", "kabupaten/kota"),
    ("provinsi", "31.71.01", "kecamatan"),
    ("kabupaten_kota", "31", "provinsi"),
    ("kabupaten_kota", "31.71.01", "kecamatan"),
    ("kecamatan", "31.71", "kabupaten/kota"),
    ("kecamatan", "31.71.01.1001", "desa/kelurahan"),
])
def test_unit_level_not_matching_its_code_names_both_levels(tingkat, kode, named_level):
    errors = field_errors(check_unit_level, tingkat, kode)
    assert list(errors) == ["kode_wilayah"]
    [message] = errors["kode_wilayah"]
    assert message == f"Kode {kode} adalah wilayah tingkat {named_level}, bukan {TINGKAT_LABEL[tingkat]}."


def test_national_unit_has_no_area_code():
    errors = field_errors(check_unit_level, "nasional", "31")
    assert errors == {"kode_wilayah": ["Unit nasional tidak memiliki kode wilayah."]}


@pytest.mark.parametrize("tingkat", ["provinsi", "kabupaten_kota", "kecamatan"])
def test_regional_unit_needs_an_area_code(tingkat):
    errors = field_errors(check_unit_level, tingkat, None)
    assert errors == {"kode_wilayah": [f"Wajib diisi untuk unit tingkat {TINGKAT_LABEL[tingkat]}."]}


# Who may act where

def test_within_national_is_everything():
    assert within("31.71", None)
    assert within(None, None)


def test_area_scoped_user_covers_own_area_and_below():
    scoped = actor(wilayah="31.71")
    assert scoped.covers("31.71")
    assert scoped.covers("31.71.01")
    assert scoped.covers("31.71.01.1001")


@pytest.mark.parametrize("kode", ["31.72", "31", "31.710", "31.7", "32.71", None])
def test_area_scoped_user_does_not_cover_elsewhere(kode):
    # 31.710 shares the string prefix "31.71" but is not inside it; None is the national unit.
    assert not actor(wilayah="31.71").covers(kode)


@pytest.mark.parametrize("kode", [None, "31", "31.71", "31.71.01", "92.01"])
def test_national_staff_cover_everything(kode):
    assert actor(wilayah=None).covers(kode)


def test_actor_round_trips_through_a_dict_and_empty_area_means_national():
    scoped = Actor.from_dict({"sub": "u1", "roles": ["petugas"], "wilayah": "31.71"})
    assert Actor.from_dict(scoped.to_dict()) == scoped
    assert Actor.from_dict({"sub": "u1", "roles": ["admin"], "wilayah": ""}).wilayah is None


@pytest.mark.parametrize("requested, visible", [
    (None, "31.71"),            # no filter: the caller's own area
    ("31", "31.71"),            # a wider request is narrowed
    ("31.71", "31.71"),
    ("31.71.01", "31.71.01"),   # a narrower request is kept
])
def test_visible_area_narrows_to_the_callers_area(requested, visible):
    assert actor(wilayah="31.71").visible_area(requested) == visible


@pytest.mark.parametrize("requested", [None, "31", "31.71.01"])
def test_visible_area_of_national_staff_is_the_request(requested):
    assert actor(wilayah=None).visible_area(requested) == requested


@pytest.mark.parametrize("requested", ["31.72", "32", "31.710"])
def test_visible_area_refuses_a_disjoint_request(requested):
    payload = forbidden(actor(wilayah="31.71").visible_area, requested)
    assert "31.71" in payload["detail"] and requested in payload["detail"]


def test_require_covers_names_the_national_level():
    payload = forbidden(actor(wilayah="31.71").require_covers, None)
    assert "tingkat nasional" in payload["detail"]


@pytest.mark.parametrize("role", ["admin", "pengurus"])
def test_managers_may_change_their_area(role):
    assert require_manage(actor(role, "31.71"), "31.71.01") is None


@pytest.mark.parametrize("role", ["pemantau", "petugas"])
def test_other_roles_may_not_change_anything(role):
    payload = forbidden(require_manage, actor(role, None), "31.71")
    assert payload["detail"] == "Peran Anda tidak berwenang mengubah data organisasi."


def test_managers_may_not_change_outside_their_area():
    forbidden(require_manage, actor("pengurus", "31.71"), "31.72")
    forbidden(require_manage, actor("admin", "31.71"), None)


# Board appointments

def pengurus(jabatan="ketua", **fields):
    polri = {"nrp": "87654321", "pangkat": "Irjen Pol", "jabatan_polri": "Kapolda Metro Jaya"}
    record = {"jabatan": jabatan, "nama": "Budi Santoso", "mulai": "2025-01-01",
              **(polri if jabatan in ("ketua", "sekretaris") else {})}
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


@pytest.mark.parametrize("tingkat, jabatan_polri", [
    ("provinsi", "Kapolda Metro Jaya"),
    ("kabupaten_kota", "Kapolres Jakarta Selatan"),
    ("kabupaten_kota", "Kapolresta Bogor"),
    ("kabupaten_kota", "Kapolrestabes Surabaya"),
    ("kecamatan", "Kapolsek Tebet"),
    ("nasional", "Kapolri"),
])
def test_ketua_with_the_right_polri_post_is_accepted(tingkat, jabatan_polri):
    assert check_appointment(tingkat, pengurus("ketua", jabatan_polri=jabatan_polri)) is None


def test_sekretaris_and_wakil_ketua_are_accepted():
    assert check_appointment("provinsi", pengurus("sekretaris", jabatan_polri="Kabid Binmas")) is None
    assert check_appointment("provinsi", pengurus("wakil_ketua", selesai="2030-01-01")) is None


@pytest.mark.parametrize("jabatan", ["ketua", "sekretaris"])
def test_polri_positions_need_nrp_pangkat_and_jabatan_polri(jabatan):
    errors = field_errors(check_appointment, "kecamatan",
                          pengurus(jabatan, nrp=None, pangkat=None, jabatan_polri=None))
    assert set(errors) == {"nrp", "pangkat", "jabatan_polri"}
    assert errors["nrp"] == [f"NRP wajib diisi untuk {jabatan} (anggota Polri)."]


@pytest.mark.parametrize("nrp", ["1234567", "123456789", "1234567a", "12 345678"])
def test_nrp_must_be_eight_digits(nrp):
    errors = field_errors(check_appointment, "kecamatan", pengurus("sekretaris", nrp=nrp))
    assert errors == {"nrp": ["NRP harus terdiri dari 8 angka."]}


@pytest.mark.parametrize("nrp", ["12345678\n", "١٢٣٤٥٦٧٨"])
def test_nrp_with_trailing_newline_or_non_ascii_digits_is_refused(nrp):
    field_errors(check_appointment, "kecamatan", pengurus("sekretaris", nrp=nrp))


@pytest.mark.parametrize("tingkat, jabatan_polri, expected", [
    ("provinsi", "Kapolres Bogor", "Kapolda"),
    ("provinsi", "Wakapolda Metro Jaya", "Kapolda"),
    ("kabupaten_kota", "Kapolda Jawa Barat", "Kapolres"),
    ("kabupaten_kota", "Kapolsek Tebet", "Kapolres"),
])
def test_ketua_of_province_or_regency_must_be_its_police_chief(tingkat, jabatan_polri, expected):
    errors = field_errors(check_appointment, tingkat, pengurus("ketua", jabatan_polri=jabatan_polri))
    assert list(errors) == ["jabatan_polri"]
    assert f"harus diawali '{expected}'" in errors["jabatan_polri"][0]


def test_police_chief_rule_applies_to_ketua_only():
    assert check_appointment("provinsi", pengurus("sekretaris", jabatan_polri="Kapolres Bogor")) is None


@pytest.mark.parametrize("name, value", [("nrp", "87654321"), ("pangkat", "AKBP"),
                                         ("jabatan_polri", "Kapolres Bogor")])
def test_wakil_ketua_is_not_polri(name, value):
    errors = field_errors(check_appointment, "kabupaten_kota", pengurus("wakil_ketua", **{name: value}))
    assert list(errors) == [name]
    assert "kosongkan field ini" in errors[name][0]


def test_term_may_not_end_before_it_starts():
    errors = field_errors(check_appointment, "kecamatan",
                          pengurus("sekretaris", mulai="2025-06-01", selesai="2025-05-31"))
    assert errors == {"selesai": ["Tanggal selesai tidak boleh sebelum tanggal mulai."]}
    assert check_appointment("kecamatan", pengurus("sekretaris", mulai="2025-06-01",
                                                   selesai="2025-06-01")) is None


def test_all_appointment_errors_are_reported_together():
    errors = field_errors(check_appointment, "provinsi",
                          pengurus("ketua", nrp="123", pangkat=None, jabatan_polri="Kapolres Bogor",
                                   mulai="2025-06-01", selesai="2025-01-01"))
    assert set(errors) == {"nrp", "pangkat", "jabatan_polri", "selesai"}


# Masking contacts

@pytest.mark.parametrize("phone, masked", [
    ("081234567890", "0812******90"),
    ("+6281234567890", "+628********90"),
    ("0812", "0**2"),
    (None, None),
    ("", ""),
])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked
    if phone:
        assert len(masked) == len(phone)


@pytest.mark.parametrize("email, masked", [
    ("budi.santoso@contoh.id", "b***@contoh.id"),
    ("a@b.id", "a***@b.id"),
    ("bukan-email", "bukan-email"),
    (None, None),
])
def test_mask_email(email, masked):
    assert mask_email(email) == masked


def test_mask_contact_masks_contacts_and_nrp_and_keeps_the_original():
    record = {"id": "p1", "nama": "Budi", "telepon": "081234567890", "email": "budi@contoh.id", "nrp": "68010123"}
    masked = mask_contact(record)
    assert masked == {"id": "p1", "nama": "Budi", "telepon": "0812******90", "email": "b***@contoh.id",
                      "nrp": "68****23"}
    assert record["telepon"] == "081234567890"


# Importing the official area list

def rows(*pairs):
    """(kode, nama) pairs as numbered rows, the first data line being line 2."""
    return [(line, kode, nama) for line, (kode, nama) in enumerate(pairs, start=2)]


def test_parse_accepts_a_clean_list_and_strips_whitespace():
    accepted, rejected = parse_wilayah_rows(rows(
        (" 31 ", " DKI JAKARTA "), ("31.71", "KOTA ADM. JAKARTA PUSAT"),
        ("31.71.01", "GAMBIR"), ("31.71.01.1001", "GAMBIR")))
    assert accepted == {"31": "DKI JAKARTA", "31.71": "KOTA ADM. JAKARTA PUSAT",
                        "31.71.01": "GAMBIR", "31.71.01.1001": "GAMBIR"}
    assert rejected == []


@pytest.mark.parametrize("kode", ["3171", "31.7", "31.71.1", "31.71.01.101", "x1", "", None])
def test_parse_rejects_bad_codes(kode):
    accepted, rejected = parse_wilayah_rows(rows(("31", "DKI JAKARTA"), (kode, "NAMA")))
    assert accepted == {"31": "DKI JAKARTA"}
    clean = (kode or "").strip()
    assert rejected == [(3, clean, f"kode '{clean}' tidak berformat kode wilayah Kemendagri")]


@pytest.mark.parametrize("nama", ["", "   ", None])
def test_parse_rejects_empty_names(nama):
    accepted, rejected = parse_wilayah_rows(rows(("31", nama)))
    assert accepted == {}
    assert rejected == [(2, "31", "nama wilayah 31 kosong")]


def test_parse_keeps_the_first_of_duplicate_codes():
    accepted, rejected = parse_wilayah_rows(rows(("31", "DKI JAKARTA"), ("31", "JAKARTA RAYA")))
    assert accepted == {"31": "DKI JAKARTA"}
    assert rejected == [(3, "31", "kode 31 muncul lebih dari sekali")]


def test_parse_rejects_orphans_and_all_their_descendants():
    accepted, rejected = parse_wilayah_rows(rows(
        ("31", "DKI JAKARTA"),
        ("31.71", "KOTA ADM. JAKARTA PUSAT"),
        ("32.01.01", "CIBINONG"),             # its parent 32.01 and grandparent 32 are missing
        ("31.7x", "RUSAK"),                   # rejected for its format ...
        ("31.72.01", "CAKUNG"),               # ... 31.72 is simply missing
        ("31.72.01.1001", "JATINEGARA KAUM"),  # child of the orphan above
    ))
    assert accepted == {"31": "DKI JAKARTA", "31.71": "KOTA ADM. JAKARTA PUSAT"}
    reasons = [reason for _, _, reason in rejected]
    assert "kode 32.01.01: wilayah induk 32.01 tidak ada dalam daftar" in reasons
    assert "kode 31.72.01: wilayah induk 31.72 tidak ada dalam daftar" in reasons
    assert "kode 31.72.01.1001: wilayah induk 31.72.01 tidak ada dalam daftar" in reasons
    assert len(rejected) == 4


def test_plan_sorts_every_change():
    current = {
        "31": ("DKI JAKARTA", True),             # unchanged
        "31.71": ("KOTA JAKARTA PUSAT", True),   # renamed
        "31.72": ("KOTA JAKARTA UTARA", False),  # removed earlier, back now
        "31.73": ("KOTA JAKARTA BARAT", True),   # removed now
        "31.74": ("KOTA LAMA", False),           # removed earlier, still absent
    }
    incoming = {"31": "DKI JAKARTA", "31.71": "KOTA ADM. JAKARTA PUSAT",
                "31.72": "KOTA ADM. JAKARTA UTARA", "31.75": "KOTA ADM. JAKARTA TIMUR"}
    plan = plan_wilayah_import(current, incoming)
    assert plan.added == {"31.75": "KOTA ADM. JAKARTA TIMUR"}
    assert plan.renamed == {"31.71": ("KOTA JAKARTA PUSAT", "KOTA ADM. JAKARTA PUSAT")}
    assert plan.restored == {"31.72": "KOTA ADM. JAKARTA UTARA"}
    assert plan.removed == ["31.73"]
    assert plan.unchanged == 1


def test_plan_of_the_same_list_changes_nothing():
    current = {"31": ("DKI JAKARTA", True), "31.71": ("JAKARTA PUSAT", True)}
    plan = plan_wilayah_import(current, {kode: nama for kode, (nama, _) in current.items()})
    assert (plan.added, plan.renamed, plan.restored, plan.removed, plan.unchanged) == ({}, {}, {}, [], 2)


def test_plan_removes_in_code_order():
    current = {"33": ("JAWA TENGAH", True), "31": ("DKI JAKARTA", True), "32": ("JAWA BARAT", True)}
    assert plan_wilayah_import(current, {}).removed == ["31", "32", "33"]


def test_a_rejected_row_does_not_retire_its_area():
    current = {"31": ("DKI JAKARTA", True), "31.71": ("KOTA JAKARTA PUSAT", True), "32": ("JAWA BARAT", True)}
    incoming, rejected = parse_wilayah_rows(rows(("31", "DKI JAKARTA"), ("31.71", ""), ("32", "JAWA BARAT")))
    plan = plan_wilayah_import(current, incoming, [kode for _, kode, _ in rejected])
    assert plan.removed == []
