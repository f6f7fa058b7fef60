"""Marshmallow schemas speaking Bahasa Indonesia, and the CloudEvents envelope."""
import uuid
from datetime import date, datetime

import pytest
from marshmallow import ValidationError, fields, validate

from services.common.errors import InvalidInput
from services.common.events import new_event, parse_event
from services.common.phone import INVALID, NOT_MOBILE
from services.common.schema import KODE_WILAYAH_MESSAGE, BaseSchema, IsoDate, PageQuerySchema, load
from services.organisasi.schemas import (EVENT_DATA_SCHEMAS,
                                         PengurusBaruSchema, UnitBaruSchema)

PERSONAL_FIELDS = {"telepon", "email", "nrp"}


class Contoh(BaseSchema):
    nama = fields.String(required=True, validate=validate.Length(min=1, max=5))
    jumlah = fields.Integer(validate=validate.Range(min=1))
    aktif = fields.Boolean()
    email = fields.Email()
    tanggal = IsoDate()


def errors_of(schema_class, payload):
    """The field errors `load` reports, as InvalidInput, for `payload`."""
    with pytest.raises(InvalidInput) as caught:
        load(schema_class, payload)
    assert caught.value.payload["code"] == "input_tidak_valid"
    return caught.value.payload["errors"]


def pengurus_baru(**fields_):
    return {"jabatan": "ketua", "nama": "Budi Santoso", "nrp": "87654321", "pangkat": "Irjen Pol",
            "jabatan_polri": "Kapolda Metro Jaya", "telepon": "081234567890",
            "email": "budi@contoh.id", "mulai": "2025-01-31", **fields_}


# Indonesian messages

@pytest.mark.parametrize("payload, field, message", [
    ({}, "nama", "Wajib diisi."),
    ({"nama": "a", "lain": 1}, "lain", "Field tidak dikenal."),
    ({"nama": None}, "nama", "Tidak boleh kosong (null)."),
    ({"nama": 5}, "nama", "Harus berupa teks."),
    ({"nama": "terlalu panjang"}, "nama", "Panjang harus antara 1 dan 5."),
    ({"nama": "a", "jumlah": "x"}, "jumlah", "Harus berupa bilangan bulat."),
    ({"nama": "a", "jumlah": 0}, "jumlah", "Harus lebih besar atau sama dengan 1."),
    ({"nama": "a", "aktif": "mungkin"}, "aktif", "Harus berupa boolean (true/false)."),
    ({"nama": "a", "email": "bukan-email"}, "email", "Alamat email tidak valid."),
    ({"nama": "a", "tanggal": "2025-02-30"}, "tanggal", "Harus berupa tanggal dengan format YYYY-MM-DD."),
    ({"nama": "a", "tanggal": "31/01/2025"}, "tanggal", "Harus berupa tanggal dengan format YYYY-MM-DD."),
])
def test_messages_are_in_bahasa_indonesia(payload, field, message):
    assert errors_of(Contoh, payload) == {field: [message]}


@pytest.mark.parametrize("payload", [[1, 2], "teks", 3])
def test_a_body_that_is_not_an_object_is_refused(payload):
    assert errors_of(Contoh, payload) == {"_schema": ["Data harus berupa objek JSON."]}


def test_page_query_range_messages():
    assert errors_of(PageQuerySchema, {"per_page": 500}) == {
        "per_page": ["Harus lebih besar atau sama dengan 1 dan lebih kecil atau sama dengan 200."]}
    assert load(PageQuerySchema, None) == {"page": 1, "per_page": 20}


def test_load_of_nothing_reports_required_fields():
    assert errors_of(UnitBaruSchema, None) == {"tingkat": ["Wajib diisi."]}


# IsoDate

def test_iso_date_loads_to_an_iso_string():
    assert Contoh().load({"nama": "a", "tanggal": "2025-01-31"}) == {"nama": "a", "tanggal": "2025-01-31"}


