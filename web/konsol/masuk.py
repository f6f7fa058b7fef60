"""Logging in and out of the console: username and password, then the one-time code where the
account's role requires one; enrolling that code on the first login; changing the password, by
choice, when an admin's reset requires it, or through a reset link from the email.

The one-time code's step keeps the username and password typed a moment before in the session
store, encrypted, for PENDING_SECONDS: they are never sent back to the browser."""
import logging
from urllib.parse import urlsplit

import segno
from flask import current_app, flash, g, redirect, request, session, url_for

from web.gateway import Problem, TooManyRequests, Unavailable
from web.konsol.formulir import form_errors, page, refused_unless
from web.konsol.sesi import (ATUR_SANDI, MASUK, PENDING_SECONDS, RESET_SECONDS, SESI, TOO_MANY, SessionEnded,
                             after_login, begin, blp, call, end, gateway, minutes, safe_next, sessions)

log = logging.getLogger(__name__)


# Logging in

def login(username, password, target, kode_otp=None):
    """(response, errors): the next page after a login, or the errors by field."""
    body = {"username": username, "password": password}
    if kode_otp is not None:
        body["kode_otp"] = kode_otp
    try:
        pair = gateway().post("/api/v1/auth/login", body)
    except TooManyRequests as error:
        return None, {"username": [TOO_MANY.format(minutes(error.retry_after))]}
    except Problem as problem:
        if problem.code == "otp_diperlukan":
            pending = {"username": username, "password": password, "next": target}
            session[MASUK] = sessions().new(pending, PENDING_SECONDS)
            return redirect(url_for("konsol.masuk_kode"), 303), None
        if problem.code == "kode_otp_salah":
            return None, {"kode_otp": [problem.detail]}
        if problem.status == 401:
            return None, {"password": [problem.detail]}
        return None, form_errors(problem, "username")
    sessions().delete(session.pop(MASUK, None))
    return after_login(begin(pair), target), None


@blp.route("/masuk", methods=["GET", "POST"])
def masuk():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("konsol"):
            return after_login(g.konsol, target)
        return page("masuk", values={}, errors={}, target=target)
    values = {"username": request.form.get("username", "").strip().lower()}
    password = request.form.get("password", "")
    errors = {}
    if not values["username"]:
        errors["username"] = ["Isi nama pengguna."]
    if not password:
        errors["password"] = ["Isi kata sandi."]
    if not errors:
        response, errors = login(values["username"], password, target)
        if response is not None:
            return response
    return page("masuk", 400, values=values, errors=errors, target=target)


@blp.route("/masuk/kode", methods=["GET", "POST"])
def masuk_kode():
    pending = sessions().get(session.get(MASUK))
    if pending is None:
        session.pop(MASUK, None)
        flash("Waktu untuk memasukkan kode sudah habis. Masuk kembali dengan kata sandi Anda.", "galat")
        return redirect(url_for("konsol.masuk"))
    if request.method == "GET":
        return page("masuk_kode", errors={})
    kode = request.form.get("kode_otp", "").strip().replace(" ", "")
    if not (len(kode) == 6 and kode.isdigit()):
        errors = {"kode_otp": ["Kode terdiri atas 6 angka dari aplikasi autentikator Anda."]}
    else:
        response, errors = login(pending["username"], pending["password"], pending.get("next"), kode)
        if response is not None:
            return response
        if "kode_otp" not in errors:  # the password no longer holds (changed, locked): start again
            sessions().delete(session.pop(MASUK, None))
            flash(" ".join(text for texts in errors.values() for text in texts), "galat")
            return redirect(url_for("konsol.masuk"))
    return page("masuk_kode", 400, errors=errors)


# The first login of an account that needs a one-time code: enrolling it

