"""Accounts and logins: the akun service over HTTP. Logging in and refreshing are public (they
are how one gets a token); logging in is rate limited per client address, beside the lockout
akun keeps per username."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call, call_anonymous, limiter
from services.common.config import settings
from services.akun.schemas import (AkunBaruSchema, AkunPageSchema, AkunQuerySchema, AkunSchema, AkunUbahSchema,
                                   GantiPasswordSchema, KodeOtpSchema, LoginSchema, OtpPendaftaranSchema,
                                   RefreshSchema, TokenSchema)

akun_blp = Blueprint("akun", __name__, url_prefix="/api/v1/akun",
                     description="Akun orang-orang BKPM: dikelola admin di wilayahnya; kata sandi dan kode "
                                 "sekali pakai pemiliknya.")
auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                     description="Masuk, perbarui token, keluar.")


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
        return call("akun", "buat_akun", data), 201


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
    @akun_blp.documents(200, AkunSchema, 400, 403, 404, 409)
    def post(self, data):
        """Aktifkan kode sekali pakai dengan kode pertama dari aplikasi; sesudahnya masuk kembali dengan kode."""
        return call("akun", "aktifkan_otp", data)


@akun_blp.route("/<akun_id>")
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
