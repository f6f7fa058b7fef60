"""The kegiatan service's schemas: RPC and HTTP bodies, responses and event data. The gateway
documents and validates its routes with these same classes."""
from datetime import timezone

from marshmallow import ValidationError, fields, validate, validates_schema

from services.common.attachments import LampiranData
from services.common.events import INTERNAL, public_schema
from services.common.schema import (BaseSchema, ChangedNames, IsoDate, PageQuerySchema, correction_schema,
                                    kode_wilayah_field, not_blank, one_of, page_of, patch_fields, phone_field,
                                    phone_view_field, public_correction, text_field)
from services.common.rincian import rinci_field
from services.common.schema import WILAYAH_TERDAFTAR, aturan, existing, forbids, not_before
from services.kegiatan.domain import EXPLAINED_IN, FIELD_OF_KIND
from services.kegiatan.domain import (DAPAT_DIKOREKSI, JENIS, KATEGORI_ASPIRASI, MAX_BULAN_RINCIAN,
                                      MATERI_PELATIHAN, SKALA, STATUS_ASPIRASI, STATUS_KEGIATAN, TOPIK_PENYULUHAN,
                                      UNSUR, URUTAN_ASPIRASI)

class TitikSchema(BaseSchema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class LokasiSchema(BaseSchema):
    kode_wilayah = kode_wilayah_field(required=True, metadata=aturan(
        f"{WILAYAH_TERDAFTAR} Di dalam wilayah unit penyelenggara."))
    alamat = text_field(300, required=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))


class RuteSchema(BaseSchema):
    """One stop of a joint patrol: an area code or a point."""
    kode_wilayah = kode_wilayah_field()
    titik = fields.Nested(TitikSchema)

    JSON_SCHEMA = {"oneOf": [{"required": ["kode_wilayah"]}, {"required": ["titik"]}]}

    @validates_schema
    def one_place(self, data, **kwargs):
        if ("kode_wilayah" in data) == ("titik" in data):
            raise ValidationError("Isi salah satu: kode_wilayah atau titik.", "_schema")


# The kinds' own fields: a new activity's document states them with `oneOf` (kind_rules); a
# correction's cannot, as the kind is the stored activity's, so they are stated in words.
KIND_ONLY = "Hanya untuk kegiatan {}."
EXPLAINED = "Wajib bila `{}` 'lainnya'; hanya untuk kegiatan {}."


def rute_field(description):
    return fields.List(fields.Nested(RuteSchema), validate=validate.Length(min=1, max=100),
                       metadata=aturan(KIND_ONLY.format("patroli bersama"), {"description": description}))


class Moment(fields.AwareDateTime):
    """A time with its zone, loaded as the database keeps it and gives it back: in UTC, to the
    millisecond. What a write answers is then what a later GET shows, byte for byte, and so is
    its ETag: a correction sent with the ETag of the answer that scheduled the activity is not
    refused as made on another version."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs).astimezone(timezone.utc)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def kind_rules(jenis):
    """JSON Schema of domain.check_kegiatan for one kind: its own field required, the other
    kinds' forbidden, an own choice of 'lainnya' explained."""
    own = FIELD_OF_KIND.get(jenis)
    rules = [forbids(*(name for kind, name in FIELD_OF_KIND.items() if kind != jenis))]
    if own in EXPLAINED_IN:
        rules.append({"anyOf": [{"properties": {own: {"not": {"enum": ["lainnya"]}}}},
                                {"required": [EXPLAINED_IN[own]]}]})
    return {"properties": {"jenis": {"enum": [jenis]}}, **({"required": [own]} if own else {}), "allOf": rules}


