"""Text people type (services.common.schema.text_field): names and other short fields are one
line, free text may keep its line breaks, and neither carries control characters, so nothing
typed on a form can start a new line of an email, a header or a log."""
import importlib
import inspect

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from services.common.schema import BaseSchema, PlainText, text_field

ONE_LINE = "Harus satu baris, tanpa baris baru atau karakter kendali."
NO_CONTROL = "Tidak boleh memuat karakter kendali (selain baris baru dan tab)."


class Form(BaseSchema):
    nama = text_field(200)
    isi = text_field(5000, multiline=True)


@pytest.mark.parametrize("typed", [
    "Bu Wati\nAkun Anda diblokir, buka http://contoh.test", "Bu Wati\r\nBcc: semua@contoh.id", "Bu Wati\n",
    "Bu\rWati", "Bu\u2028Wati", "Bu\u2029Wati", "Bu\x85Wati", "Bu\x0bWati", "Bu\tWati", "Bu\x00Wati",
    "Bu\x1b[31mWati", "Bu\x7fWati", "\u202eitaW uB", "Bu \u2066Wati\u2069",
])
def test_a_single_line_field_refuses_line_breaks_and_control_characters(typed):
    with pytest.raises(ValidationError) as refused:
        Form().load({"nama": typed})
    assert refused.value.messages == {"nama": [ONE_LINE]}


def test_free_text_keeps_its_lines_and_tabs_but_no_other_control_character():
    text = "Lampu jalan mati.\r\nSudah seminggu.\n\n\tMohon dibantu.\u2028Terima kasih."
    assert Form().load({"isi": text}) == {"isi": text}
    for typed in ("a\x00b", "a\x1b[31mb", "a\x7fb", "a\x9bb", "a\x0bb", "a\x0cb", "a\u202eb"):
        with pytest.raises(ValidationError) as refused:
            Form().load({"isi": typed})
        assert refused.value.messages == {"isi": [NO_CONTROL]}


def test_names_in_any_script_and_with_their_punctuation_pass():
    for name in ("Siti Nur'aini", "Dr. H. Ahmad Fauzi, S.H., M.H.", "Kombes Pol. I Wayan Sudarma",
                 "Ni Luh Putu Ayu (Bu Ayu)", "محمد", "Dialog Kamtibmas 🤝 RW 03", "Bu\u00a0Wati"):
        assert Form().load({"nama": name}) == {"nama": name}


def test_the_rule_is_in_the_api_document_as_the_pattern_it_checks():
    from apispec.ext.marshmallow.field_converter import FieldConverterMixin
    assert FieldConverterMixin.field2pattern(None, Form().fields["nama"]) == {
        "pattern": PlainText.SINGLE_LINE.pattern}


# Every service's forms: which fields are text people type, and of what kind

SERVICES = ("akun", "bantuan", "kegiatan", "notifikasi", "organisasi")
SHORT = {"nama", "judul", "alamat", "pangkat", "jabatan_polri", "topik_lainnya", "materi_lainnya", "kategori"}
FREE = {"isi", "catatan", "komentar", "deskripsi", "ringkasan", "tindak_lanjut", "alasan", "syarat", "bukti"}


def typed_fields():
    """(service, schema, field name, field) of every String field of the services' schemas that
    takes text as people type it: named so, and checked on load, but not against a choice or a
    pattern (a `kategori` that is a choice is not typed)."""
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.schemas")
        for schema in vars(module).values():
            if not (inspect.isclass(schema) and issubclass(schema, Schema) and schema.__module__ == module.__name__):
                continue
            for name, field in schema._declared_fields.items():
                chosen = any(isinstance(v, (validate.OneOf, validate.Regexp)) for v in field.validators)
                if name in SHORT | FREE and type(field) is fields.String and field.validators and not chosen:
                    key = (service, schema.__name__, name)
                    yield pytest.param(*key, field, id=".".join(key))


@pytest.mark.parametrize(("service", "schema", "name", "field"), list(typed_fields()))
def test_every_typed_field_of_every_service_is_checked_as_text(service, schema, name, field):
    [rule] = [v for v in field.validators if isinstance(v, PlainText)]
    if name in SHORT:
        assert rule.regex is PlainText.SINGLE_LINE


def test_the_texts_of_activities_and_aspirations_keep_their_lines():
    from services.kegiatan import schemas
    for schema, name in ((schemas.AspirasiBaruSchema, "isi"), (schemas.TindakLanjutSchema, "catatan"),
                         (schemas.BatalSchema, "alasan"), (schemas.LaporanSchema, "ringkasan"),
                         (schemas.TemuanSchema, "tindak_lanjut"), (schemas.KegiatanBaruSchema, "deskripsi"),
                         (schemas.SurveiSchema, "komentar")):
        [rule] = [v for v in schema._declared_fields[name].validators if isinstance(v, PlainText)]
        assert rule.regex is PlainText.MULTILINE, f"{schema.__name__}.{name}"