@pytest.mark.parametrize("value, dumped", [("2025-01-31", "2025-01-31"),
                                           (date(2025, 1, 31), "2025-01-31"),
                                           (None, None)])
def test_iso_date_dumps_strings_through_and_dates_as_iso(value, dumped):
    assert Contoh().dump({"tanggal": value}) == {"tanggal": dumped}


# Organisasi bodies

def test_a_valid_appointment_loads():
    assert load(PengurusBaruSchema, pengurus_baru()) == {**pengurus_baru(), "telepon": "+6281234567890"}


@pytest.mark.parametrize("nrp", ["1234567", "123456789", "abcdefgh", ""])
def test_appointment_refuses_a_bad_nrp(nrp):
    assert errors_of(PengurusBaruSchema, pengurus_baru(nrp=nrp)) == {"nrp": ["NRP harus terdiri dari 8 angka."]}


@pytest.mark.parametrize("telepon, message", [("12345", INVALID), ("0212345678", NOT_MOBILE),
                                              ("+1 555 0100", INVALID), ("08123", INVALID),
                                              ("0812345678901234", INVALID)])
def test_appointment_refuses_a_bad_phone(telepon, message):
    assert errors_of(PengurusBaruSchema, pengurus_baru(telepon=telepon)) == {"telepon": [message]}


@pytest.mark.parametrize("telepon", ["081234567890", "+6281234567890", "6281234567890"])
def test_appointment_accepts_mobile_numbers(telepon):
    assert load(PengurusBaruSchema, pengurus_baru(telepon=telepon))["telepon"] == "+6281234567890"


@pytest.mark.parametrize("schema_class, payload, field", [
    (PengurusBaruSchema, pengurus_baru(nrp="87654321\n"), "nrp"),
    (PengurusBaruSchema, pengurus_baru(nrp="٨٧٦٥٤٣٢١"), "nrp"),
    (PengurusBaruSchema, pengurus_baru(telepon="081234567890\n"), "telepon"),
    (UnitBaruSchema, {"tingkat": "kabupaten_kota", "kode_wilayah": "31.71\n"}, "kode_wilayah"),
], ids=["nrp-newline", "nrp-arabic-digits", "telepon-newline", "kode-newline"])
def test_patterns_match_the_whole_value(schema_class, payload, field):
    assert field in errors_of(schema_class, payload)


def test_appointment_reports_every_bad_field():
    errors = errors_of(PengurusBaruSchema, {"jabatan": "bendahara", "mulai": "kemarin"})
    assert set(errors) == {"jabatan", "nama", "mulai"}
    assert errors["nama"] == ["Wajib diisi."]
    assert errors["jabatan"] == ["Harus salah satu dari: ketua, wakil_ketua, sekretaris."]


@pytest.mark.parametrize("kode", ["3171", "31.7", "31-71", "31.71.", "DKI"])
def test_unit_refuses_a_badly_formatted_area_code(kode):
    assert errors_of(UnitBaruSchema, {"tingkat": "kabupaten_kota", "kode_wilayah": kode}) == {
        "kode_wilayah": [KODE_WILAYAH_MESSAGE]}


def test_unit_accepts_a_kemendagri_code_or_none():
    assert load(UnitBaruSchema, {"tingkat": "kabupaten_kota", "kode_wilayah": "31.71"}) == {
        "tingkat": "kabupaten_kota", "kode_wilayah": "31.71"}
    assert load(UnitBaruSchema, {"tingkat": "nasional", "kode_wilayah": None}) == {
        "tingkat": "nasional", "kode_wilayah": None}


# CloudEvents envelope

def sample_event(**overrides):
    event = new_event("organisasi", "unit.dibentuk", "units/u1", {"id": "u1"},
                      wilayah="31.71", correlation_id="req-1")
    event.update(overrides)
    return event