class KegiatanBaruSchema(BaseSchema):
    unit_id = fields.String(required=True, validate=not_blank(), metadata=aturan(existing("unit")))
    jenis = fields.String(required=True, validate=one_of(JENIS))
    judul = text_field(200, required=True)
    mulai = Moment(required=True)
    selesai = Moment(required=True, metadata=aturan("Harus setelah `mulai`."))
    lokasi = fields.Nested(LokasiSchema, required=True)
    deskripsi = text_field(2000, multiline=True)
    topik = fields.String(validate=one_of(TOPIK_PENYULUHAN), metadata=aturan(KIND_ONLY.format("penyuluhan")))
    topik_lainnya = text_field(200, metadata=aturan(EXPLAINED.format("topik", "penyuluhan")))
    materi = fields.String(validate=one_of(MATERI_PELATIHAN),
                           metadata=aturan(KIND_ONLY.format("pengembangan kapasitas")))
    materi_lainnya = text_field(200, metadata=aturan(EXPLAINED.format("materi", "pengembangan kapasitas")))
    rute = rute_field("Untuk patroli bersama: urutan wilayah atau titik.")
    program_id = fields.String(validate=not_blank(), metadata=aturan(existing("program bantuan"), {
        "description": "Untuk bantuan sosial."}))

    JSON_SCHEMA = {"oneOf": [kind_rules(jenis) for jenis in JENIS]}


# What changes of an activity's place (merged into it); null removes the point.
LokasiUbahSchema = type("LokasiUbahSchema", (BaseSchema,), patch_fields(
    LokasiSchema, ("kode_wilayah", "alamat", "lat", "lon"), nullable=("lat", "lon")))
# A correction of a planned activity as a JSON merge patch: only what changes, null removes an
# optional text; its kind's own fields are not emptied, as its kind needs them. The corrected
# activity must pass the rules of a new one of its kind. What stays is refused by name, with
# what to do instead.
KegiatanUbahSchema = correction_schema(
    "KegiatanUbahSchema", KegiatanBaruSchema, DAPAT_DIKOREKSI,
    nullable=("deskripsi", "topik_lainnya", "materi_lainnya"), refusals={
        "jenis": "Jenis kegiatan tidak dapat diubah; batalkan kegiatan ini lalu jadwalkan kegiatan baru.",
        "unit_id": "Unit penyelenggara tidak dapat diubah; batalkan kegiatan ini lalu jadwalkan kegiatan baru.",
        "status": "Status tidak diubah dengan koreksi; gunakan /mulai, /selesai atau /batal.",
    },
    lokasi=fields.Nested(LokasiUbahSchema, metadata={"description": "Field tempat yang berubah saja."}),
    rute=rute_field("Untuk patroli bersama: seluruh rute baru (daftar diganti utuh)."))


class TemuanSchema(BaseSchema):
    kategori = text_field(100, required=True)
    tindak_lanjut = text_field(1000, multiline=True, required=True)


class LaporanSchema(BaseSchema):
    jumlah_peserta = fields.Integer(required=True, validate=validate.Range(min=0))
    ringkasan = text_field(5000, multiline=True, required=True)
    temuan = fields.List(fields.Nested(TemuanSchema), load_default=list)


class SelesaiKegiatanSchema(BaseSchema):
    laporan = fields.Nested(LaporanSchema, required=True)


class BatalSchema(BaseSchema):
    alasan = text_field(1000, multiline=True, required=True)


