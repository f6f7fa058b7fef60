"""Accounts and logins: the akun service over HTTP. Logging in and refreshing are public (they
are how one gets a token); logging in is rate limited per client address, beside the lockout
akun keeps per username. Other systems' machine accounts (`/klien`) get tokens with the OAuth
2.0 client credentials grant at `/auth/token`."""
from flask import request
from flask.views import MethodView

from gateway.blueprint import Blueprint, call, call_anonymous, created, limiter
from services.common.config import settings
from services.common.errors import InvalidInput
from services.akun.schemas import (AkunBaruSchema, AkunPageSchema, AkunQuerySchema, AkunSchema, AkunUbahSchema,
                                   AturSandiSchema, ClientCredentialsSchema, ClientTokenSchema, GantiPasswordSchema,
                                   KlienBaruSchema, KlienPageSchema, KlienQuerySchema, KlienRahasiaSchema, KlienSchema,
                                   KlienUbahSchema, KodeOtpSchema, LoginSchema, OtpPendaftaranSchema, RefreshSchema,
                                   ResetDimintaSchema, TokenSchema)

akun_blp = Blueprint("akun", __name__, url_prefix="/api/v1/akun",
                     description="Akun orang-orang BKPM: dikelola admin di wilayahnya; kata sandi dan kode "
                                 "sekali pakai pemiliknya.")
auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                     description="Masuk, perbarui token, keluar; token untuk klien sistem lain.")
klien_blp = Blueprint("klien", __name__, url_prefix="/api/v1/klien",
                      description="Klien sistem lain (OAuth 2.0 client credentials): dikelola admin di wilayahnya, "
                                  "hanya dapat membaca log event wilayahnya.")


@auth_blp.after_request
@akun_blp.after_request
def never_stored(response):
    """Tokens are not for caches (RFC 6749 §5.1); nor are the accounts' answers, which carry
    their contacts or, after a new password or one-time code, a new pair of tokens."""
    response.headers["Cache-Control"] = "no-store"
    return response


@akun_blp.route("")
class DaftarAkun(MethodView):
    @akun_blp.arguments(AkunQuerySchema, location="query")
    @akun_blp.documents(200, AkunPageSchema, 400, 403)
    def get(self, query):
        """Akun di wilayah Anda (admin), disaring menurut wilayah, peran dan status."""
        return call("akun", "list_akun", query)

    @akun_blp.arguments(AkunBaruSchema)
    @akun_blp.documents(201, AkunSchema, 400, 403, 409)
    def post(self, data):
        """Buat akun di wilayah Anda dengan peran yang tidak lebih tinggi dari peran Anda (admin)."""
        return created(call("akun", "buat_akun", data), "/api/v1/akun/{id}")


@akun_blp.route("/saya")
class AkunSaya(MethodView):
    @akun_blp.documents(200, AkunSchema, 403, 404)
    def get(self):
        """Akun Anda sendiri."""
        return call("akun", "get_akun_saya")


@akun_blp.route("/saya/password")
class Password(MethodView):
    @akun_blp.arguments(GantiPasswordSchema)
    @akun_blp.documents(200, TokenSchema, 400, 403, 404, 429)
    def post(self, data):
        """Ganti kata sandi Anda. Semua sesi masuk akun ini berakhir; jawabannya sesi baru untuk Anda."""
        return call("akun", "ganti_password", data)


@akun_blp.route("/saya/otp")
class Otp(MethodView):
    @akun_blp.documents(200, OtpPendaftaranSchema, 403, 404, 409)
    def post(self):
        """Daftarkan kode sekali pakai (TOTP): URI otpauth dan kode QR untuk aplikasi autentikator."""
        return call("akun", "daftarkan_otp")


@akun_blp.route("/saya/otp/aktifkan")
class OtpAktif(MethodView):
    @akun_blp.arguments(KodeOtpSchema)
    @akun_blp.documents(200, TokenSchema, 400, 403, 404, 409)
    def post(self, data):
        """Aktifkan kode sekali pakai dengan kode pertama dari aplikasi: login lain akun ini berakhir, dan
        jawabannya pasangan token baru untuk klien ini."""
        return call("akun", "aktifkan_otp", data)


@akun_blp.route("/<id:akun_id>")
class SatuAkun(MethodView):
    @akun_blp.documents(200, AkunSchema, 403, 404)
    def get(self, akun_id):
        """Satu akun di wilayah Anda (admin)."""
        return call("akun", "get_akun", akun_id)

    @akun_blp.arguments(AkunUbahSchema)
    @akun_blp.documents(200, AkunSchema, 400, 403, 404, 409)
    def patch(self, data, akun_id):
        """Ubah kontak, peran, wilayah atau status akun (admin). `aktif: false` mencabut semua sesinya."""
        return call("akun", "ubah_akun", akun_id, data)


