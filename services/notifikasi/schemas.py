"""The notifikasi service's schemas: the delivery log, the inbox, preferences and webhooks as
the API shows them, and event data."""
from urllib.parse import urlsplit

from marshmallow import fields, validate, validates_schema, ValidationError

from services.common.config import settings
from services.common.events import INTERNAL
from services.common.schema import (BaseSchema, PageQuerySchema, kode_wilayah_field, not_blank, one_of, page_of,
                                    phone_field, regexp)
from services.common.schema import aturan, at_most_one_of
from services.notifikasi.domain import KANAL, PREFERENSI, STATUS, in_blocked_network

EVENT_PATTERN = r"^(\*|[a-z_]+\.(\*|[a-z_]+))$"


class PengirimanSchema(BaseSchema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    penerima = fields.String(required=True, metadata={
        "description": "Penerima: 'akun:<sub>' bila punya akun, selain itu mis. 'pengurus:<id>'."})
    nama = fields.String(required=True)
    kanal = fields.String(required=True)
    tujuan = fields.String(allow_none=True, metadata={"description": "Alamat atau nomor, disamarkan."})
    status = fields.String(required=True)
    percobaan = fields.Integer(required=True)
    galat_terakhir = fields.String(allow_none=True)
    berikutnya = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Percobaan berikutnya, selama masih antri."})
    dibuat = fields.AwareDateTime(required=True)
    diperbarui = fields.AwareDateTime(required=True)


class PengirimanQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(STATUS))
    event_id = fields.String(validate=not_blank())
    kanal = fields.String(validate=one_of(KANAL))


PengirimanPageSchema = page_of(PengirimanSchema)


class PesanSchema(BaseSchema):
    """A message in one's inbox."""
    id = fields.String(required=True)
    event_type = fields.String(required=True)
    judul = fields.String(required=True)
    isi = fields.String(required=True)
    dibaca = fields.AwareDateTime(allow_none=True, metadata={"description": "Kapan dibaca; null bila belum."})
    dibuat = fields.AwareDateTime(required=True)


class KotakMasukQuerySchema(PageQuerySchema):
    dibaca = fields.Boolean(metadata={"description": "true: yang sudah dibaca; false: yang belum."})


KotakMasukPageSchema = page_of(PesanSchema)


class PreferensiBaruSchema(BaseSchema):
    kanal = fields.Dict(keys=fields.String(validate=one_of(PREFERENSI)), values=fields.Boolean(), required=True,
                        metadata={"description": "Per kanal (whatsapp, sms, email, inbox) atau 'semua': false "
                                                 "berarti tidak mau menerima. Kanal yang tidak disebut tetap.",
                                  "properties": {name: {"type": "boolean"} for name in PREFERENSI}})
    penerima = fields.String(validate=regexp(r"^[a-z]+:[^\s]{1,200}$", "Penerima tidak valid."),
                             metadata={"description": "Hanya admin: preferensi orang lain (mis. 'pelapor:<id>') "
                                                      "atas permintaannya. Bawaan: akun Anda sendiri."})
    email = fields.Email(metadata={
        "description": "Hanya admin nasional: preferensi alamat email ini, untuk semua pesan kepadanya dari "
                       "catatan mana pun (bagi yang tidak punya akun)."})
    telepon = phone_field(metadata={
        "description": "Hanya admin nasional: preferensi nomor ini (mis. yang membalas STOP), untuk semua pesan "
                       "kepadanya dari catatan mana pun (bagi yang tidak punya akun)."})

    # The channels are the only keys `kanal` takes (apispec gives a Dict field no way to say so).
    JSON_SCHEMA = {**at_most_one_of("penerima", "email", "telepon"),
                   "allOf": [{"properties": {"kanal": {"additionalProperties": False}}}]}

    @validates_schema
    def one_holder(self, data, **kwargs):
        if len({"penerima", "email", "telepon"} & data.keys()) > 1:
            raise ValidationError("Isi salah satu saja: penerima, email atau telepon.", "_schema")


class PreferensiSchema(BaseSchema):
    penerima = fields.String(required=True)
    kanal = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True)
    diperbarui = fields.AwareDateTime(allow_none=True)


class BerhentiSchema(BaseSchema):
    """What an email's opt-out link stops."""
    kanal = fields.String(required=True, metadata={"description": "Kanal yang dihentikan (email)."})
    berhenti = fields.Boolean(required=True,
                              metadata={"description": "true: pesan lewat kanal ini tidak lagi dikirim."})


class WebhookBaruSchema(BaseSchema):
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False, metadata=aturan(
        "Tanpa nama pengguna atau kata sandi; alamat IP di jaringan yang diblokir (WEBHOOK_BLOCKED_NETWORKS) "
        "ditolak.", {"format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}))
    rahasia = fields.String(required=True, load_only=True, validate=validate.Length(min=16, max=200), metadata={
        "description": "Rahasia bersama untuk tanda tangan HMAC-SHA256; tidak pernah ditampilkan lagi."})
    jenis = fields.List(fields.String(validate=regexp(
        EVENT_PATTERN, "Pola jenis event tidak valid (contoh 'kegiatan.*', 'aspirasi.diterima', '*').")),
        load_default=lambda: ["*"], validate=validate.Length(min=1, max=50),
        metadata={"description": "Jenis event yang diteruskan; bawaan semua ('*')."})
    wilayah = kode_wilayah_field(metadata={
        "description": "Hanya event di wilayah ini; bawaan wilayah Anda (nasional bila tanpa wilayah)."})

    @validates_schema
    def no_credentials_in_url(self, data, **kwargs):
        if "url" in data and urlsplit(data["url"]).username is not None:
            raise ValidationError({"url": ["URL tidak boleh memuat nama pengguna atau kata sandi."]})

    @validates_schema
    def not_into_a_blocked_network(self, data, **kwargs):
        """An address written in the URL is checked at once; a host name when each delivery is
        sent (its address may change), see services.notifikasi.channels.send_to_webhook."""
        host = urlsplit(data.get("url", "")).hostname or ""
        try:
            blocked = in_blocked_network(host, settings().webhook_blocked_networks)
        except ValueError:
            return  # a host name
        if blocked:
            raise ValidationError({"url": ["Alamat webhook berada di jaringan yang diblokir."]})


class WebhookSchema(BaseSchema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    jenis = fields.List(fields.String(), required=True)
    wilayah = fields.String(allow_none=True)
    oleh = fields.String(required=True)
    dibuat = fields.AwareDateTime(required=True)


class NotifikasiData(BaseSchema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    penerima = fields.String(required=True)
    kanal = fields.String(required=True)
    status = fields.String(required=True)


EVENT_DATA_SCHEMAS = {"notifikasi.terkirim": NotifikasiData, "notifikasi.gagal": NotifikasiData}

# Nothing of notifikasi is public (services.common.events.INTERNAL): each delivery is one message
# to one person, and which event it told of and over which channel says something about them (the
# reporter of that aspiration gave a phone number); a delivery of an internal event (a password
# reset) would announce that event. Outside systems get the events themselves; the delivery log
# (GET /notifikasi) and the metrics serve the area's admins.
PUBLIC_DATA_SCHEMAS = dict.fromkeys(EVENT_DATA_SCHEMAS, INTERNAL)