class KegiatanSchema(KegiatanBaruSchema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    unit_kode = fields.String(allow_none=True, metadata={"description": "Kode wilayah unit penyelenggara."})
    laporan = fields.Nested(LaporanSchema, allow_none=True)
    alasan_batal = fields.String(allow_none=True)
    jumlah_peserta_tercatat = fields.Integer()
    dibuat = fields.AwareDateTime(required=True)


class KegiatanQuerySchema(PageQuerySchema):
    unit_id = fields.String(validate=not_blank())
    jenis = fields.String(validate=one_of(JENIS))
    status = fields.String(validate=one_of(STATUS_KEGIATAN))
    dari = fields.AwareDateTime(metadata={"description": "Mulai pada atau setelah waktu ini."})
    sampai = fields.AwareDateTime(metadata={"description": "Mulai sebelum waktu ini."})
    kode_prefix = kode_wilayah_field(metadata={"description": "Lokasi di wilayah ini dan di bawahnya."})


class PesertaBaruSchema(BaseSchema):
    nama = text_field(200, required=True)
    unsur = fields.String(required=True, validate=one_of(UNSUR))
    telepon = phone_field(mobile=False)  # never messaged: a home line will do
    email = fields.Email()


class PesertaSchema(BaseSchema):
    id = fields.String(required=True)
    kegiatan_id = fields.String(required=True)
    nama = fields.String(required=True)
    unsur = fields.String(required=True)
    telepon = phone_view_field()
    email = fields.String(allow_none=True)


class PelaporSchema(BaseSchema):
    nama = text_field(200)
    telepon = phone_field()
    email = fields.Email()


class PelaporViewSchema(BaseSchema):
    """The reporter as the handling unit sees them (masked for its readers)."""
    nama = fields.String(allow_none=True)
    telepon = phone_view_field()
    email = fields.String(allow_none=True)


class AspirasiBaruSchema(BaseSchema):
    kode_wilayah = kode_wilayah_field(required=True, metadata=aturan(WILAYAH_TERDAFTAR))
    kategori = fields.String(required=True, validate=one_of(KATEGORI_ASPIRASI))
    isi = text_field(5000, multiline=True, required=True)
    kegiatan_id = fields.String(validate=not_blank(), metadata=aturan(existing("kegiatan")))
    pelapor = fields.Nested(PelaporSchema)
    rahasia = fields.Boolean(load_default=False, metadata={
        "description": "Identitas pelapor hanya terlihat oleh unit yang menangani."})


class AspirasiDiterimaSchema(BaseSchema):
    """What a citizen gets back: the ticket to track it with, and the deadlines."""
    nomor_tiket = fields.String(required=True)
    status = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "Nama unit yang menangani."})
    batas_verifikasi = fields.AwareDateTime(required=True)


class RiwayatAspirasiSchema(BaseSchema):
    status_lama = fields.String(required=True)
    status_baru = fields.String(required=True)
    catatan = fields.String(allow_none=True)
    publik = fields.Boolean(required=True)
    waktu = fields.AwareDateTime(required=True)


class AspirasiSchema(BaseSchema):
    id = fields.String(required=True)
    nomor_tiket = fields.String(required=True)
    kode_wilayah = fields.String(required=True)
    kategori = fields.String(required=True)
    isi = fields.String(required=True)
    kegiatan_id = fields.String(allow_none=True)
    pelapor = fields.Nested(PelaporViewSchema, allow_none=True)
    rahasia = fields.Boolean(required=True)
    unit_id = fields.String(required=True)
    unit_kode = fields.String(allow_none=True)
    status = fields.String(required=True)
    diterima = fields.AwareDateTime(required=True)
    batas_verifikasi = fields.AwareDateTime(required=True)
    batas_jawaban = fields.AwareDateTime(allow_none=True)
    terlambat = fields.List(fields.String(), required=True)
    riwayat = fields.List(fields.Nested(RiwayatAspirasiSchema), required=True)
    pelapor_dihapus = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Kapan nama dan kontak pelapor dihapus (PELAPOR_RETENTION_DAYS setelah ditutup)."})


class AspirasiQuerySchema(PageQuerySchema):
    status = fields.String(validate=one_of(STATUS_ASPIRASI))
    kegiatan_id = fields.String(validate=not_blank(), metadata={"description": "Yang muncul dalam kegiatan ini."})
    kategori = fields.String(validate=one_of(KATEGORI_ASPIRASI))
    unit_id = fields.String(validate=not_blank())
    terlambat = fields.Boolean()
    kode_prefix = kode_wilayah_field()
    urut = fields.String(load_default="terbaru", validate=one_of(URUTAN_ASPIRASI), metadata={
        "description": "`terbaru`: yang terakhir diterima dahulu. `tenggat`: yang masih terbuka dahulu, menurut batas "
                       "waktu langkah berikutnya (batas verifikasi selama diterima, batas jawaban setelah "
                       "diverifikasi), yang terdekat atau sudah terlewati paling atas; lalu yang selesai atau "
                       "ditolak, terbaru dahulu."})


