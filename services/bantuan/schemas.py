"""The bantuan service's schemas: RPC and HTTP bodies, responses and event data."""
from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.events import INTERNAL, public_schema
from services.common.schema import (BaseSchema, IsoDate, PageQuerySchema, kode_wilayah_field, not_blank, one_of,
                                    page_of, phone_field, regexp, text_field)
from services.bantuan.domain import (JENIS_BUKTI, JENIS_KELAMIN, JENIS_PROGRAM, STATUS_PROGRAM, kk_problems,
                                     nik_problems)

KODE_DESA_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"


class ProgramBaruSchema(BaseSchema):
    nama = text_field(200, required=True)
    jenis = fields.String(required=True, validate=one_of(JENIS_PROGRAM))
    unit_id = fields.String(required=True, validate=not_blank())
    mulai = IsoDate(required=True)
    selesai = IsoDate(required=True)
    kuota = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000_000))
    wilayah_sasaran = fields.List(kode_wilayah_field(), required=True, validate=validate.Length(min=1, max=1000))
    syarat = text_field(2000, multiline=True, metadata={"description": "Catatan kelayakan."})
    eksklusif_dengan = fields.List(fields.String(validate=not_blank()), load_default=list, metadata={
        "description": "Program yang tidak boleh diterima bersamaan oleh satu KK bila periodenya beririsan."})


class ProgramSchema(ProgramBaruSchema):
    id = fields.String(required=True)
    syarat = fields.String(allow_none=True, metadata={"description": "Catatan kelayakan."})
    status = fields.String(required=True)
    tersalur = fields.Integer(required=True)
    sisa = fields.Integer(required=True)
    dibuat = fields.AwareDateTime(required=True)


class ProgramQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(STATUS_PROGRAM))
    jenis = fields.String(validate=one_of(JENIS_PROGRAM))
    unit_id = fields.String(validate=not_blank())


class PenerimaBaruSchema(BaseSchema):
    nik = fields.String(required=True)
    no_kk = fields.String(required=True)
    nama = text_field(200, required=True)
    jenis_kelamin = fields.String(required=True, validate=one_of(JENIS_KELAMIN))
    tanggal_lahir = IsoDate(required=True)
    kode_wilayah = fields.String(required=True, validate=regexp(
        KODE_DESA_PATTERN, "Kode wilayah penerima harus tingkat desa/kelurahan, contoh 31.71.01.1001."))
    alamat = text_field(300, required=True)
    telepon = phone_field()


class PenerimaSchema(PenerimaBaruSchema):
    id = fields.String(required=True)
    # An erased recipient (`dihapus`) keeps none of their personal data.
    nik = fields.String(allow_none=True)
    no_kk = fields.String(allow_none=True)
    nama = fields.String(allow_none=True)
    jenis_kelamin = fields.String(allow_none=True)
    alamat = fields.String(allow_none=True)
    telepon = fields.String(allow_none=True)
    tanggal_lahir = IsoDate(allow_none=True, metadata={
        "description": "Hanya untuk pencatat pada satu penerima; null dalam daftar (dengan kode wilayah akan "
                       "membuka sebagian besar NIK)."})
    dicatat = fields.AwareDateTime(required=True)
    dihapus = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Kapan data pribadinya dihapus atas permintaan; penyalurannya tetap tercatat."})


class PenerimaQuerySchema(PageQuerySchema):
    kode_prefix = kode_wilayah_field()
    no_kk = fields.String(validate=not_blank())


def checked_by(problems):
    """A field validator refusing a value with what `problems(value)` finds wrong with it."""
    def check(value):
        found = problems(value)
        if found:
            raise ValidationError(found)
    return check


class CariPenerimaSchema(PageQuerySchema):
    """A lookup by NIK or by No. KK, sent in the body so the number is in no URL and no log."""
    nik = fields.String(validate=checked_by(nik_problems), metadata={"description": "16 angka."})
    no_kk = fields.String(validate=checked_by(kk_problems), metadata={
        "description": "16 angka: semua penerima dalam satu Kartu Keluarga."})

    @validates_schema
    def exactly_one_number(self, data, **kwargs):
        given = [name for name in ("nik", "no_kk") if name in data]
        if len(given) != 1:
            message = "Isi salah satu saja: nik atau no_kk."
            raise ValidationError({name: [message] for name in given or ("nik", "no_kk")})


class HapusPenerimaSchema(BaseSchema):
    alasan = text_field(1000, required=True, multiline=True, metadata={
        "description": "Dasar penghapusan, tanpa data pribadi (mis. nomor surat permintaan)."})


class ImporBarisSchema(BaseSchema):
    baris = fields.Integer(required=True)
    alasan = fields.String(required=True)


class ImporLaporanSchema(BaseSchema):
    jumlah_baris = fields.Integer(required=True)
    ditambahkan = fields.Integer(required=True)
    sudah_ada = fields.Integer(required=True, metadata={"description": "NIK yang sudah terdaftar: dilewati."})
    ditolak = fields.List(fields.Nested(ImporBarisSchema), required=True)


