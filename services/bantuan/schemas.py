"""The bantuan service's schemas: RPC and HTTP bodies, responses and event data."""
from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.attachments import LampiranData
from services.common.events import INTERNAL, public_schema
from services.common.schema import (BaseSchema, ChangedNames, IsoDate, PageQuerySchema, correction_schema,
                                    kode_wilayah_field, not_blank, one_of, page_of, phone_field, phone_view_field,
                                    public_correction, regexp, text_field)
from services.common.rincian import rinci_field
from services.common.schema import WILAYAH_TERDAFTAR, aturan, existing, not_before
from services.bantuan.domain import (JENIS_BUKTI, JENIS_IMPOR_PENERIMA, JENIS_KELAMIN, JENIS_PROGRAM,
                                     PART_BYTES, PART_MAX_BYTES, PENERIMA_KOREKSI, PROGRAM_KOREKSI, STATUS_PEKERJAAN,
                                     STATUS_PROGRAM, kk_problems, nik_problems)

KODE_DESA_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
NOMOR_16 = r"^[0-9]{16}$"
# domain.nik_problems, in words.
NIK_RULE = ("Dua angka pertama kode provinsi; angka ke-7 sampai ke-12 tanggal lahir DDMMYY (perempuan: tanggal "
            "ditambah 40), sama dengan tanggal_lahir dan jenis_kelamin bila dikirim; empat angka terakhir bukan 0000.")


class ProgramBaruSchema(BaseSchema):
    nama = text_field(200, required=True)
    jenis = fields.String(required=True, validate=one_of(JENIS_PROGRAM))
    unit_id = fields.String(required=True, validate=not_blank(), metadata=aturan(existing("unit")))
    mulai = IsoDate(required=True)
    selesai = IsoDate(required=True, metadata=aturan(not_before("mulai")))
    kuota = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000_000))
    wilayah_sasaran = fields.List(kode_wilayah_field(), required=True, validate=validate.Length(min=1, max=1000),
                                  metadata=aturan(f"Setiap kode: {WILAYAH_TERDAFTAR} Di dalam wilayah unit."))
    syarat = text_field(2000, multiline=True, metadata={"description": "Catatan kelayakan."})
    eksklusif_dengan = fields.List(fields.String(validate=not_blank(), metadata=aturan(existing("program"))),
                                   load_default=list, metadata={
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
    nik = fields.String(required=True, metadata=aturan(NIK_RULE, {"pattern": NOMOR_16}))
    no_kk = fields.String(required=True, metadata={"pattern": NOMOR_16})
    nama = text_field(200, required=True)
    jenis_kelamin = fields.String(required=True, validate=one_of(JENIS_KELAMIN))
    tanggal_lahir = IsoDate(required=True)
    kode_wilayah = fields.String(required=True, validate=regexp(
        KODE_DESA_PATTERN, "Kode wilayah penerima harus tingkat desa/kelurahan, contoh 31.71.01.1001."),
        metadata=aturan(f"{WILAYAH_TERDAFTAR} Di dalam wilayah Anda."))
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
    telepon = phone_view_field()
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
    nik = fields.String(validate=checked_by(nik_problems), metadata=aturan(NIK_RULE, {
        "description": "16 angka.", "pattern": NOMOR_16}))
    no_kk = fields.String(validate=checked_by(kk_problems), metadata={
        "description": "16 angka: semua penerima dalam satu Kartu Keluarga.", "pattern": NOMOR_16})

    JSON_SCHEMA = {"oneOf": [{"required": ["nik"]}, {"required": ["no_kk"]}]}

    @validates_schema
    def exactly_one_number(self, data, **kwargs):
        given = [name for name in ("nik", "no_kk") if name in data]
        if len(given) != 1:
            message = "Isi salah satu saja: nik atau no_kk."
            raise ValidationError({name: [message] for name in given or ("nik", "no_kk")})


ProgramUbahSchema = correction_schema(
    "ProgramUbahSchema", ProgramBaruSchema, PROGRAM_KOREKSI, nullable=("syarat",), view=ProgramSchema, refusals={
        "status": "Status program diubah lewat aktifkan atau tutup.",
        "tersalur": "Jumlah tersalur dihitung dari penyaluran.",
        "sisa": "Sisa kuota dihitung dari kuota dan yang sudah tersalur."})
# A wrong NIK is a new record: the person is registered with the right one (and the wrong record
# erased); the birth date and sex are what the NIK encodes, so they stay with it.
PenerimaUbahSchema = correction_schema(
    "PenerimaUbahSchema", PenerimaBaruSchema, PENERIMA_KOREKSI, nullable=("telepon",), view=PenerimaSchema, refusals={
        "nik": "NIK tidak dapat diubah; NIK yang salah dicatat sebagai penerima baru: daftarkan penerima dengan NIK "
               "yang benar, lalu admin menghapus data yang salah.",
        "no_kk": "No. KK tidak dapat diubah: admin menghapus data penerima ini, lalu daftarkan lagi dengan No. KK "
                 "yang benar.",
        "tanggal_lahir": "Tanggal lahir mengikuti NIK dan tidak dapat diubah.",
        "jenis_kelamin": "Jenis kelamin mengikuti NIK dan tidak dapat diubah."})


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


class MulaiImporSchema(BaseSchema):
    """An upload of a CSV file, from the gateway: its header line first, then its parts of whole
    records (domain.csv_parts), then how many parts there were."""
    judul = fields.String(required=True)


class BagianImporSchema(BaseSchema):
    nomor = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    teks = fields.String(required=True, validate=validate.Length(max=PART_BYTES + PART_MAX_BYTES))


class UnggahanImporSchema(BaseSchema):
    jumlah_bagian = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class PekerjaanSchema(BaseSchema):
    """A background job (today: an import of recipients) as its owner and the auditors of its
    area see it while it runs and after."""
    id = fields.String(required=True)
    jenis = fields.String(required=True, validate=one_of((JENIS_IMPOR_PENERIMA,)))
    status = fields.String(required=True, validate=one_of(STATUS_PEKERJAAN), metadata={
        "description": "antri, berjalan, lalu selesai (dengan `laporan`) atau gagal (dengan `alasan`)."})
    oleh = fields.String(required=True)
    jumlah_baris = fields.Integer(required=True, metadata={"description": "Baris data dalam berkas (tanpa judul)."})
    diproses = fields.Integer(required=True)
    ditambahkan = fields.Integer(required=True)
    sudah_ada = fields.Integer(required=True, metadata={"description": "NIK yang sudah terdaftar: dilewati."})
    jumlah_ditolak = fields.Integer(required=True)
    ditolak = fields.List(fields.Nested(ImporBarisSchema), required=True, metadata={
        "description": "Baris yang ditolak sejauh ini, menurut nomor baris; paling banyak 1.000 (semuanya di "
                       "`laporan` setelah selesai)."})
    laporan = fields.Nested(ImporLaporanSchema, required=True, allow_none=True, metadata={
        "description": "Laporan akhir, sama dengan jawaban impor sebelumnya; ada setelah berstatus selesai."})
    alasan = fields.String(required=True, allow_none=True, metadata={"description": "Mengapa pekerjaan gagal."})
    dibuat = fields.AwareDateTime(required=True)
    diperbarui = fields.AwareDateTime(required=True)


class PenyaluranBaruSchema(BaseSchema):
    program_id = fields.String(required=True, validate=not_blank(), metadata=aturan(existing("program")))
    penerima_id = fields.String(required=True, validate=not_blank(), metadata=aturan(existing("penerima")))
    tanggal = IsoDate(required=True)
    kegiatan_id = fields.String(validate=not_blank(), metadata=aturan(existing("kegiatan")))
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


class RekapProgramQuerySchema(BaseSchema):
    rinci = rinci_field("Wilayah di bawah wilayah unit program; bulan menurut tanggal penyaluran, dari bulan "
                        "mulai program sampai bulan penyaluran terakhir.")


class RincianProgramSchema(BaseSchema):
    kode_wilayah = fields.String(required=True, allow_none=True, metadata={
        "description": "Wilayah baris ini; null: nasional."})
    bulan = fields.String(required=True, allow_none=True, metadata={
        "description": "Bulan (YYYY-MM) tanggal penyaluran; null bila tidak dirinci per bulan."})
    tersalur = fields.Integer(required=True)
    per_bukti = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class RekapProgramSchema(BaseSchema):
    program_id = fields.String(required=True)
    kuota = fields.Integer(required=True)
    tersalur = fields.Integer(required=True)
    sisa = fields.Integer(required=True)
    per_wilayah = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "Per wilayah, dari provinsi sampai desa/kelurahan."})
    per_bukti = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    rincian = fields.List(fields.Nested(RincianProgramSchema), required=True, metadata={
        "description": "Penyaluran aktif menurut `rinci`: per wilayah di bawahnya yang menerima, per bulan "
                       "(termasuk bulan tanpa penyaluran), atau keduanya; kosong tanpa `rinci`."})


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