class TindakLanjutSchema(BaseSchema):
    status = fields.String(required=True, validate=one_of(STATUS_ASPIRASI))
    catatan = text_field(5000, multiline=True)
    publik = fields.Boolean(metadata={
        "description": "Catatan tampil pada pelacakan publik (jawaban untuk pelapor). Bawaan: ya untuk "
                       "'selesai' dan 'ditolak', tidak untuk langkah lain."})
    lapangan = fields.Boolean(load_default=False, metadata={
        "description": "Saat verifikasi: jawaban perlu kerja lapangan (batas 14 hari kerja, bukan 5)."})

    # domain.follow_up: a rejection says why; field work is decided when verifying.
    JSON_SCHEMA = {"allOf": [
        {"anyOf": [{"properties": {"status": {"not": {"enum": ["ditolak"]}}}}, {"required": ["catatan"]}]},
        {"anyOf": [{"properties": {"lapangan": {"enum": [False]}}},
                   {"properties": {"status": {"enum": ["diverifikasi"]}}}]},
    ]}


class JawabanPublikSchema(BaseSchema):
    status = fields.String(required=True)
    catatan = fields.String(required=True)
    waktu = fields.AwareDateTime(required=True)


class LangkahPublikSchema(BaseSchema):
    """One status change as the public sees it: no internal note, no one who made it."""
    status = fields.String(required=True, metadata={"description": "Status baru pada langkah ini."})
    waktu = fields.AwareDateTime(required=True)
    jawaban_publik = fields.String(allow_none=True, metadata={
        "description": "Jawaban unit untuk pelapor pada langkah ini; null bila tidak ada."})
    terlambat = fields.Boolean(allow_none=True, metadata={
        "description": "Langkah ini melewati batas waktunya (verifikasi, atau jawaban untuk langkah penutup); "
                       "null bila tidak ada batas waktu untuk langkah ini."})


class LacakSchema(BaseSchema):
    """Public tracking: the status, its changes and public answers, nothing about anyone."""
    nomor_tiket = fields.String(required=True)
    kategori = fields.String(required=True)
    status = fields.String(required=True)
    kode_provinsi = fields.String(required=True, metadata={
        "description": "Kode provinsi wilayah kejadian (dua angka), cukup untuk zona waktunya (WIB/WITA/WIT)."})
    diterima = fields.AwareDateTime(required=True)
    batas_verifikasi = fields.AwareDateTime(required=True)
    batas_jawaban = fields.AwareDateTime(allow_none=True)
    jawaban = fields.List(fields.Nested(JawabanPublikSchema), required=True)
    riwayat = fields.List(fields.Nested(LangkahPublikSchema), required=True, metadata={
        "description": "Setiap perubahan status sejak diterima, urut waktu."})


class SurveiSchema(BaseSchema):
    kode = fields.String(required=True, validate=validate.Length(min=4, max=20), metadata={
        "description": "Kode survei sekali pakai yang dibagikan kepada peserta."})
    kepercayaan = fields.Integer(required=True, validate=validate.Range(*SKALA), metadata={
        "description": "Kepercayaan kepada Polri, 1 (sangat rendah) sampai 5 (sangat tinggi)."})
    kepuasan = fields.Integer(required=True, validate=validate.Range(*SKALA))
    komentar = text_field(2000, multiline=True)


class SurveiDiterimaSchema(BaseSchema):
    kegiatan_id = fields.String(required=True)
    diterima = fields.Boolean(required=True)


class KodeSurveiSchema(BaseSchema):
    kegiatan_id = fields.String(required=True)
    kode = fields.List(fields.String(), required=True, metadata={"description": "Kode yang belum dipakai."})
    terpakai = fields.Integer(required=True)


class RekapQuerySchema(BaseSchema):
    kode_wilayah = kode_wilayah_field(metadata={"description": "Wilayah dan di bawahnya; kosong: nasional."})
    unit_id = fields.String(validate=not_blank(), metadata={"description": "Hanya kegiatan dan aspirasi unit ini."})
    dari = IsoDate(required=True, metadata={"description": "Tanggal awal (WIB), termasuk."})
    sampai = IsoDate(required=True, metadata=aturan(not_before("dari"), {
        "description": "Tanggal akhir (WIB), termasuk."}))
    rinci = rinci_field("Bulan menurut WIB.",
                        f"Dengan `bulan`, periode dari-sampai paling lama {MAX_BULAN_RINCIAN} bulan.")


