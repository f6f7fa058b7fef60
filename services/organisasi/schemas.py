"""The organisasi service's schemas: RPC and HTTP bodies, responses and event data. The
gateway documents and validates its routes with these same classes."""
from marshmallow import fields, validate

from services.common.events import public_schema
from services.common.schema import (BaseSchema, ChangedNames, IsoDate, PageQuerySchema, PlainText, correction_schema,
                                    kode_wilayah_field, not_blank, one_of, page_of, phone_field, phone_view_field,
                                    public_correction, regexp, text_field)
from services.common.schema import WILAYAH_TERDAFTAR, aturan, forbids, not_before
from services.organisasi.domain import (ANGGOTA_KOREKSI, BATAS_PENCARIAN_WILAYAH, JABATAN, KATEGORI_ANGGOTA,
                                        JABATAN_POLRI, KETUA_JABATAN_POLRI, NRP_PATTERN, PENGURUS_KOREKSI, TINGKAT,
                                        TINGKAT_DEPTH, TINGKAT_KODE_WILAYAH, UNIT_KOREKSI)


def name_field(**kwargs):
    return text_field(200, **kwargs)


def kode_of_depth(depth):
    """The pattern of an area code of `depth` parts (1: a province's '31')."""
    return "^[0-9]{2}" + r"\.[0-9]{2}" * (depth - 1) + "$"


class UnitBaruSchema(BaseSchema):
    tingkat = fields.String(required=True, validate=one_of(TINGKAT))
    kode_wilayah = kode_wilayah_field(allow_none=True, metadata=aturan(WILAYAH_TERDAFTAR, {
        "description": "Kode wilayah Kemendagri; kosong untuk unit nasional."}))

    # domain.check_unit_level: a national unit has no area code, any other one of its level's depth.
    JSON_SCHEMA = {"oneOf": [
        {"properties": {"tingkat": {"enum": ["nasional"]},
                        "kode_wilayah": {"type": "string", "nullable": True, "enum": [None]}}},
        *({"properties": {"tingkat": {"enum": [tingkat]},
                          "kode_wilayah": {"type": "string", "pattern": kode_of_depth(depth)}},
           "required": ["kode_wilayah"]} for tingkat, depth in TINGKAT_DEPTH.items() if depth),
    ]}
    nama = name_field(metadata={"description": "Bawaan: 'BKPM ' + nama wilayah."})


class UnitSchema(BaseSchema):
    id = fields.String(required=True)
    tingkat = fields.String(required=True)
    kode_wilayah = fields.String(allow_none=True)
    nama = fields.String(required=True)
    nama_wilayah = fields.String(allow_none=True)
    induk_id = fields.String(allow_none=True, metadata={"description": "Unit induk, diturunkan dari kode wilayah."})
    dibentuk = fields.AwareDateTime(required=True)


# A correction of a unit (JSON merge patch): its name (without creation's description: a patch
# has no default). Its level and area make it another unit.
UnitUbahSchema = correction_schema(
    "UnitUbahSchema", UnitBaruSchema, UNIT_KOREKSI, view=UnitSchema,
    not_correctable="Tidak dapat diubah; yang dapat dikoreksi dari unit hanya nama.", nama=name_field())


class UnitQuerySchema(PageQuerySchema):
    tingkat = fields.String(validate=one_of(TINGKAT))
    induk_id = fields.String(validate=not_blank())
    kode_prefix = kode_wilayah_field(metadata={
        "description": "Unit pada wilayah ini dan di bawahnya, contoh 31.71."})


class PengurusBaruSchema(BaseSchema):
    jabatan = fields.String(required=True, validate=one_of(JABATAN))
    nama = name_field(required=True)
    nrp = fields.String(validate=regexp(NRP_PATTERN, "NRP harus terdiri dari 8 angka."), metadata={
        "description": "NRP 8 angka; wajib untuk ketua dan sekretaris."})
    pangkat = text_field(60)
    jabatan_polri = text_field(120, metadata=aturan(
        "Ketua unit " + " dan ".join(f"{tingkat} diawali '{post}'" for tingkat, post in KETUA_JABATAN_POLRI.items())
        + ".", {"description": "Contoh 'Kapolda Metro Jaya' untuk ketua unit provinsi."}))
    telepon = phone_field()
    email = fields.Email()
    akun = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Akun masuknya (klaim `sub` tokennya), untuk kotak masuk dan preferensinya sendiri."})
    mulai = IsoDate(required=True)
    selesai = IsoDate(allow_none=True, metadata=aturan(not_before("mulai"), {
        "description": "Akhir masa jabatan yang direncanakan."}))

    # domain.check_appointment: ketua and sekretaris are Polri officers (NRP, rank and post),
    # a wakil ketua is a community figure (none of them).
    POLRI = ("nrp", "pangkat", "jabatan_polri")
    JSON_SCHEMA = {"oneOf": [
        {"properties": {"jabatan": {"enum": list(JABATAN_POLRI)}}, "required": list(POLRI)},
        {"properties": {"jabatan": {"enum": [jabatan for jabatan in JABATAN if jabatan not in JABATAN_POLRI]}},
         **forbids(*POLRI)},
    ]}


