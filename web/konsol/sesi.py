"""The console's core: a login's record on the server (web/session.py), the gateway's API called
with its tokens, and what every console page shares (the person's account, the rules of what they
may do, the menu). docs/accounts.md has the login flow this follows.

Each console request touches the login's record (it ends after WEB_SESSION_IDLE_MINUTES idle),
renews the access token with the refresh token when it is about to expire or the gateway refuses
it, and ends the login when that fails too: a disabled account, a login ended elsewhere. A token
good for one thing only (`hanya`) keeps its holder on the page that thing is done on.

What a person may press follows the services' own rules (`may`, with the role lists the services'
domains define): a button the person may not use is not shown, and the service refuses it anyway."""
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, session, url_for

from services.akun import domain as akun_rules
from services.bantuan import domain as bantuan_rules
from services.common import attachments
from services.common.access import Actor
from services.kegiatan import domain as kegiatan_rules
from services.organisasi import domain as organisasi_rules
from web.gateway import UPLOAD_TIMEOUT, Problem
from web.konsol.formulir import area_name, idempotency_field, idempotency_key

blp = Blueprint("konsol", __name__, url_prefix="/konsol")

# The cookie's names for the records of a login, of a login awaiting its code, of a reset link.
SESI, MASUK, ATUR_SANDI = "konsol", "konsol_masuk", "konsol_atur_sandi"
PENDING_SECONDS = 5 * 60
RESET_SECONDS = 30 * 60  # a reset link is good that long anyway
# Renew the access token this long before it expires, rather than wait for the gateway's 401.
RENEW_MARGIN_SECONDS = 30
# The pages a person reaches without a login, and those a token good for one thing only allows.
OPEN = {"konsol.masuk", "konsol.masuk_kode", "konsol.atur_sandi", "konsol.keluar"}
ALLOWED = {"daftar_otp": {"konsol.daftar_otp"}, "ganti_password": {"konsol.ganti_sandi"}}
ROLE = {"admin": "Admin", "pengurus": "Pengurus", "petugas": "Petugas", "pemantau": "Pemantau"}
# The console's sections: (title, icon, endpoint, the roles that see it: None for everyone).
SECTIONS = (("Dasbor", "chart-bar", "konsol.beranda", None), ("Unit", "user-group", "konsol.unit", None),
            ("Kegiatan", "calendar-days", "konsol.kegiatan", None),
            ("Aspirasi", "chat-bubble-left-right", "konsol.aspirasi", None),
            ("Bantuan sosial", "gift", "konsol.bantuan", None), ("Notifikasi", "bell", "konsol.notifikasi", None),
            ("Akun", "lock-closed", "konsol.akun", akun_rules.MANAGERS))
ENDED = "Sesi Anda sudah berakhir. Silakan masuk kembali."
TOO_MANY = "Terlalu banyak percobaan. Coba lagi dalam {} menit."


# The role lists of the services' rules, as templates and views name them: may(rules.kegiatan).
RULES = SimpleNamespace(organisasi=organisasi_rules.ROLES_MENGELOLA, kegiatan=kegiatan_rules.ROLES_PENCATAT,
                        program=bantuan_rules.ROLES_PROGRAM, bantuan=bantuan_rules.ROLES_PENCATAT,
                        hapus_penerima=bantuan_rules.ROLES_PENGHAPUS, akun=akun_rules.MANAGERS)
STALE = "Data ini sudah diubah orang lain sejak Anda membukanya. Periksa isinya sekarang, lalu simpan lagi."


class SessionEnded(Exception):
    """The gateway refused the login's tokens, the access token and then its renewal."""


def gateway():
    return current_app.extensions["gateway"]


def sessions():
    return current_app.extensions["konsol_sesi"]