class PenyaluranBaruSchema(BaseSchema):
    program_id = fields.String(required=True, validate=not_blank())
    penerima_id = fields.String(required=True, validate=not_blank())
    tanggal = IsoDate(required=True)
    kegiatan_id = fields.String(validate=not_blank())
    jenis_bukti = fields.String(required=True, validate=one_of(JENIS_BUKTI))
    bukti = text_field(500, required=True, multiline=True, metadata={
        "description": "Referensi tanda tangan atau foto, atau kode voucher."})


class PenyaluranSchema(PenyaluranBaruSchema):
    id = fields.String(required=True)
    kegiatan_id = fields.String(allow_none=True)
    no_kk = fields.String(required=True)
    kode_wilayah = fields.String(required=True)
    status = fields.String(required=True)
    dicatat_oleh = fields.String(required=True)
    dicatat = fields.AwareDateTime(required=True)
    alasan_batal = fields.String(allow_none=True)


class PenyaluranQuerySchema(PageQuerySchema):
    program_id = fields.String(validate=not_blank())
    penerima_id = fields.String(validate=not_blank())
    status = fields.String(validate=one_of(("aktif", "batal")))


class BatalPenyaluranSchema(BaseSchema):
    alasan = text_field(1000, required=True, multiline=True)


class RekapProgramSchema(BaseSchema):
    program_id = fields.String(required=True)
    kuota = fields.Integer(required=True)
    tersalur = fields.Integer(required=True)
    sisa = fields.Integer(required=True)
    per_wilayah = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "Per wilayah, dari provinsi sampai desa/kelurahan."})
    per_bukti = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class AuditSchema(BaseSchema):
    id = fields.String(required=True)
    entitas = fields.String(required=True)
    entitas_id = fields.String(required=True, metadata={"description": "`impor` untuk impor penerima."})
    aksi = fields.String(required=True)
    oleh = fields.String(required=True)
    waktu = fields.AwareDateTime(required=True)
    lama = fields.Dict(allow_none=True)
    baru = fields.Dict(allow_none=True)
    kode_wilayah = fields.String(allow_none=True, metadata={
        "description": "Impor: wilayah pengimpor, tempat semua baris yang diterima berada."})


ProgramPageSchema = page_of(ProgramSchema)
PenerimaPageSchema = page_of(PenerimaSchema)
PenyaluranPageSchema = page_of(PenyaluranSchema)
AuditPageSchema = page_of(AuditSchema)


# Event data: never NIK, No. KK or phone numbers; a recipient is named by id.

class ProgramData(BaseSchema):
    id = fields.String(required=True)
    nama = fields.String(required=True)
    jenis = fields.String(required=True)
    unit_id = fields.String(required=True)
    status = fields.String(required=True)
    mulai = IsoDate(required=True)
    selesai = IsoDate(required=True)
    kuota = fields.Integer(required=True)
    wilayah_sasaran = fields.List(fields.String(), required=True)


class PenyaluranData(BaseSchema):
    id = fields.String(required=True)
    program_id = fields.String(required=True)
    penerima_id = fields.String(required=True)
    kode_wilayah = fields.String(required=True)
    tanggal = IsoDate(required=True)
    jenis_bukti = fields.String(required=True)
    kegiatan_id = fields.String(allow_none=True)


class PenyaluranDibatalkanData(PenyaluranData):
    alasan_batal = fields.String(required=True)


class PenerimaDihapusData(BaseSchema):
    """The services that copied a recipient's contacts (notifikasi) forget them too."""
    id = fields.String(required=True)
    kode_wilayah = fields.String(required=True)


class KuotaHabisData(BaseSchema):
    program_id = fields.String(required=True)
    nama = fields.String(required=True)
    unit_id = fields.String(required=True)
    kuota = fields.Integer(required=True)


EVENT_DATA_SCHEMAS = {
    "program.dibuat": ProgramData,
    "program.diaktifkan": ProgramData,
    "program.ditutup": ProgramData,
    "penyaluran.dicatat": PenyaluranData,
    "penyaluran.dibatalkan": PenyaluranDibatalkanData,
    "kuota.habis": KuotaHabisData,
    "penerima.dihapus": PenerimaDihapusData,
}

# What outside systems see (services.common.events): programs whole; distributions by place,
# date and kind of proof, never whom (not even the recipient's id, so two distributions cannot
# be tied to one household) nor why one was cancelled. docs/public-events.md lists why each text
# field is public.
PENYALURAN_PUBLIK = ("id", "program_id", "kode_wilayah", "tanggal", "jenis_bukti", "kegiatan_id")
PROGRAM_PUBLIK = ("id", "nama", "jenis", "unit_id", "status", "mulai", "selesai", "kuota", "wilayah_sasaran")
PUBLIC_DATA_SCHEMAS = {
    "program.dibuat": public_schema(ProgramData, *PROGRAM_PUBLIK),
    "program.diaktifkan": public_schema(ProgramData, *PROGRAM_PUBLIK),
    "program.ditutup": public_schema(ProgramData, *PROGRAM_PUBLIK),
    "penyaluran.dicatat": public_schema(PenyaluranData, *PENYALURAN_PUBLIK),
    "penyaluran.dibatalkan": public_schema(PenyaluranDibatalkanData, *PENYALURAN_PUBLIK),
    "kuota.habis": public_schema(KuotaHabisData, "program_id", "nama", "unit_id", "kuota"),
    "penerima.dihapus": INTERNAL,  # one person's erasure, told to the services only
}
