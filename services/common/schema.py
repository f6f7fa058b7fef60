"""Marshmallow base for every schema at every boundary, speaking Bahasa Indonesia to users.

Importing this module sets Indonesian default messages on marshmallow's fields and validators,
so a field declared anywhere in the project reports errors the way users read them.

Framework-free core (marshmallow): imported by every schema and use case, and the gateway.
"""
import copy
import functools
import itertools
import re

from marshmallow import RAISE, Schema, ValidationError, fields, missing, pre_load, validate, validates_schema

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
    """The body of a PATCH: the fields to change, at least one (the API document says so with
    `minProperties: 1`: gateway/blueprint.py)."""

    @validates_schema
    def something_changes(self, data, **kwargs):
        if not data:
            raise ValidationError("Kirim minimal satu field yang diubah.")


# Corrections (services/common/patch.py): what a PATCH takes, and how its event tells of it.

NOT_CORRECTABLE = "Field ini tidak dapat dikoreksi."


def patch_fields(creation, names, nullable=()):
    """The fields `names` of the `creation` schema as a merge patch takes them: with creation's
    own validators, none required, null only for those in `nullable` (a null empties a field,
    RFC 7396, so only one that may be empty takes it)."""
    taken = {}
    for name in names:
        field = copy.deepcopy(creation._declared_fields[name])
        field.required, field.load_default, field.allow_none = False, missing, name in nullable
        taken[name] = field
    return taken


def correction_schema(name, creation, correctable, nullable=(), refusals=None, view=None,
                      not_correctable=NOT_CORRECTABLE, **declared):
    """The body of a correction (a JSON merge patch, at least one field): the `correctable`
    fields of the `creation` schema (patch_fields), or as `declared` where a correction takes one
    otherwise (a part of a nested object, a description of its own). A field named in
    `refusals` ({field: why, and what to do instead}) is refused by name, and so is any other
    field of the entity's `view` schema, with `not_correctable`; a field of neither, as in every
    body, as unknown."""
    if not set(declared) <= set(correctable):
        raise ValueError(f"declared fields a correction does not change: {sorted(set(declared) - set(correctable))}")
    fixed = {field_name: not_correctable for field_name in (view._declared_fields if view else ())
             if field_name not in correctable}
    fixed.update(refusals or {})

    def refuse_fixed(self, data, **kwargs):
        if isinstance(data, dict) and (errors := {field_name: [fixed[field_name]] for field_name in data
                                                  if field_name in fixed}):
            raise ValidationError(errors)
        return data

    taken = {**patch_fields(creation, set(correctable) - set(declared), nullable), **declared}
    return type(name, (ChangesSchema,), {**{field_name: taken[field_name] for field_name in correctable},
                                         "refuse_fixed": pre_load(refuse_fixed)})


class ChangedNames(fields.List):
    """The `diubah` of a correction's event: the sorted names of the fields it changed, never
    their values (they may be personal data), and of those only the ones among `names`: a
    public projection tells only the changes it may (public_correction)."""

    def __init__(self, names, note=None, **kwargs):
        description = f"Nama field yang dikoreksi ({', '.join(names)}), tanpa nilainya."
        super().__init__(fields.String(validate=one_of(names)), required=True, metadata={
            "description": " ".join(filter(None, (description, note)))}, **kwargs)
        self.names, self.note = names, note

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value and [name for name in value if name in self.names], attr, obj, **kwargs)


def public_correction(data_schema, *names, changes=None, **nested):
    """The public projection of a correction's event (data_schema with a ChangedNames `diubah`):
    `names` of its data and the `nested` projections, as the entity's other events show them,
    and `diubah` cut to `changes`, the fields whose correction is no one's personal data (by
    default those among the fields shown: that a member's phone number changed is nobody else's
    business); left out when there are none."""
    # services.common.events builds on this module: its projection is taken when it is asked for.
    from services.common.events import public_schema

    changed = data_schema._declared_fields["diubah"]
    told = tuple(name for name in changed.names if name in (names if changes is None else changes))
    if not told:
        return public_schema(data_schema, *names, **nested)
    projection = public_schema(data_schema, *names, "diubah", **nested)
    return type(projection.__name__, (projection,), {"diubah": ChangedNames(told, changed.note)})


# Said of a field whose rule no JSON Schema keyword can state (it depends on another field, on a
# record or an area that must exist, on a numbering plan): under this key in the API document,
# and in words in its description.
RULE_KEY = "x-aturan"


def aturan(text, metadata=None):
    """Field metadata stating a rule the schema's keywords cannot: in words in the description,
    and under `x-aturan`, so a client knows that a value the schema accepts may still be refused
    (400, the field named in `errors`) for this rule."""
    metadata = dict(metadata or {})
    return {**metadata, "description": " ".join(filter(None, (metadata.get("description"), text))), RULE_KEY: text}


WILAYAH_TERDAFTAR = "Harus kode yang ada dan masih berlaku dalam referensi wilayah Kemendagri (GET /api/v1/wilayah)."


def not_before(other):
    return f"Tidak boleh sebelum `{other}`."


def existing(what):
    return f"Harus id {what} yang ada."


def forbids(*names):
    """JSON Schema: an object with none of the fields `names`."""
    return {"not": {"anyOf": [{"required": [name]} for name in names]}}


def at_most_one_of(*names):
    """JSON Schema: an object with no two of the fields `names`."""
    return {"not": {"anyOf": [{"required": list(pair)} for pair in itertools.combinations(names, 2)]}}


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
    travels over RPC and how it is stored, and ISO strings sort as dates do. Its years (1900 to
    2199) are in the API document as a pattern beside `format: date`."""

    YEARS = r"^(19|20|21)[0-9]{2}-"

    def __init__(self, *args, metadata=None, **kwargs):
        super().__init__(*args, metadata={"pattern": self.YEARS, **(metadata or {})}, **kwargs)

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
    pattern, since no pattern can tell a valid number from an invalid one: that rule is its
    `x-aturan`."""

    FORMS = {True: "Nomor seluler", False: "Nomor telepon"}
    RULES = {True: "Harus nomor seluler yang sah menurut rencana penomoran negaranya (dapat menerima SMS/WhatsApp).",
             False: "Harus nomor yang sah menurut rencana penomoran negaranya."}

    def __init__(self, mobile=True, *, metadata=None, **kwargs):
        metadata = metadata or {}
        forms = (f"{self.FORMS[mobile]} Indonesia (081234567890, 6281234567890 atau +6281234567890, boleh dengan "
                 "spasi, tanda hubung, titik atau kurung) atau nomor luar negeri diawali + dan kode negara; "
                 "disimpan dalam format E.164 (+6281234567890).")
        described = {**metadata, "description": " ".join(filter(None, (metadata.get("description"), forms)))}
        super().__init__(metadata={"pattern": phone.WRITTEN, "example": "0812-3456-7890",
                                   **aturan(self.RULES[mobile], described)}, **kwargs)
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
