"""The akun service's schemas: RPC and HTTP bodies, responses and event data. The gateway
documents and validates its routes with these same classes. No schema here has a field for a
password hash or a one-time code's secret: they never leave the service."""
from marshmallow import fields, validate

from services.akun.domain import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_MESSAGE, USERNAME_PATTERN
from services.common.schema import aturan
from services.common.access import ROLES
from services.common.events import INTERNAL
from services.common.schema import (BaseSchema, ChangesSchema, PageQuerySchema, kode_wilayah_field, one_of, page_of,
                                    phone_field, phone_view_field, regexp, text_field)

OTP_CODE_PATTERN = r"^[0-9]{6}$"


def password_field(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH), load_only=True, **kwargs)


def new_password_field(description=None):
    """A password being chosen: its least length in the API document (domain.password_problems
    refuses a shorter one), and what else refuses it in words."""
    return password_field(required=True, metadata=aturan(
        "Tidak sama dengan nama pengguna dan bukan kata sandi yang umum.",
        {"description": description or f"Minimal {MIN_PASSWORD_LENGTH} karakter.", "minLength": MIN_PASSWORD_LENGTH}))


def otp_code_field(**kwargs):
    return fields.String(validate=regexp(OTP_CODE_PATTERN, "Kode sekali pakai terdiri dari 6 angka."), **kwargs)


class AkunUbahSchema(ChangesSchema):
    """What an admin may change of an account; fields left out stay as they are."""
    nama = text_field(200)
    email = fields.Email()
    telepon = phone_field(allow_none=True)
    role = fields.String(validate=one_of(ROLES), metadata={"description": "Peran akun."})
    wilayah = kode_wilayah_field(allow_none=True, metadata={
        "description": "Wilayah tugas akun; kosong (null) untuk tingkat nasional."})
    aktif = fields.Boolean(metadata={"description": "false menonaktifkan akun dan mencabut semua sesi masuknya."})
    pengurus_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=100), metadata={
        "description": "Pengurus (organisasi) yang memegang akun ini."})
    otp_aktif = fields.Boolean(validate=validate.Equal(False, error="Hanya dapat diisi false: hapus kode sekali "
                                                                    "pakai akun ini (misalnya ponselnya hilang)."),
                               metadata={"description": "false menghapus kode sekali pakai akun ini dan mencabut "
                                                        "semua sesinya; pemiliknya mendaftarkan yang baru."})


class AkunBaruSchema(AkunUbahSchema):
    username = fields.String(required=True, validate=regexp(USERNAME_PATTERN, USERNAME_MESSAGE), metadata={
        "description": "Nama pengguna untuk masuk; tidak dapat diubah."})
    nama = text_field(200, required=True)
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=one_of(ROLES), metadata={"description": "Peran akun."})
    password = new_password_field("Kata sandi awal (minimal 12 karakter); pemiliknya diminta menggantinya.")
    aktif = fields.Boolean(load_default=True)

    class Meta(BaseSchema.Meta):
        exclude = ("otp_aktif",)  # an account is opened without one


class AkunSchema(BaseSchema):
    id = fields.String(required=True)
    username = fields.String(required=True)
    nama = fields.String(required=True)
    email = fields.String(required=True)
    telepon = phone_view_field()
    role = fields.String(required=True)
    wilayah = fields.String(allow_none=True)
    aktif = fields.Boolean(required=True)
    pengurus_id = fields.String(allow_none=True)
    login_terakhir = fields.AwareDateTime(allow_none=True)
    dibuat = fields.AwareDateTime(required=True)
    ganti_password_wajib = fields.Boolean(required=True, metadata={
        "description": "Kata sandi diberikan orang lain: pemiliknya harus menggantinya."})
    otp_aktif = fields.Boolean(required=True, metadata={"description": "Kode sekali pakai (TOTP) sudah didaftarkan."})


AkunPageSchema = page_of(AkunSchema)


class AkunQuerySchema(PageQuerySchema):
    kode_prefix = kode_wilayah_field(metadata={"description": "Akun pada wilayah ini dan di bawahnya."})
    role = fields.String(validate=one_of(ROLES))
    aktif = fields.Boolean()


class GantiPasswordSchema(BaseSchema):
    password_lama = password_field(required=True)
    password_baru = new_password_field()


