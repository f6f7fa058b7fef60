"""Corrections: RFC 7396 merge patches, the versions they are made against, what changed, the
use-case step and the patch schemas every service builds its corrections from."""
import pytest
from marshmallow import fields

from services.common.errors import InvalidInput, PreconditionFailed
from services.common.patch import ANY_VERSION, Correction, changed_fields, etag_of, merge_patch, require_version
from services.common.schema import (NOT_CORRECTABLE, BaseSchema, ChangedNames, correction_schema, load, one_of,
                                    phone_field, public_correction, text_field)
from tests.unit.fakes import FakeStore


def test_merge_patch_follows_rfc_7396_examples():
    # RFC 7396 Appendix A, a few of its cases.
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_merge_patch_leaves_its_inputs_alone():
    target, patch = {"a": {"b": 1}}, {"a": {"b": 2}}
    merge_patch(target, patch)
    assert target == {"a": {"b": 1}} and patch == {"a": {"b": 2}}


def test_etag_ignores_key_order_and_sees_every_value():
    assert etag_of({"a": 1, "b": [1, 2]}) == etag_of({"b": [1, 2], "a": 1})
    assert etag_of({"a": 1}) != etag_of({"a": 2})


def test_a_change_against_another_version_is_refused():
    view = {"id": "u-1", "nama": "BKPM Semarang"}
    require_version([etag_of(view)], view)
    require_version([ANY_VERSION], view)
    with pytest.raises(PreconditionFailed) as refused:
        require_version([etag_of({**view, "nama": "lama"})], view)
    assert refused.value.status == 412 and "diubah" in refused.value.payload["detail"]


def test_changed_fields_name_old_and_new_values():
    assert changed_fields({"nama": "A", "alamat": "x", "telepon": "1"}, {"nama": "B", "alamat": "x"}) == {
        "nama": {"lama": "A", "baru": "B"}, "telepon": {"lama": "1", "baru": None}}


# The use-case step every service's corrections share (Correction)

class Catatan(BaseSchema):
    id = fields.String(required=True)
    nama = fields.String(required=True)
    telepon = fields.String(allow_none=True)


class CatatanDiubah(Catatan):
    diubah = ChangedNames(("nama", "telepon"))


class Store(FakeStore):
    DATA_SCHEMAS = {"catatan.diubah": CatatanDiubah}
    PUBLIC_SCHEMAS = {"catatan.diubah": public_correction(CatatanDiubah, "id", "nama")}


CATATAN = Correction("catatan", ("nama", "telepon"), "catatan.diubah")
RECORD = {"id": "c-1", "nama": "Siti", "telepon": "+6281234567890", "status": "aktif"}


def test_a_patch_changes_only_the_editable_fields_and_names_what_changed():
    after, changes = CATATAN.apply(RECORD, {"nama": "Sitti", "telepon": None})
    # A field emptied stays, as None: the service keeps every field of its records.
    assert after == {"id": "c-1", "nama": "Sitti", "telepon": None, "status": "aktif"}
    assert changes == {"nama": {"lama": "Siti", "baru": "Sitti"}, "telepon": {"lama": "+6281234567890", "baru": None}}
    assert CATATAN.apply(RECORD, {"nama": "Siti"}) == (RECORD, {})


def test_a_service_that_keeps_no_empty_field_loses_the_field_a_patch_empties():
    kegiatan = Correction("kegiatan", ("judul", "deskripsi", "lokasi"), "kegiatan.diubah", keeps_empty=False)
    before = {"id": "k-1", "judul": "Dialog", "lokasi": {"kode_wilayah": "31", "lat": -6.2}, "status": "direncanakan"}
    after, changes = kegiatan.apply(before, {"deskripsi": None, "lokasi": {"lat": None, "alamat": "Balai RW"}})
    assert after == {**before, "lokasi": {"kode_wilayah": "31", "alamat": "Balai RW"}}
    assert list(changes) == ["lokasi"]
    after, changes = kegiatan.apply(after, {"deskripsi": "Bawa KTP."})
    assert after["deskripsi"] == "Bawa KTP." and changes == {"deskripsi": {"lama": None, "baru": "Bawa KTP."}}