class PersonRecordSchema(BaseSchema):
    """What every stored board member and member has, contacts as shown (maybe masked)."""
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    aktif = fields.Boolean(required=True)
    telepon = phone_view_field()
    email = fields.String(allow_none=True)


class PengurusSchema(PersonRecordSchema, PengurusBaruSchema):
    nrp = fields.String(allow_none=True)
    akun = fields.String(allow_none=True)
    pangkat = fields.String(allow_none=True)
    jabatan_polri = fields.String(allow_none=True)
    alasan_berhenti = fields.String(allow_none=True)


# A correction of a serving board member (JSON merge patch): contacts and the planned end of
# term, each of which may be emptied.
PengurusUbahSchema = correction_schema(
    "PengurusUbahSchema", PengurusBaruSchema, PENGURUS_KOREKSI, nullable=PENGURUS_KOREKSI, view=PengurusSchema,
    not_correctable="Tidak dapat diubah; yang dapat dikoreksi: telepon, email, selesai. Jabatan, nama atau tanggal "
                    "mulai yang salah: berhentikan pengurus ini, lalu angkat dengan data yang benar.")


class SelesaiSchema(BaseSchema):
    """The end of an appointment (berhenti) or a membership (keluar)."""
    tanggal = IsoDate(metadata=aturan("Tidak boleh sebelum tanggal mulai menjabat atau bergabung.", {
        "description": "Bawaan: hari ini."}))
    alasan = text_field(500, multiline=True)


class AnggotaBaruSchema(BaseSchema):
    nama = name_field(required=True)
    kategori = fields.String(required=True, validate=one_of(KATEGORI_ANGGOTA))
    telepon = phone_field()
    email = fields.Email()
    bergabung = IsoDate(metadata={"description": "Bawaan: hari ini."})


class AnggotaSchema(PersonRecordSchema, AnggotaBaruSchema):
    keluar = IsoDate(allow_none=True)
    alasan_keluar = fields.String(allow_none=True)


# A correction of a current member (JSON merge patch): contacts, each of which may be emptied.
AnggotaUbahSchema = correction_schema(
    "AnggotaUbahSchema", AnggotaBaruSchema, ANGGOTA_KOREKSI, nullable=ANGGOTA_KOREKSI, view=AnggotaSchema,
    not_correctable="Tidak dapat diubah; yang dapat dikoreksi dari anggota hanya telepon dan email.")


class StrukturSchema(BaseSchema):
    unit = fields.Nested(UnitSchema, required=True)
    pengurus = fields.List(fields.Nested(PengurusSchema), required=True,
                           metadata={"description": "Pengurus yang sedang aktif."})
    anggota = fields.List(fields.Nested(AnggotaSchema), required=True,
                          metadata={"description": "Anggota yang masih aktif."})


UnitPageSchema = page_of(UnitSchema)
PengurusPageSchema = page_of(PengurusSchema)
AnggotaPageSchema = page_of(AnggotaSchema)


class RiwayatQuerySchema(PageQuerySchema):
    aktif = fields.Boolean(metadata={"description": "true: yang sedang aktif; false: riwayat; kosong: semua."})


# Event data: what other services and subscribers learn; never contacts or other personal data.

class WilayahQuerySchema(BaseSchema):
    induk = kode_wilayah_field(metadata={
        "description": "Wilayah satu tingkat di bawah kode ini; dengan `q`: pencarian di semua tingkat di bawahnya; "
                       "tanpa `induk` dan `q`: daftar provinsi."})
    q = fields.String(validate=[validate.Length(min=3, max=100, error="Panjang teks harus {min} sampai {max} huruf."),
                                PlainText()], metadata={
        "description": "Wilayah yang namanya memuat teks ini (minimal 3 huruf), paling cocok lebih dahulu; "
                       f"paling banyak {BATAS_PENCARIAN_WILAYAH}."})


class IndukWilayahSchema(BaseSchema):
    kode = fields.String(required=True)
    nama = fields.String(required=True)