class RekapKegiatanSchema(BaseSchema):
    jumlah = fields.Integer(required=True)
    per_jenis = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    per_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class RekapPesertaSchema(BaseSchema):
    jumlah = fields.Integer(required=True)
    per_unsur = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class RekapAspirasiSchema(BaseSchema):
    diterima = fields.Integer(required=True)
    diselesaikan = fields.Integer(required=True)
    tepat_waktu = fields.Integer(required=True, metadata={"description": "Selesai tanpa melewati tenggat."})
    terlambat = fields.Integer(required=True, metadata={"description": "Pernah melewati tenggat."})
    persen_tepat_waktu = fields.Float(allow_none=True, metadata={"description": "Dari yang diselesaikan."})


class RekapSurveiSchema(BaseSchema):
    jumlah_jawaban = fields.Integer(required=True)
    rata_kepercayaan = fields.Float(allow_none=True)
    rata_kepuasan = fields.Float(allow_none=True)


class RincianRekapSchema(BaseSchema):
    kode_wilayah = fields.String(required=True, allow_none=True, metadata={
        "description": "Wilayah baris ini; null: nasional."})
    bulan = fields.String(required=True, allow_none=True, metadata={
        "description": "Bulan (YYYY-MM, WIB) baris ini; null bila tidak dirinci per bulan."})
    kegiatan = fields.Nested(RekapKegiatanSchema, required=True)
    peserta = fields.Nested(RekapPesertaSchema, required=True)
    aspirasi = fields.Nested(RekapAspirasiSchema, required=True)
    survei = fields.Nested(RekapSurveiSchema, required=True)


class RekapSchema(BaseSchema):
    kode_wilayah = fields.String(allow_none=True)
    unit_id = fields.String(allow_none=True)
    dari = IsoDate(required=True)
    sampai = IsoDate(required=True)
    kegiatan = fields.Nested(RekapKegiatanSchema, required=True)
    peserta = fields.Nested(RekapPesertaSchema, required=True)
    aspirasi = fields.Nested(RekapAspirasiSchema, required=True)
    survei = fields.Nested(RekapSurveiSchema, required=True)
    rincian = fields.List(fields.Nested(RincianRekapSchema), required=True, metadata={
        "description": "Menurut `rinci`: per wilayah di bawahnya yang mencatat sesuatu dalam periode, per bulan "
                       "(termasuk bulan tanpa catatan), atau keduanya; kosong tanpa `rinci`."})


class KomentarSchema(BaseSchema):
    komentar = fields.String(required=True, metadata={
        "description": "Komentar responden survei; nomor telepon dan email di dalamnya disamarkan."})


# The citizens' portal: activities and figures by area, nothing about anyone.

class PublikQuerySchema(PageQuerySchema):
    kode_wilayah = kode_wilayah_field(required=True, metadata={"description": "Wilayah dan di bawahnya."})
    dari = IsoDate(metadata={"description": "Mulai pada atau setelah tanggal ini (WIB)."})
    sampai = IsoDate(metadata=aturan(not_before("dari"), {"description": "Mulai pada atau sebelum tanggal ini (WIB)."}))


class TempatPublikSchema(BaseSchema):
    kode_wilayah = fields.String(required=True)
    alamat = fields.String(required=True)


class KegiatanPublikSchema(BaseSchema):
    """An activity as the portal shows it: no participants, report or reason for cancelling."""
    id = fields.String(required=True)
    jenis = fields.String(required=True)
    judul = fields.String(required=True)
    mulai = fields.AwareDateTime(required=True)
    selesai = fields.AwareDateTime(required=True)
    lokasi = fields.Nested(TempatPublikSchema, required=True)
    status = fields.String(required=True)