def safe_next(target):
    """Only a console page of this site: `next` is never a way off it."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/konsol") or target.startswith("//"):
        return None
    return target


def masuk_url():
    return url_for("konsol.masuk", next=request.full_path.rstrip("?") if request.method == "GET" else None)


# A login's record

def begin(pair, akun=None):
    """A new record (a new id: a login never reuses the id of what came before it) for a token pair."""
    end()
    record = {"access": pair["access_token"], "refresh": pair["refresh_token"],
              "exp": time.time() + pair["expires_in"], "hanya": pair.get("hanya"), "akun": akun}
    if pair.get("ganti_password_wajib") and not record["hanya"]:
        record["hanya"] = "ganti_password"
    session[SESI] = sessions().new(record)
    g.konsol = record
    return record


def end():
    sessions().delete(session.pop(SESI, None))
    g.pop("konsol", None)


def renew(record):
    """The record with a fresh token pair: from the store, when another request renewed it
    meanwhile; else from the gateway. SessionEnded when the gateway refuses."""
    sid = session[SESI]
    with sessions().locked(sid):
        stored = sessions().get(sid)
        if stored is None:
            raise SessionEnded()
        if stored["refresh"] == record["refresh"]:
            try:
                pair = gateway().post("/api/v1/auth/refresh", {"refresh_token": record["refresh"]})
            except Problem as problem:
                if problem.status in (400, 401):
                    raise SessionEnded() from None
                raise
            stored.update(access=pair["access_token"], refresh=pair["refresh_token"],
                          exp=time.time() + pair["expires_in"], hanya=pair.get("hanya"))
            sessions().put(sid, stored)
    g.konsol = stored
    return stored


def send(method, path, **options):
    """The gateway's answer (a requests.Response) to the person's request, made with the
    login's access token; `options` are Gateway.send's (params, json, headers, data, files)."""
    record = g.konsol
    if record["exp"] - time.time() < RENEW_MARGIN_SECONDS:
        record = renew(record)
    headers = options.pop("headers", None) or {}
    for attempt in (1, 2):
        try:
            return gateway().send(method, path, headers={**headers, "Authorization": f"Bearer {record['access']}"},
                                  **options)
        except Problem as problem:
            if problem.status != 401:
                raise
            if attempt == 2:
                raise SessionEnded() from None  # a fresh token refused too: the login is over
        record = renew(record)  # refused before it expired: a role changed, a code enrolled, a disabled account


def passed_on(answer):
    """The gateway's streamed answer (`send(..., stream=True)`: an export, a photo) handed to the
    browser as it came: its bytes, type, file name and length."""
    response = Response(answer.iter_content(64 * 1024), headers={
        name: answer.headers[name] for name in ("Content-Type", "Content-Disposition", "Content-Length")
        if name in answer.headers})
    response.call_on_close(answer.close)
    return response


def call(method, path, json=None, params=None, **options):
    """The JSON of the gateway's answer (None for a 204)."""
    response = send(method, path, json=json, params=params, **options)
    return None if response.status_code == 204 else response.json()


def read(path, **params):
    """(the JSON, its ETag): what a correction form shows, and the version its PATCH names."""
    response = send("GET", path, params=params or None)
    return response.json(), response.headers.get("ETag", "")


def correct(path, etag, changes):
    """A merge patch (RFC 7396) of `changes` to the version `etag` the person saw; a Problem 412
    (STALE says it) when someone changed the record meanwhile."""
    return call("PATCH", path, json=changes,
                headers={"If-Match": etag, "Content-Type": "application/merge-patch+json"})


def create(path, body):
    """POST with the form's Idempotency-Key (`idempotency_field()` in the form): a form sent twice
    (a double tap, a resend after a timeout) makes one record, and the second answer is the first's."""
    return call("POST", path, json=body, headers=idempotency_key() or None)


# The pages that take a file (a photo, a CSV), by endpoint, with the body they allow: more than
# the app's MAX_CONTENT_LENGTH for every other form. A photo's form carries an attachment's
# limit (services/common/attachments.py) and its other fields.
UPLOADS = {}
PHOTO_FORM_BYTES = attachments.MAX_BYTES + 64 * 1024


def upload(path, berkas, headers=None):
    """The form's file (a FileStorage) sent on as the API's multipart part `berkas`."""
    return send("POST", path, headers=headers, timeout=UPLOAD_TIMEOUT,
                files={"berkas": (berkas.filename or "berkas", berkas.stream, berkas.mimetype)})


