"""The notifikasi service's schemas: the delivery log as the API shows it, and event data."""
from marshmallow import fields

from services.common.schema import BaseSchema, PageQuerySchema, not_blank, one_of, page_of
from services.notifikasi.domain import KANAL, STATUS


class PengirimanSchema(BaseSchema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    penerima = fields.String(required=True, metadata={"description": "Penerima, mis. 'pengurus:<id>'."})
    nama = fields.String(required=True)
    kanal = fields.String(required=True)
    tujuan = fields.String(allow_none=True, metadata={"description": "Alamat atau nomor, disamarkan."})
    status = fields.String(required=True)
    percobaan = fields.Integer(required=True)
    galat_terakhir = fields.String(allow_none=True)
    dibuat = fields.AwareDateTime(required=True)
    diperbarui = fields.AwareDateTime(required=True)


class PengirimanQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(STATUS))
    event_id = fields.String(validate=not_blank())
    kanal = fields.String(validate=one_of(KANAL))


PengirimanPageSchema = page_of(PengirimanSchema)


class NotifikasiData(BaseSchema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    penerima = fields.String(required=True)
    kanal = fields.String(required=True)
    status = fields.String(required=True)


EVENT_DATA_SCHEMAS = {"notifikasi.terkirim": NotifikasiData, "notifikasi.gagal": NotifikasiData}