class LoginSchema(BaseSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = password_field(required=True)
    kode_otp = otp_code_field(metadata={"description": "Kode dari aplikasi autentikator, bila peran Anda "
                                                      "memerlukannya."})


class RefreshSchema(BaseSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(BaseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"description": "Selalu 'Bearer'."})
    expires_in = fields.Integer(required=True, metadata={"description": "Masa berlaku token akses, dalam detik."})
    refresh_token = fields.String(required=True, metadata={
        "description": "Sekali pakai: tukar dengan pasangan baru di /auth/refresh sebelum sesi berakhir."})
    ganti_password_wajib = fields.Boolean(required=True)
    hanya = fields.String(allow_none=True, metadata={
        "description": "'daftar_otp': token ini hanya untuk mendaftarkan kode sekali pakai."})


class OtpPendaftaranSchema(BaseSchema):
    otpauth_uri = fields.String(required=True, metadata={"description": "Untuk aplikasi autentikator."})
    qr_svg = fields.String(required=True, metadata={"description": "URI yang sama sebagai kode QR (SVG)."})


class KodeOtpSchema(BaseSchema):
    kode_otp = otp_code_field(required=True)


# Password resets by email

class ResetDimintaSchema(BaseSchema):
    berlaku_sampai = fields.AwareDateTime(required=True, metadata={
        "description": "Tautan di email berlaku sampai saat ini, sekali pakai."})


class TautanResetSchema(BaseSchema):
    """What notifikasi gets, once, to send the link (under the platform's public address, which
    notifikasi knows): the one place the token leaves akun."""
    id = fields.String(required=True)
    nama = fields.String(required=True)
    email = fields.String(required=True)
    token = fields.String(required=True)
    berlaku_sampai = fields.AwareDateTime(required=True)


class AturSandiSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True, metadata={
        "description": "Token dari tautan di email."})
    password_baru = new_password_field()


# Machine accounts of other systems (OAuth 2.0 clients, client credentials grant)

class KlienUbahSchema(ChangesSchema):
    nama = text_field(200, metadata={"description": "Sistem yang memakai klien ini, mis. 'SIPP Polda Jateng'."})
    aktif = fields.Boolean(metadata={"description": "false menonaktifkan klien dan mencabut token aksesnya."})


class KlienBaruSchema(BaseSchema):
    nama = text_field(200, required=True, metadata={
        "description": "Sistem yang memakai klien ini, mis. 'SIPP Polda Jateng'."})
    wilayah = kode_wilayah_field(allow_none=True, load_default=None, metadata={
        "description": "Log event wilayah ini (dan di bawahnya) yang boleh dibaca; kosong (null): nasional."})


class KlienSchema(BaseSchema):
    client_id = fields.String(required=True, attribute="id")
    nama = fields.String(required=True)
    wilayah = fields.String(allow_none=True)
    aktif = fields.Boolean(required=True)
    dibuat = fields.AwareDateTime(required=True)
    terakhir_dipakai = fields.AwareDateTime(allow_none=True)


class KlienRahasiaSchema(KlienSchema):
    client_secret = fields.String(required=True, metadata={
        "description": "Hanya ditampilkan sekali ini; simpan di sistem klien. Yang tersimpan hanya hash-nya."})


KlienPageSchema = page_of(KlienSchema)


class KlienQuerySchema(PageQuerySchema):
    kode_prefix = kode_wilayah_field(metadata={"description": "Klien pada wilayah ini dan di bawahnya."})
    aktif = fields.Boolean()


class ClientCredentialsSchema(BaseSchema):
    """RFC 6749 §4.4.2, form-encoded; the client may authenticate with HTTP Basic instead of
    `client_id` and `client_secret` (§2.3.1)."""
    grant_type = fields.String(required=True, validate=validate.Equal(
        "client_credentials", error="Hanya grant_type=client_credentials yang didukung."))
    # Missing or empty, they are a client not known (401 invalid_client), not a malformed request.
    client_id = fields.String(validate=validate.Length(max=100))
    client_secret = fields.String(validate=validate.Length(max=200), load_only=True)
    scope = fields.String(validate=validate.Length(max=200), metadata={
        "description": "Diabaikan: token klien selalu hanya untuk membaca log event wilayahnya."})


class ClientTokenSchema(BaseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"description": "Selalu 'Bearer'."})
    expires_in = fields.Integer(required=True, metadata={"description": "Masa berlaku token akses, dalam detik."})


# Event data: internal (never on the public feed nor in the public log); the account by its id
# only (a username is often a person's name), no contacts, never a password.

class AkunDibuatData(BaseSchema):
    id = fields.String(required=True)
    role = fields.String(required=True)
    wilayah = fields.String(allow_none=True)
    aktif = fields.Boolean(required=True)
    pengurus_id = fields.String(allow_none=True)


class AkunDiubahData(AkunDibuatData):
    berubah = fields.List(fields.String(), required=True, metadata={
        "description": "Nama field yang berubah (untuk 'password' dan 'otp' hanya namanya)."})


class AkunDinonaktifkanData(BaseSchema):
    id = fields.String(required=True)
    wilayah = fields.String(allow_none=True)


class ResetDimintaData(BaseSchema):
    """For notifikasi to ask akun, once, for the link to send (never the link itself)."""
    id = fields.String(required=True)
    reset_id = fields.String(required=True)
    wilayah = fields.String(allow_none=True)


EVENT_DATA_SCHEMAS = {
    "akun.dibuat": AkunDibuatData,
    "akun.diubah": AkunDiubahData,
    "akun.dinonaktifkan": AkunDinonaktifkanData,
    "akun.reset_diminta": ResetDimintaData,
}

# Accounts are about people: none of their events is public.
PUBLIC_DATA_SCHEMAS = dict.fromkeys(EVENT_DATA_SCHEMAS, INTERNAL)