def takes_upload(max_bytes):
    """Decorates a view (below its @blp.route) that takes a file of up to `max_bytes`."""
    def allow(view):
        UPLOADS[f"{blp.name}.{view.__name__}"] = max_bytes
        return view
    return allow


@blp.url_value_preprocessor
def allow_an_upload(endpoint, values):
    # The earliest hook of a request: the CSRF check (a before_request) reads the form after it.
    if endpoint in UPLOADS:
        request.max_content_length = UPLOADS[endpoint]


@blp.errorhandler(413)
def upload_too_large(error):
    return render_template("konsol/galat.html", status=413, title="Berkas terlalu besar",
                           message="Berkas yang Anda kirim terlalu besar. Perkecil atau pecah berkasnya, lalu kirim "
                                   "lagi."), 413


def akun():
    """The person's own account, asked once per request: a disabled one is thrown out here."""
    if "akun" not in g:
        mine = call("GET", "/api/v1/akun/saya")
        g.akun = {**mine, "peran": ROLE.get(mine["role"], mine["role"]), "nama_wilayah": area_name(mine.get("wilayah"))}
    return g.akun


def actor():
    """The person as the services' rules see them (services/common/access.py)."""
    mine = akun()
    return Actor(sub=mine["id"], roles=(mine["role"],), wilayah=mine.get("wilayah") or None)


def may(roles, kode=None):
    """Whether the person holds one of `roles` and covers the area `kode` (their own when None):
    the rule the service applies to the same request. A button the person may not use is not shown."""
    person = actor()
    return person.has_role(roles) and person.covers(person.wilayah if kode is None else kode)


def require(roles, refusal, kode=None):
    """A page for what the person may not do, opened by its address: the 403 the service would
    answer its form with, before the form is shown."""
    if not may(roles, kode):
        raise Problem(403, {"detail": refusal})


def sections():
    """The sections the person sees in the menu: those built, of their role."""
    role = akun()["role"]
    return [(title, icon, endpoint) for title, icon, endpoint, roles in SECTIONS
            if endpoint in current_app.view_functions and (roles is None or role in roles)]


@blp.before_request
def a_login_is_needed():
    sid = session.get(SESI)
    record = sessions().get(sid) if sid else None
    if record is None:
        if sid:
            session.pop(SESI)
            if request.endpoint not in OPEN:
                flash(ENDED, "galat")
        if request.endpoint not in OPEN:
            return redirect(masuk_url())
        return None
    sessions().put(sid, record)  # touched: the idle clock starts again
    g.konsol = record
    allowed = ALLOWED.get(record.get("hanya"))
    if allowed is not None and request.endpoint not in allowed | {"konsol.keluar", "konsol.atur_sandi"}:
        return redirect(url_for(next(iter(allowed))))
    return None


@blp.after_request
def never_kept(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.errorhandler(SessionEnded)
def session_ended(error):
    end()
    flash(ENDED, "galat")
    return redirect(masuk_url())


@blp.errorhandler(Problem)
def refused(problem):
    """What a view did not answer itself: the service's refusal, said on a page of the console."""
    titles = {403: "Tidak berwenang", 404: "Tidak ditemukan", 409: "Tidak dapat dilakukan",
              412: "Data sudah berubah"}
    status = problem.status if problem.status in titles else 400
    message = STALE if status == 412 else problem.detail or "Permintaan ini tidak dapat diproses."
    return render_template("konsol/galat.html", status=status, title=titles.get(status, "Permintaan ditolak"),
                           message=message), status


@blp.context_processor
def console_globals():
    return {"akun": akun, "may": may, "sections": sections, "rules": RULES, "idempotency_field": idempotency_field,
            "area_name": area_name}


def minutes(seconds):
    return max(1, -(-seconds // 60))


def after_login(record, target=None):
    if record["hanya"] == "daftar_otp":
        return redirect(url_for("konsol.daftar_otp"), 303)
    if record["hanya"] == "ganti_password":
        return redirect(url_for("konsol.ganti_sandi"), 303)
    return redirect(safe_next(target) or url_for("konsol.beranda"), 303)