class ProgramDiubahData(ProgramData):
    diubah = ChangedNames(PROGRAM_KOREKSI)


class PenerimaDiubahData(PenerimaDihapusData):
    """Which fields of a recipient were corrected, never their values (personal data)."""
    diubah = ChangedNames(PENERIMA_KOREKSI)


class KuotaHabisData(BaseSchema):
    program_id = fields.String(required=True)
    nama = fields.String(required=True)
    unit_id = fields.String(required=True)
    kuota = fields.Integer(required=True)


class LampiranPenyaluranData(LampiranData):
    penyaluran_id = fields.String(required=True)


EVENT_DATA_SCHEMAS = {
    "program.dibuat": ProgramData,
    "program.diaktifkan": ProgramData,
    "program.ditutup": ProgramData,
    "penyaluran.dicatat": PenyaluranData,
    "penyaluran.dibatalkan": PenyaluranDibatalkanData,
    "kuota.habis": KuotaHabisData,
    "penerima.dihapus": PenerimaDihapusData,
    "program.diubah": ProgramDiubahData,
    "penerima.diubah": PenerimaDiubahData,
    "lampiran.ditambahkan": LampiranPenyaluranData,
    "lampiran.dihapus": LampiranPenyaluranData,
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
    # The names of the corrected fields are no one's data: public as the program is.
    "program.diubah": public_correction(ProgramDiubahData, *PROGRAM_PUBLIK, changes=PROGRAM_KOREKSI),
    "penerima.diubah": INTERNAL,  # a citizen's record: told to the services only, as their erasure
    # That a distribution has one photo or document more or less, of what type and size: not its
    # hash (which would confirm a copy of the photo someone holds), nor who sent it.
    "lampiran.ditambahkan": public_schema(LampiranPenyaluranData, "id", "penyaluran_id", "tipe", "ukuran"),
    "lampiran.dihapus": public_schema(LampiranPenyaluranData, "id", "penyaluran_id", "tipe", "ukuran"),
}