def qr_svg(uri, title="Kode QR untuk aplikasi autentikator"):
    """`uri` (the otpauth URI, a survey's address) as an inline SVG drawn here (segno): no script, no other host."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111827", light="#ffffff", border=4, omitsize=True,
                                                title=title)
    return svg.replace("<svg ", '<svg role="img" ', 1)


def otp_secret(uri):
    query = urlsplit(uri).query
    return next((value for key, _, value in (part.partition("=") for part in query.split("&")) if key == "secret"), "")


@blp.route("/daftar-otp", methods=["GET", "POST"])
def daftar_otp():
    record = g.konsol
    if not record.get("otp_uri"):
        # One secret per login: a reload shows the same code, not a new one each time.
        record["otp_uri"] = call("POST", "/api/v1/akun/saya/otp")["otpauth_uri"]
        sessions().put(session[SESI], record)
    errors = {}
    if request.method == "POST":
        kode = request.form.get("kode_otp", "").strip().replace(" ", "")
        if not (len(kode) == 6 and kode.isdigit()):
            errors = {"kode_otp": ["Kode terdiri atas 6 angka dari aplikasi autentikator Anda."]}
        else:
            try:
                pair = call("POST", "/api/v1/akun/saya/otp/aktifkan", {"kode_otp": kode})
            except Problem as problem:
                refused_unless(problem, 400)
                errors = form_errors(problem, "kode_otp")
            else:
                flash("Kode sekali pakai sudah aktif. Mulai sekarang, masuk dengan kata sandi dan kode dari "
                      "aplikasi Anda.", "info")
                return after_login(begin(pair))
    uri = record["otp_uri"]
    return page("daftar_otp", 400 if errors else 200, qr=qr_svg(uri), secret=otp_secret(uri), errors=errors)


# Passwords

def new_password_errors(form):
    baru, ulang = form.get("password_baru", ""), form.get("password_ulang", "")
    if not baru:
        return {"password_baru": ["Isi kata sandi baru."]}
    if baru != ulang:
        return {"password_ulang": ["Ulangan tidak sama dengan kata sandi baru."]}
    return {}


@blp.route("/ganti-sandi", methods=["GET", "POST"])
def ganti_sandi():
    wajib = g.konsol.get("hanya") == "ganti_password"
    errors = {}
    if request.method == "POST":
        errors = new_password_errors(request.form)
        if not request.form.get("password_lama"):
            errors["password_lama"] = ["Isi kata sandi Anda sekarang."]
        if not errors:
            body = {"password_lama": request.form["password_lama"], "password_baru": request.form["password_baru"]}
            try:
                pair = call("POST", "/api/v1/akun/saya/password", body)
            except TooManyRequests as error:
                errors = {"password_lama": [TOO_MANY.format(minutes(error.retry_after))]}
            except Problem as problem:
                refused_unless(problem, 400)
                errors = form_errors(problem, "password_baru")
            else:
                flash("Kata sandi Anda sudah diganti. Sesi masuk lain dengan akun ini sudah berakhir.", "info")
                return after_login(begin(pair, g.konsol.get("akun")))
    return page("ganti_sandi", 400 if errors else 200, wajib=wajib, errors=errors)


def no_referrer(response):
    """The reset link's page: its address once held the token, and no link from it says where it was."""
    response = current_app.make_response(response)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.route("/atur-sandi", methods=["GET", "POST"])
def atur_sandi():
    if request.method == "GET" and request.args.get("token"):
        # Out of the address at once: into the store, and the same page without it.
        sessions().delete(session.pop(ATUR_SANDI, None))
        session[ATUR_SANDI] = sessions().new({"token": request.args["token"][:200]}, RESET_SECONDS)
        return no_referrer(redirect(url_for("konsol.atur_sandi"), 303))
    pending = sessions().get(session.get(ATUR_SANDI))
    if pending is None:
        return no_referrer(page("atur_sandi", 410, berlaku=False, errors={}))
    errors = {}
    if request.method == "POST":
        errors = new_password_errors(request.form)
        if not errors:
            try:
                gateway().post("/api/v1/auth/atur-sandi", {"token": pending["token"],
                                                           "password_baru": request.form["password_baru"]})
            except TooManyRequests as error:
                errors = {"password_baru": [TOO_MANY.format(minutes(error.retry_after))]}
            except Problem as problem:
                if problem.status != 400:
                    sessions().delete(session.pop(ATUR_SANDI, None))
                    return no_referrer(page("atur_sandi", 410, berlaku=False, errors={}))
                errors = form_errors(problem, "password_baru")
            else:
                sessions().delete(session.pop(ATUR_SANDI, None))
                end()  # whoever was logged in on this browser: the account's logins are all over
                flash("Kata sandi baru Anda tersimpan. Silakan masuk dengan kata sandi itu.", "info")
                return no_referrer(redirect(url_for("konsol.masuk"), 303))
    return no_referrer(page("atur_sandi", 400 if errors else 200, berlaku=True, errors=errors))


# Logging out

@blp.route("/keluar", methods=["GET", "POST"])
def keluar():
    if g.get("konsol") is None:
        return redirect(url_for("konsol.masuk"))
    if request.method == "GET":
        return page("keluar")
    try:
        call("POST", "/api/v1/auth/logout", {"refresh_token": g.konsol["refresh"]})
    except (SessionEnded, Problem, TooManyRequests, Unavailable) as error:
        # Over here all the same; at the gateway the login then ends when its refresh token does.
        log.warning("the gateway did not end a login at logout: %s", type(error).__name__)
    end()
    flash("Anda sudah keluar dari konsol.", "info")
    return redirect(url_for("konsol.masuk"), 303)
