"""Marshmallow base for every schema at every boundary, speaking Bahasa Indonesia to users.

Importing this module sets Indonesian default messages on marshmallow's fields and validators,
so a field declared anywhere in the project reports errors the way users read them.

Framework-free core (marshmallow): imported by every schema and use case, and the gateway.
"""
import functools
import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.common import phone
from services.common.access import KODE_WILAYAH_PATTERN
from services.common.errors import InvalidInput

_FIELD_MESSAGES = {
    fields.Field: {
        "required": "Wajib diisi.",
        "null": "Tidak boleh kosong (null).",
        "validator_failed": "Nilai tidak valid.",
    },
    fields.String: {"invalid": "Harus berupa teks.", "invalid_utf8": "Teks bukan UTF-8 yang valid."},
    fields.Integer: {"invalid": "Harus berupa bilangan bulat."},
    fields.Number: {"invalid": "Harus berupa angka.", "too_large": "Angka terlalu besar."},
    fields.Float: {"special": "Nilai NaN atau tak hingga tidak diperbolehkan."},
    fields.Boolean: {"invalid": "Harus berupa boolean (true/false)."},
    fields.Date: {
        "invalid": "Harus berupa tanggal dengan format YYYY-MM-DD.",
        "format": '"{input}" tidak dapat diformat sebagai tanggal.',
    },
    fields.DateTime: {
        "invalid": "Harus berupa waktu ISO 8601 (contoh 2025-01-31T09:00:00+07:00).",
        "invalid_awareness": "Waktu harus menyertakan zona waktu (contoh +07:00).",
        "format": '"{input}" tidak dapat diformat sebagai waktu.',
    },
    fields.AwareDateTime: {"invalid_awareness": "Waktu harus menyertakan zona waktu (contoh +07:00)."},
    fields.Email: {"invalid": "Alamat email tidak valid."},
    fields.List: {"invalid": "Harus berupa daftar (list)."},
    fields.Mapping: {"invalid": "Harus berupa objek."},
    fields.Nested: {"type": "Harus berupa objek."},
    fields.UUID: {"invalid_uuid": "Harus berupa UUID."},
    fields.Url: {"invalid": "URL tidak valid."},
}
for _field, _messages in _FIELD_MESSAGES.items():
    _field.default_error_messages = {**_field.default_error_messages, **_messages}

validate.Length.message_min = "Minimal {min} karakter."
validate.Length.message_max = "Maksimal {max} karakter."
validate.Length.message_all = "Panjang harus antara {min} dan {max}."
validate.Length.message_equal = "Panjang harus tepat {equal}."
validate.Range.message_min = "Harus {min_op} {{min}}."
validate.Range.message_max = "Harus {max_op} {{max}}."
validate.Range.message_all = "Harus {min_op} {{min}} dan {max_op} {{max}}."
validate.Range.message_gte = "lebih besar atau sama dengan"
validate.Range.message_gt = "lebih besar dari"
validate.Range.message_lte = "lebih kecil atau sama dengan"
validate.Range.message_lt = "lebih kecil dari"


class BaseSchema(Schema):
    """Unknown fields are refused, so a typo in a field name is an error, not silently lost."""

    class Meta:
        unknown = RAISE

    error_messages = {"type": "Data harus berupa objek JSON.", "unknown": "Field tidak dikenal."}


class ChangesSchema(BaseSchema):
    """The body of a PATCH: the fields to change, at least one."""

    @validates_schema
    def something_changes(self, data, **kwargs):
        if not data:
            raise ValidationError("Kirim minimal satu field yang diubah.")


def one_of(choices):
    return validate.OneOf(choices, error="Harus salah satu dari: {choices}.")


class FullMatch(validate.Regexp):
    """A pattern the whole value must match (re.fullmatch): the pattern is published in the
    OpenAPI document as written, in ECMA-262's `^...$`, and Python's `$` alone would let a
    trailing newline through."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def regexp(pattern, message="Format tidak valid."):
    return FullMatch(pattern, error=message)


def not_blank():
    return validate.Length(min=1, error="Tidak boleh kosong.")


class IsoDate(fields.Date):
    """A calendar date that stays an ISO string ('2025-01-31') once validated: that is how it
    travels over RPC and how it is stored, and ISO strings sort as dates do."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        # Dates take part in date arithmetic (deadlines, periods in WIB): keep them where it works.
        if not 1900 <= day.year <= 2199:
            raise ValidationError("Tanggal harus antara tahun 1900 dan 2199.")
        return day.isoformat()

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) else value.isoformat()