class WilayahSchema(BaseSchema):
    kode = fields.String(required=True)
    nama = fields.String(required=True)
    tingkat = fields.String(required=True, validate=one_of(tuple(TINGKAT_KODE_WILAYAH.values())))
    aktif = fields.Boolean(required=True, metadata={
        "description": "false: kode sudah tidak berlaku dalam daftar resmi terbaru."})
    induk = fields.List(fields.Nested(IndukWilayahSchema), metadata={
        "description": "Wilayah di atasnya, dari provinsi ke bawah (pada pencarian dan satu wilayah)."})


class WilayahListSchema(BaseSchema):
    items = fields.List(fields.Nested(WilayahSchema), required=True)


class UnitDibentukData(BaseSchema):
    id = fields.String(required=True)
    tingkat = fields.String(required=True)
    kode_wilayah = fields.String(allow_none=True)
    nama = fields.String(required=True)
    induk_id = fields.String(allow_none=True)


class PengurusDiangkatData(BaseSchema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    jabatan = fields.String(required=True)
    nama = fields.String(required=True)
    pangkat = fields.String(allow_none=True)
    jabatan_polri = fields.String(allow_none=True)
    mulai = IsoDate(required=True)
    selesai = IsoDate(allow_none=True)


class PengurusDiberhentikanData(BaseSchema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    jabatan = fields.String(required=True)
    selesai = IsoDate(required=True)
    alasan = fields.String(allow_none=True)


class AnggotaBergabungData(BaseSchema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    nama = fields.String(required=True)
    kategori = fields.String(required=True)
    bergabung = IsoDate(required=True)


class AnggotaKeluarData(BaseSchema):
    id = fields.String(required=True)
    unit_id = fields.String(required=True)
    keluar = IsoDate(required=True)
    alasan = fields.String(allow_none=True)


class WilayahDiperbaruiData(BaseSchema):
    """An import of an official list that changed the area reference: how many codes it
    added, renamed, listed again and retired."""
    ditambahkan = fields.Integer(required=True)
    diganti_nama = fields.Integer(required=True)
    dipulihkan = fields.Integer(required=True)
    tidak_berlaku = fields.Integer(required=True)


class UnitDiubahData(UnitDibentukData):
    diubah = ChangedNames(UNIT_KOREKSI)


class PengurusDiubahData(PengurusDiangkatData):
    diubah = ChangedNames(PENGURUS_KOREKSI)


class AnggotaDiubahData(AnggotaBergabungData):
    diubah = ChangedNames(ANGGOTA_KOREKSI)


UNIT_PUBLIK = ("id", "tingkat", "kode_wilayah", "nama", "induk_id")
PENGURUS_PUBLIK = ("id", "unit_id", "jabatan", "mulai", "selesai")
ANGGOTA_PUBLIK = ("id", "unit_id", "kategori", "bergabung")

EVENT_DATA_SCHEMAS = {
    "unit.dibentuk": UnitDibentukData,
    "pengurus.diangkat": PengurusDiangkatData,
    "pengurus.diberhentikan": PengurusDiberhentikanData,
    "anggota.bergabung": AnggotaBergabungData,
    "anggota.keluar": AnggotaKeluarData,
    "wilayah.diperbarui": WilayahDiperbaruiData,
    "unit.diubah": UnitDiubahData,
    "pengurus.diubah": PengurusDiubahData,
    "anggota.diubah": AnggotaDiubahData,
}

# What outside systems see (services.common.events): that a unit has a board position filled or
# a member of a kind, never who (a board has community figures besides officers; the design brief
# does not make it public), nor why anyone left. docs/public-events.md lists why each text field
# is public.
PUBLIC_DATA_SCHEMAS = {
    "unit.dibentuk": public_schema(UnitDibentukData, *UNIT_PUBLIK),
    "pengurus.diangkat": public_schema(PengurusDiangkatData, *PENGURUS_PUBLIK),
    "pengurus.diberhentikan": public_schema(PengurusDiberhentikanData, "id", "unit_id", "jabatan", "selesai"),
    "anggota.bergabung": public_schema(AnggotaBergabungData, *ANGGOTA_PUBLIK),
    "anggota.keluar": public_schema(AnggotaKeluarData, "id", "unit_id", "keluar"),
    "wilayah.diperbarui": public_schema(WilayahDiperbaruiData, "ditambahkan", "diganti_nama", "dipulihkan",
                                        "tidak_berlaku"),
    # A correction as the entity's other events, and which of the fields shown changed: a unit's
    # name, a board member's planned end; a member's contacts are all it has to correct, so its
    # public event says only that the record changed.
    "unit.diubah": public_correction(UnitDiubahData, *UNIT_PUBLIK),
    "pengurus.diubah": public_correction(PengurusDiubahData, *PENGURUS_PUBLIK),
    "anggota.diubah": public_correction(AnggotaDiubahData, *ANGGOTA_PUBLIK),
}