def test_a_correction_is_saved_over_the_record_as_read_and_told_by_name_only():
    store = Store()
    before = store.put("catatan", RECORD)
    after, changes = CATATAN.apply(before, {"telepon": "+6281111111111", "nama": "Sitti"})
    store.uow.commit(lambda tx: CATATAN.save(tx, store, before, after, changes, "catatan/c-1", "31"))
    assert store.get("catatan", "c-1") == after
    [event] = store.uow.events
    assert (event["type"], event["subject"], event["wilayah"]) == ("catatan.diubah", "catatan/c-1", "31")
    assert event["data"] == {"id": "c-1", "nama": "Sitti", "telepon": "+6281111111111", "diubah": ["nama", "telepon"]}
    # The feed shows what the entity's other events show, and of the changes only those among them.
    assert event["public"] == {"id": "c-1", "nama": "Sitti", "diubah": ["nama"]}

    # Told with other data than the record (a citizen's record is named, not shown).
    again, changes = CATATAN.apply(after, {"nama": "Siti Aminah"})
    store.uow.commit(lambda tx: CATATAN.save(tx, store, after, again, changes, "catatan/c-1", "31", {"id": "c-1"}))
    assert store.uow.events[-1]["data"] == {"id": "c-1", "diubah": ["nama"]}


def test_a_record_changed_since_it_was_read_is_not_overwritten():
    store = Store()
    before = store.put("catatan", RECORD)
    store.put("catatan", {**RECORD, "status": "nonaktif"})  # someone else's change, in between
    after, changes = CATATAN.apply(before, {"nama": "Sitti"})
    with pytest.raises(PreconditionFailed):
        store.uow.commit(lambda tx: CATATAN.save(tx, store, before, after, changes, "catatan/c-1", "31"))
    assert store.get("catatan", "c-1")["nama"] == "Siti" and store.uow.events == []


def test_a_public_projection_tells_the_changes_it_is_given_or_none_at_all():
    assert set(public_correction(CatatanDiubah, "id", changes=("telepon",))().fields) == {"id", "diubah"}
    assert public_correction(CatatanDiubah, "id")().dump({"id": "c-1", "diubah": ["nama"]}) == {"id": "c-1"}


# The body of a correction (correction_schema)

class CatatanBaru(BaseSchema):
    nama = text_field(200, required=True)
    telepon = phone_field()
    alamat = text_field(300, metadata={"description": "Alamat lengkap."})
    kategori = fields.String(required=True, validate=one_of(("a", "b")))


class CatatanView(CatatanBaru):
    id = fields.String(required=True)
    status = fields.String(required=True)


CatatanUbah = correction_schema("CatatanUbah", CatatanBaru, ("nama", "telepon", "alamat"), nullable=("telepon",),
                                view=CatatanView, refusals={"status": "Gunakan /aktifkan."},
                                alamat=text_field(300, metadata={"description": "Alamat baru."}))


def errors_of(payload):
    with pytest.raises(InvalidInput) as caught:
        load(CatatanUbah, payload)
    return caught.value.payload["errors"]


def test_a_correction_takes_creations_fields_with_their_rules_none_required_null_only_where_allowed():
    assert load(CatatanUbah, {"telepon": "0812-3456-7890"}) == {"telepon": "+6281234567890"}
    assert load(CatatanUbah, {"telepon": None}) == {"telepon": None}
    assert errors_of({"nama": None}) == {"nama": ["Tidak boleh kosong (null)."]}
    assert errors_of({"nama": ""}) == {"nama": ["Panjang harus antara 1 dan 200."]}
    assert errors_of({}) == {"_schema": ["Kirim minimal satu field yang diubah."]}
    assert list(CatatanUbah().fields) == ["nama", "telepon", "alamat"]
    assert CatatanUbah().fields["alamat"].metadata == {"description": "Alamat baru."}  # as declared


def test_what_may_not_be_corrected_is_refused_by_name_and_anything_else_as_unknown():
    assert errors_of({"status": "x", "nama": "Lain"}) == {"status": ["Gunakan /aktifkan."]}
    assert errors_of({"kategori": "a"}) == {"kategori": [NOT_CORRECTABLE]}
    assert errors_of({"warna": "biru"}) == {"warna": ["Field tidak dikenal."]}
    assert CatatanBaru().fields["nama"].required  # creation's own field is left as it was


def test_a_field_declared_for_a_correction_must_be_one_it_changes():
    with pytest.raises(ValueError):
        correction_schema("Salah", CatatanBaru, ("nama",), kategori=fields.String())