KODE_WILAYAH_MESSAGE = "Kode wilayah harus berformat Kemendagri, contoh 31, 31.71, 31.71.01, 31.71.01.1001."


def kode_wilayah_field(**kwargs):
    return fields.String(validate=regexp(KODE_WILAYAH_PATTERN, KODE_WILAYAH_MESSAGE), **kwargs)


class PlainText(validate.Validator):
    """Text without control characters (C0, DEL, C1) or the direction overrides that make text
    read otherwise than it is stored; `multiline` text keeps line breaks and tabs. A single line
    typed on a public form cannot start a new line of an email, a header or a log, nor pass for
    a paragraph of the message it is put in. The pattern is also what the API document shows
    (apispec reads `regex`); it is matched whole, so a trailing line break does not slip by."""

    SINGLE_LINE = re.compile(r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$")
    MULTILINE = re.compile(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$")

    def __init__(self, multiline=False):
        self.regex = self.MULTILINE if multiline else self.SINGLE_LINE
        self.error = ("Tidak boleh memuat karakter kendali (selain baris baru dan tab)." if multiline
                      else "Harus satu baris, tanpa baris baru atau karakter kendali.")

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self.error)
        return value


def text_field(maximum, multiline=False, **kwargs):
    """Text that is not empty, at most `maximum` characters and free of control characters: one
    line (a name, a title, an address) unless `multiline` (a report, an aspiration's text)."""
    return fields.String(validate=[validate.Length(min=1, max=maximum), PlainText(multiline)], **kwargs)


class Phone(fields.String):
    """A phone number however it was typed ('0812-3456-7890', '62812…', '+62 812…', '+65 9123
    4567'), loaded as E.164 ('+6281234567890'): the one spelling it is stored in and handed to
    SMS/WhatsApp providers in (services.common.phone). `mobile`: only a number that can receive
    SMS or WhatsApp. The API document gives the characters a number is written with as the
    pattern, since no pattern can tell a valid number from an invalid one."""

    FORMS = {True: "Nomor seluler", False: "Nomor telepon"}

    def __init__(self, mobile=True, *, metadata=None, **kwargs):
        metadata = metadata or {}
        forms = (f"{self.FORMS[mobile]} Indonesia (081234567890, 6281234567890 atau +6281234567890, boleh dengan "
                 "spasi, tanda hubung, titik atau kurung) atau nomor luar negeri diawali + dan kode negara; "
                 "disimpan dalam format E.164 (+6281234567890).")
        super().__init__(metadata={"pattern": phone.WRITTEN, "example": "0812-3456-7890", **metadata,
                                   "description": " ".join(filter(None, (metadata.get("description"), forms)))},
                         **kwargs)
        self.mobile = mobile

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return phone.to_e164(super()._deserialize(value, attr, data, **kwargs), self.mobile)
        except phone.InvalidPhone as exc:
            raise ValidationError(str(exc)) from None


def phone_field(mobile=True, **kwargs):
    return Phone(mobile, **kwargs)


class PhoneView(fields.String):
    """A stored number as people read it (services.common.phone.local_form): '0812-3456-7890',
    '+65 9123 4567'; a value that is no number (a masked one, an old one) as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return phone.local_form(super()._serialize(value, attr, obj, **kwargs))


def phone_view_field(**kwargs):
    return PhoneView(allow_none=True, metadata={
        "description": "Nomor telepon dalam bentuk lokal (0812-3456-7890; nomor luar negeri +65 9123 4567).",
        "example": "0812-3456-7890"}, **kwargs)


class PageQuerySchema(BaseSchema):
    # A page beyond any list still has to be a number the database can skip to.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


def page_of(item_schema):
    """The schema of one page of a list: the items and where they stand in the whole."""
    return type(f"{item_schema.__name__.removesuffix('Schema')}PageSchema", (BaseSchema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
    })


def page_result(items, total, query):
    return {"items": items, "total": total, "page": query["page"], "per_page": query["per_page"]}


@functools.cache
def instance(schema_class):
    """One instance of a schema class for every call: building one copies all its fields, which
    costs more than most loads. Marshmallow keeps no state of a call on the instance."""
    return schema_class()


def load(schema_class, payload):
    """Validate a payload at a service boundary; field errors become InvalidInput (400)."""
    try:
        return instance(schema_class).load(payload if payload is not None else {})
    except ValidationError as exc:
        raise InvalidInput(exc.messages) from None