def test_new_event_is_a_cloudevent():
    event = sample_event()
    assert event["specversion"] == "1.0"
    assert uuid.UUID(event["id"]).version == 4
    assert event["source"] == "/bkpm/organisasi"
    assert event["type"] == "unit.dibentuk"
    assert event["subject"] == "units/u1"
    assert event["datacontenttype"] == "application/json"
    assert event["data"] == {"id": "u1"}
    assert event["wilayah"] == "31.71"
    assert event["correlationid"] == "req-1"
    assert datetime.fromisoformat(event["time"]).utcoffset() is not None


def test_every_event_has_its_own_id():
    assert sample_event()["id"] != sample_event()["id"]


def test_national_event_has_no_area():
    event = new_event("organisasi", "unit.dibentuk", "units/u0", {"id": "u0"})
    assert event["wilayah"] is None and event["correlationid"] is None
    assert parse_event(event)["wilayah"] is None


def test_new_event_refuses_a_badly_named_type():
    with pytest.raises(ValueError, match="Unit Dibentuk"):
        new_event("organisasi", "Unit Dibentuk", "units/u1", {"id": "u1"})


def test_parse_event_loads_an_event_and_keeps_extensions():
    event = sample_event(traceparent="00-abc-def-01")
    assert parse_event(event) == event


@pytest.mark.parametrize("change, field", [
    ({"specversion": "0.3"}, "specversion"),
    ({"id": ""}, "id"),
    ({"type": "UnitDibentuk"}, "type"),
    ({"data": "bukan objek"}, "data"),
])
def test_parse_event_refuses_a_bad_attribute(change, field):
    with pytest.raises(ValidationError) as caught:
        parse_event(sample_event(**change))
    assert field in caught.value.messages


@pytest.mark.parametrize("missing", ["id", "specversion", "source", "type", "time", "data"])
def test_parse_event_refuses_a_missing_attribute(missing):
    event = sample_event()
    del event[missing]
    with pytest.raises(ValidationError) as caught:
        parse_event(event)
    assert caught.value.messages == {missing: ["Wajib diisi."]}


# Event data: never personal data

FULL_RECORD = {
    "id": "p1", "unit_id": "u1", "tingkat": "provinsi", "kode_wilayah": "31", "induk_id": "u0",
    "jabatan": "ketua", "nama": "Budi Santoso", "kategori": "masyarakat", "pangkat": "Irjen Pol",
    "jabatan_polri": "Kapolda Metro Jaya", "mulai": "2025-01-01", "selesai": "2025-12-31",
    "bergabung": "2025-01-01", "keluar": "2025-12-31", "alasan": "mutasi",
    "telepon": "081234567890", "email": "budi@contoh.id", "nrp": "87654321",
    "alamat": "Jl. Contoh 1", "dibuat": "2025-01-01T00:00:00+07:00",
    "ditambahkan": 1, "diganti_nama": 2, "dipulihkan": 0, "tidak_berlaku": 1,
    "diubah": ["email", "nama", "selesai", "telepon"],
}


@pytest.mark.parametrize("event_type", sorted(EVENT_DATA_SCHEMAS))
def test_event_data_never_carries_personal_data(event_type):
    schema = EVENT_DATA_SCHEMAS[event_type]()
    data = schema.dump(FULL_RECORD)
    assert not PERSONAL_FIELDS & set(data)
    assert not PERSONAL_FIELDS & set(schema.fields)
    assert set(data) == set(schema.fields)  # only the declared fields, nothing else of the record
    # ... and it makes a valid envelope.
    assert parse_event(new_event("organisasi", event_type, "x/1", data))["data"] == data


def test_dates_outside_the_years_date_arithmetic_supports_are_refused():
    from marshmallow import Schema, ValidationError

    from services.common.schema import IsoDate

    class Period(Schema):
        dari = IsoDate()

    assert Period().load({"dari": "2026-01-31"}) == {"dari": "2026-01-31"}
    for far in ("0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"):
        with pytest.raises(ValidationError) as refused:
            Period().load({"dari": far})
        assert refused.value.messages == {"dari": ["Tanggal harus antara tahun 1900 dan 2199."]}