@akun_blp.route("/<id:akun_id>/reset")
class Reset(MethodView):
    @akun_blp.documents(202, ResetDimintaSchema, 403, 404, 409)
    def post(self, akun_id):
        """Kirim tautan atur ulang kata sandi ke email akun (admin): sekali pakai, berlaku 30 menit."""
        return call("akun", "minta_reset", akun_id), 202


@auth_blp.route("/login")
class Login(MethodView):
    @limiter.limit(lambda: settings().login_rate_limit)
    @auth_blp.arguments(LoginSchema)
    @auth_blp.documents(200, TokenSchema, 400, 429)
    @auth_blp.public  # innermost: its 401 (a failed login) stays documented
    def post(self, data):
        """Masuk dengan nama pengguna dan kata sandi (dan kode sekali pakai bila peran Anda memerlukannya).
        Setelah 5 kegagalan untuk satu nama pengguna dalam 15 menit: 429 dengan Retry-After."""
        return call_anonymous("akun", "buat_sesi", data)


@auth_blp.route("/atur-sandi")
class AturSandi(MethodView):
    @limiter.limit(lambda: settings().login_rate_limit)
    @auth_blp.arguments(AturSandiSchema)
    @auth_blp.documents(204, None, 400, 429)
    @auth_blp.public  # innermost: its 401 (a spent link) stays documented
    def post(self, data):
        """Buat kata sandi baru dengan token dari tautan di email (sekali pakai). Semua sesi masuk akun ini
        berakhir; masuk kembali dengan kata sandi baru."""
        call_anonymous("akun", "atur_sandi", data)
        return "", 204


@auth_blp.route("/token")
class ClientToken(MethodView):
    @limiter.limit(lambda: settings().login_rate_limit)
    @auth_blp.arguments(ClientCredentialsSchema, location="form")
    @auth_blp.documents(200, ClientTokenSchema, 400, 429)
    @auth_blp.public  # innermost: its 401 (a wrong secret) stays documented
    def post(self, data):
        """Token akses untuk klien sistem lain (RFC 6749 §4.4: `grant_type=client_credentials`, form-encoded;
        client_id dan client_secret di isi formulir atau lewat HTTP Basic). Token ini hanya dapat membaca
        log event wilayah klien (`GET /api/v1/events`)."""
        basic = request.authorization
        if basic is not None and basic.type == "basic":
            if "client_id" in data or "client_secret" in data:  # RFC 6749 §2.3: one way only
                raise InvalidInput({"client_id": ["Kirim kredensial klien lewat HTTP Basic atau formulir, tidak "
                                                  "keduanya."]})
            data = {**data, "client_id": basic.username or "", "client_secret": basic.password or ""}
        return call_anonymous("akun", "buat_token_klien", data)


@auth_blp.route("/refresh")
class Refresh(MethodView):
    @auth_blp.arguments(RefreshSchema)
    @auth_blp.documents(200, TokenSchema, 400)
    @auth_blp.public
    def post(self, data):
        """Tukar refresh token dengan pasangan baru; yang lama tidak berlaku lagi, dan memakainya lagi
        mencabut seluruh sesi."""
        return call_anonymous("akun", "perbarui_sesi", data)


@auth_blp.route("/logout")
class Logout(MethodView):
    @auth_blp.arguments(RefreshSchema)
    @auth_blp.documents(204, None, 400)
    def post(self, data):
        """Keluar: sesi refresh token ini berakhir."""
        call("akun", "akhiri_sesi", data)
        return "", 204


@klien_blp.route("")
class DaftarKlien(MethodView):
    @klien_blp.arguments(KlienQuerySchema, location="query")
    @klien_blp.documents(200, KlienPageSchema, 400, 403)
    def get(self, query):
        """Klien sistem lain di wilayah Anda (admin)."""
        return call("akun", "list_klien", query)

    @klien_blp.arguments(KlienBaruSchema)
    @klien_blp.documents(201, KlienRahasiaSchema, 400, 403)
    def post(self, data):
        """Buat klien untuk sistem lain di wilayah Anda (admin). `client_secret` hanya ditampilkan sekali ini."""
        return created(call("akun", "buat_klien", data), "/api/v1/klien")


@klien_blp.route("/<klien_id>")
class SatuKlien(MethodView):
    @klien_blp.arguments(KlienUbahSchema)
    @klien_blp.documents(200, KlienSchema, 400, 403, 404)
    def patch(self, data, klien_id):
        """Ganti nama atau nonaktifkan klien (admin); `aktif: false` langsung mencabut token aksesnya."""
        return call("akun", "ubah_klien", klien_id, data)


@klien_blp.route("/<klien_id>/rahasia")
class RahasiaKlien(MethodView):
    @klien_blp.documents(200, KlienRahasiaSchema, 403, 404)
    def post(self, klien_id):
        """Rahasia baru untuk klien (admin); yang lama langsung tidak berlaku. Hanya ditampilkan sekali ini."""
        return call("akun", "ganti_rahasia_klien", klien_id)