class IndeksQuerySchema(BaseSchema):
    kode_wilayah = kode_wilayah_field(required=True, metadata={"description": "Wilayah dan di bawahnya."})
    dari = IsoDate(required=True, metadata={"description": "Tanggal awal (WIB), termasuk."})
    sampai = IsoDate(required=True, metadata=aturan(not_before("dari"), {
        "description": "Tanggal akhir (WIB), termasuk."}))


class SurveiPublikSchema(BaseSchema):
    jumlah_jawaban = fields.Integer(required=True)
    rata_kepercayaan = fields.Float(required=True, allow_none=True)
    rata_kepuasan = fields.Float(required=True, allow_none=True)
    ditahan = fields.String(required=True, allow_none=True, metadata={
        "description": "Mengapa rata-rata tidak ditampilkan (agar tidak ada jawaban yang dapat dikenali)."})


class IndeksWilayahSchema(BaseSchema):
    kode_wilayah = fields.String(required=True)
    jumlah_kegiatan = fields.Integer(required=True, metadata={"description": "Tidak termasuk yang dibatalkan."})
    jumlah_peserta = fields.Integer(required=True)
    persen_aspirasi_tepat_waktu = fields.Float(required=True, allow_none=True, metadata={
        "description": "Dari aspirasi yang diselesaikan."})
    survei = fields.Nested(SurveiPublikSchema, required=True)


class IndeksSchema(BaseSchema):
    kode_wilayah = fields.String(required=True)
    dari = IsoDate(required=True)
    sampai = IsoDate(required=True)
    ringkasan = fields.Nested(IndeksWilayahSchema, required=True)
    per_wilayah = fields.List(fields.Nested(IndeksWilayahSchema), required=True, metadata={
        "description": "Wilayah satu tingkat di bawahnya yang mencatat kegiatan, peserta, aspirasi atau survei."})


KegiatanPageSchema = page_of(KegiatanSchema)
KegiatanPublikPageSchema = page_of(KegiatanPublikSchema)
KomentarPageSchema = page_of(KomentarSchema)
PesertaPageSchema = page_of(PesertaSchema)
AspirasiPageSchema = page_of(AspirasiSchema)


# Event data: never contacts, reporter identities or the text of an aspiration.

class KegiatanData(BaseSchema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    jenis = fields.String(required=True)
    judul = fields.String(required=True)
    status = fields.String(required=True)
    mulai = fields.AwareDateTime(required=True)
    selesai = fields.AwareDateTime(required=True)
    lokasi = fields.Nested(LokasiSchema, required=True)
    program_id = fields.String(allow_none=True)


class KegiatanSelesaiData(KegiatanData):
    laporan = fields.Nested(LaporanSchema, required=True)


class KegiatanDibatalkanData(KegiatanData):
    alasan_batal = fields.String(required=True)


class KegiatanDiubahData(KegiatanData):
    """The activity as corrected, and the names of what changed (never the old values)."""
    diubah = ChangedNames(DAPAT_DIKOREKSI, "`mulai`, `selesai` atau `lokasi`: kegiatan dijadwalkan ulang.")


class AspirasiDiterimaData(BaseSchema):
    id = fields.String(required=True)
    nomor_tiket = fields.String(required=True)
    kategori = fields.String(required=True)
    kode_wilayah = fields.String(required=True)
    unit_id = fields.String(required=True)
    kegiatan_id = fields.String(allow_none=True)
    rahasia = fields.Boolean(required=True)
    batas_verifikasi = fields.AwareDateTime(required=True)


class AspirasiDiperbaruiData(BaseSchema):
    id = fields.String(required=True)
    nomor_tiket = fields.String(required=True)
    unit_id = fields.String(required=True)
    status_lama = fields.String(required=True)
    status_baru = fields.String(required=True)
    jawaban = fields.String(allow_none=True, metadata={"description": "Catatan publik, bila ada."})
    batas_jawaban = fields.AwareDateTime(allow_none=True)


class AspirasiTerlambatData(BaseSchema):
    id = fields.String(required=True)
    nomor_tiket = fields.String(required=True)
    unit_id = fields.String(required=True)
    status = fields.String(required=True)
    tenggat = fields.String(required=True, metadata={"description": "'verifikasi' atau 'jawaban'."})
    batas = fields.AwareDateTime(required=True)


class PelaporDihapusData(BaseSchema):
    """The services that copied a reporter's contacts (notifikasi) forget them too."""
    id = fields.String(required=True)
    kode_wilayah = fields.String(required=True)


class SurveiDiisiData(BaseSchema):
    kegiatan_id = fields.String(required=True)
    unit_id = fields.String(required=True)
    kepercayaan = fields.Integer(required=True)
    kepuasan = fields.Integer(required=True)


class LampiranKegiatanData(LampiranData):
    kegiatan_id = fields.String(required=True)


EVENT_DATA_SCHEMAS = {
    "survei.diisi": SurveiDiisiData,
    "kegiatan.dijadwalkan": KegiatanData,
    "kegiatan.dimulai": KegiatanData,
    "kegiatan.selesai": KegiatanSelesaiData,
    "kegiatan.dibatalkan": KegiatanDibatalkanData,
    "kegiatan.diubah": KegiatanDiubahData,
    "aspirasi.diterima": AspirasiDiterimaData,
    "aspirasi.diperbarui": AspirasiDiperbaruiData,
    "aspirasi.terlambat": AspirasiTerlambatData,
    "aspirasi.pelapor_dihapus": PelaporDihapusData,
    "lampiran.ditambahkan": LampiranKegiatanData,
    "lampiran.dihapus": LampiranKegiatanData,
}

# What outside systems see (services.common.events): activities as planned, by title, kind,
# time and area, without the address or point typed for the place, their reports or why they
# were cancelled; aspirations as counts and deadlines, without ticket, text, reporter or answers.
# One survey answer is one person's opinion, and its time and activity point to who gave it: it
# stays inside (an aggregate that changed with each answer would give each answer away too); the
# rekap route serves the averages. docs/public-events.md lists why each text field is public.
LokasiPublik = public_schema(LokasiSchema, "kode_wilayah")
KEGIATAN_PUBLIK = ("id", "unit_id", "jenis", "judul", "status", "mulai", "selesai", "lokasi", "program_id")


def kegiatan_publik(data_schema):
    return public_schema(data_schema, *KEGIATAN_PUBLIK, lokasi=LokasiPublik)


PUBLIC_DATA_SCHEMAS = {
    "survei.diisi": INTERNAL,
    "aspirasi.pelapor_dihapus": INTERNAL,  # one reporter's erasure, told to the services only
    "kegiatan.dijadwalkan": kegiatan_publik(KegiatanData),
    "kegiatan.dimulai": kegiatan_publik(KegiatanData),
    "kegiatan.selesai": kegiatan_publik(KegiatanSelesaiData),
    "kegiatan.dibatalkan": kegiatan_publik(KegiatanDibatalkanData),
    # Which fields changed, by name: none of them is about a person.
    "kegiatan.diubah": public_correction(KegiatanDiubahData, *KEGIATAN_PUBLIK, changes=DAPAT_DIKOREKSI,
                                         lokasi=LokasiPublik),
    "aspirasi.diterima": public_schema(AspirasiDiterimaData, "id", "kategori", "kode_wilayah", "unit_id",
                                       "kegiatan_id", "rahasia", "batas_verifikasi"),
    "aspirasi.diperbarui": public_schema(AspirasiDiperbaruiData, "id", "unit_id", "status_lama", "status_baru",
                                         "batas_jawaban"),
    "aspirasi.terlambat": public_schema(AspirasiTerlambatData, "id", "unit_id", "status", "tenggat", "batas"),
    # That an activity has one photo or document more or less, of what type and size: not its hash
    # (which would confirm a copy of the photo someone holds), nor who sent it.
    "lampiran.ditambahkan": public_schema(LampiranKegiatanData, "id", "kegiatan_id", "tipe", "ukuran"),
    "lampiran.dihapus": public_schema(LampiranKegiatanData, "id", "kegiatan_id", "tipe", "ukuran"),
}
