"""The citizens' portal: the pages anyone reaches without an account. Each view asks the gateway
(web/gateway.py) and renders a template; what the API refuses comes back as the API said it, in
Bahasa Indonesia, beside the field it is about."""
import logging
import math
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.common.config import settings
from services.common.wilayah import ZONES, zona_waktu
from web import display
from web.gateway import Problem, TooManyRequests, Unavailable

log = logging.getLogger(__name__)

blp = Blueprint("portal", __name__)

# The aspiration form's controls, named after the API's fields.
PELAPOR = ("nama", "telepon", "email")
ASPIRASI_FIELDS = ("kode_wilayah", "kategori", "isi", *PELAPOR)
MAX_ISI = 5000
# How far ahead the home page and the agenda look, and how many of each they show.
AGENDA_DAYS = 90
AGENDA_PAGE = 100
HOME_ITEMS = 4
PAST_ITEMS = 10
# The index's period unless one is chosen: the last twelve months.
INDEKS_MONTHS = 12
NILAI = range(1, 6)
SKALA_KEPERCAYAAN = {1: "Sangat rendah", 2: "Rendah", 3: "Sedang", 4: "Tinggi", 5: "Sangat tinggi"}
SKALA_KEPUASAN = {1: "Sangat tidak puas", 2: "Tidak puas", 3: "Cukup", 4: "Puas", 5: "Sangat puas"}


def gateway():
    return current_app.extensions["gateway"]


def wilayah():
    return current_app.extensions["wilayah"]


def today(kode_wilayah=None):
    return datetime.now(ZoneInfo(ZONES[zona_waktu(kode_wilayah)])).date()


# The area a visitor looks at: chosen on a page (`?wilayah=`, a code or a name) and remembered in
# the session, so that the home page shows that area's next activities next time.

def chosen_area(endpoint):
    """(area, None) for the area the request names or the session remembers (area None: none);
    (None, page) when the name needs choosing among several areas or is unknown."""
    text = request.args.get("wilayah", "").strip()
    if not text:
        area = wilayah().get(session.get("wilayah", "")) if session.get("wilayah") else None
        return area, None
    resolved = wilayah().resolve(text)
    if resolved.kode:
        session["wilayah"] = resolved.kode
        return wilayah().get(resolved.kode), None
    return None, render_template("pilih_wilayah.html", endpoint=endpoint, teks=text, error=resolved.error,
                                 candidates=resolved.candidates, args=request.args), 200 if resolved.candidates else 400


def upcoming(kode, limit):
    """The activities of `kode` and below starting from today for AGENDA_DAYS, soonest first (the
    API lists the latest first: the soonest are on its last page)."""
    start = today(kode)
    query = {"kode_wilayah": kode, "dari": start.isoformat(),
             "sampai": (start + timedelta(days=AGENDA_DAYS)).isoformat(), "per_page": AGENDA_PAGE}
    page = gateway().get("/api/v1/publik/kegiatan", **query)
    if page["total"] > AGENDA_PAGE:
        page = gateway().get("/api/v1/publik/kegiatan", **query, page=math.ceil(page["total"] / AGENDA_PAGE))
    return sorted(page["items"], key=lambda item: item["mulai"])[:limit], page["total"]


@blp.get("/")
def beranda():
    area, choose = chosen_area("portal.beranda")
    if choose:
        return choose
    kegiatan = upcoming(area["kode"], HOME_ITEMS)[0] if area else []
    return render_template("beranda.html", area=area, kegiatan=kegiatan)


@blp.get("/wilayah.json")
def wilayah_anak():
    """The areas one level below `induk` for the cascading picker (web/static/src/pilih-wilayah.js)."""
    induk = request.args.get("induk") or None
    if induk is not None and wilayah().get(induk) is None:
        abort(404)
    items = [{"kode": area["kode"], "nama": area["nama"]} for area in wilayah().children(induk)]
    response = jsonify(items)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blp.get("/altcha")
def altcha():
    """A fresh ALTCHA challenge for the widget, from the gateway, which counts it for the visitor."""
    response = jsonify(gateway().get("/api/v1/altcha"))
    response.headers["Cache-Control"] = "no-store"
    return response


# Aspirations

def aspirasi_form(values=None, errors=None, status=200, detail=None, headers=None):
    values = values or {"kunci": form_key(None)}
    return render_template("aspirasi.html", values=values, errors=errors or {}, detail=detail,
                           kategori=display.KATEGORI_ASPIRASI,
                           retensi_hari=display.angka(settings().pelapor_retention_days)), status, headers or {}


def form_key(text):
    """The Idempotency-Key a form carries from its first rendering to its last send: the UUID it
    posted, or a new one (a form that posted none, or not a UUID)."""
    try:
        return str(uuid.UUID(text))
    except (TypeError, ValueError):
        return str(uuid.uuid4())


def retry_minutes(seconds):
    return max(1, math.ceil(seconds / 60))


def refused_for_now(error, tombol):
    """(status, message, headers) for a form the gateway could not take just now: it is away
    (Unavailable) or the visitor's address must wait (TooManyRequests). The form comes back with
    what was typed (its ALTCHA widget starts afresh) and says to press `tombol` again: safe even
    when the gateway gave up on a service that did the work after all, as the aspiration's
    Idempotency-Key and the survey's single-use code make the second send answer as the first."""
    if isinstance(error, TooManyRequests):
        return 429, ("Dari alamat Anda sudah masuk banyak permintaan dalam waktu singkat. Isian Anda masih ada di "
                     f"bawah. Coba lagi dalam {retry_minutes(error.retry_after)} menit: tekan {tombol} sekali lagi."), \
            {"Retry-After": str(error.retry_after)}
    return 503, ("Portal tidak dapat menghubungi layanan BKPM saat ini. Isian Anda masih ada di bawah: tunggu "
                 f"sebentar, lalu tekan {tombol} sekali lagi."), {"Retry-After": "60"}


def field_errors(problem):
    """The API's errors by the form's control names: `pelapor.telepon` is the control `telepon`."""
    errors = {}
    for name, messages in problem.errors.items():
        if isinstance(messages, dict):
            for inner, texts in messages.items():
                errors[inner if inner in PELAPOR or inner == "altcha" else name] = texts
        else:
            errors[name] = messages
    return errors


@blp.get("/aspirasi")
def aspirasi():
    return aspirasi_form()


@blp.post("/aspirasi")
def kirim_aspirasi():
    form = request.form
    values = {name: form.get(name, "").strip() for name in ASPIRASI_FIELDS}
    values["isi"] = form.get("isi", "").strip("\n ")
    values.update(rahasia=form.get("rahasia") == "ya", altcha=form.get("altcha", ""), kunci=form_key(form.get("kunci")))
    try:
        return send_aspirasi(values)
    except (Unavailable, TooManyRequests) as error:
        status, message, headers = refused_for_now(error, "Kirim aspirasi")
        return aspirasi_form(values, status=status, detail=message, headers=headers)


def send_aspirasi(values):
    resolved = wilayah().resolve(values["kode_wilayah"])
    if resolved.candidates:
        return render_template("aspirasi_pilih_wilayah.html", values=values, candidates=resolved.candidates)
    if resolved.error:
        return aspirasi_form(values, {"kode_wilayah": [resolved.error]}, 400)
    body = {"kode_wilayah": resolved.kode, "kategori": values["kategori"], "isi": values["isi"],
            "rahasia": values["rahasia"]}
    pelapor = {name: values[name] for name in PELAPOR if values[name]}
    if pelapor:
        body["pelapor"] = pelapor
    headers = {"Idempotency-Key": values["kunci"]}
    if values["altcha"]:
        headers["X-Altcha"] = values["altcha"]
    try:
        answer = gateway().post("/api/v1/aspirasi", body, headers=headers)
    except Problem as problem:
        values["kode_wilayah"] = resolved.kode
        return aspirasi_form(values, field_errors(problem), 400 if problem.status == 400 else 409,
                             detail=problem.detail)
    session["terkirim"] = {**answer, "kode_wilayah": resolved.kode}
    return redirect(url_for("portal.aspirasi_terkirim"), 303)


@blp.get("/aspirasi/terkirim")
def aspirasi_terkirim():
    answer = session.get("terkirim")
    if answer is None:
        return redirect(url_for("portal.lacak"))
    return render_template("aspirasi_terkirim.html", answer=answer)


# Tracking a ticket

def tracking_steps(tiket):
    """The ticket's timeline: received, then every status change as the API tells it (its public
    answer, late when it missed its deadline), and the step still awaited with its deadline,
    late once that has passed (as the service's own check counts it)."""
    steps = [{"status": "diterima", "waktu": tiket["diterima"], "jawaban_publik": None, "terlambat": None},
             *tiket["riwayat"]]
    status = tiket["status"]
    pending = None
    if status == "diterima":
        pending = {"apa": "Verifikasi", "batas": tiket["batas_verifikasi"]}
    elif status in ("diverifikasi", "diproses") and tiket.get("batas_jawaban"):
        pending = {"apa": "Jawaban", "batas": tiket["batas_jawaban"]}
    if pending:
        pending["terlambat"] = datetime.now().astimezone() >= display.moment(pending["batas"])
    return steps, pending


def nomor_tiket_valid(text):
    return 4 <= len(text) <= 40 and text.replace("-", "").isalnum()


@blp.get("/lacak")
def lacak():
    nomor = request.args.get("nomor_tiket", "").strip().upper()
    if not nomor:
        return render_template("lacak.html", nomor="", tiket=None, error=None)
    return lacak_tiket(nomor)


@blp.get("/lacak/<nomor_tiket>")
def lacak_tiket(nomor_tiket):
    nomor = nomor_tiket.strip().upper()
    error = None if nomor_tiket_valid(nomor) else "Nomor tiket tidak valid; periksa kembali."
    tiket = steps = pending = kode = None
    if error is None:
        try:
            tiket = gateway().get(f"/api/v1/aspirasi/lacak/{nomor}")
        except Problem as problem:
            if problem.status != 404:
                raise
            error = f"Tiket {nomor} tidak ditemukan. Periksa kembali nomornya."
    if tiket is not None:
        steps, pending = tracking_steps(tiket)
        kode = tiket["kode_provinsi"]  # the area's clock; the API tells no more of where
    return render_template("lacak.html", nomor=nomor, tiket=tiket, steps=steps, pending=pending, kode=kode,
                           zona=zona_waktu(kode), error=error), 404 if error else 200


# The trust survey: the address a QR code at an activity leads to carries the survey code and
# the activity (`/survei/<kode>?kegiatan=<id>`), which the API's route needs both of.

@blp.get("/survei")
def survei():
    kegiatan, kode = request.args.get("kegiatan", "").strip(), request.args.get("kode", "").strip().upper()
    errors = {}
    if "kode" in request.args or "kegiatan" in request.args:
        if not kegiatan:
            errors["kegiatan"] = ["Ketik kode kegiatan yang tertera pada kartu survei."]
        if not 4 <= len(kode) <= 20 or not kode.isalnum():
            errors["kode"] = ["Kode survei terdiri atas 4 sampai 20 huruf dan angka."]
        if not errors:
            return redirect(url_for("portal.survei_kode", kode=kode, kegiatan=kegiatan))
    return render_template("survei_kode.html", kegiatan=kegiatan, kode=kode, errors=errors), 400 if errors else 200


def survei_form(kode, kegiatan, values=None, errors=None, status=200, detail=None, headers=None):
    return render_template("survei.html", kode=kode, kegiatan=kegiatan, values=values or {}, errors=errors or {},
                           detail=detail, nilai=NILAI, kepercayaan=SKALA_KEPERCAYAAN,
                           kepuasan=SKALA_KEPUASAN), status, headers or {}


@blp.route("/survei/<kode>", methods=["GET", "POST"])
def survei_kode(kode):
    kegiatan = request.args.get("kegiatan", "").strip()
    if not kegiatan:
        return redirect(url_for("portal.survei", kode=kode))
    if request.method == "GET":
        return survei_form(kode, kegiatan)
    form = request.form
    values = {name: form.get(name, "").strip() for name in ("kepercayaan", "kepuasan", "komentar")}
    errors = {name: ["Pilih salah satu nilai, 1 sampai 5."] for name in ("kepercayaan", "kepuasan")
              if values[name] not in {str(n) for n in NILAI}}
    if errors:
        return survei_form(kode, kegiatan, values, errors, 400)
    body = {"kode": kode, "kepercayaan": int(values["kepercayaan"]), "kepuasan": int(values["kepuasan"])}
    if values["komentar"]:
        body["komentar"] = values["komentar"]
    headers = {"X-Altcha": form["altcha"]} if form.get("altcha") else {}
    # A survey code counts once: a send again after the gateway gave up on a service that then
    # recorded the answer is told the code was used, which says the answer is in.
    try:
        gateway().post(f"/api/v1/kegiatan/{kegiatan}/survei", body, headers=headers)
    except (Unavailable, TooManyRequests) as error:
        status, message, headers = refused_for_now(error, "Kirim jawaban")
        return survei_form(kode, kegiatan, values, status=status, detail=message, headers=headers)
    except Problem as problem:
        if problem.code == "kode_sudah_dipakai":
            return render_template("survei_selesai.html", sudah=True), 409
        if problem.status == 404:
            return render_template("survei_kode.html", kegiatan=kegiatan, kode=kode, errors={
                "kode": ["Kode survei ini tidak dikenal untuk kegiatan tersebut. Periksa kembali kartu "
                         "survei Anda."]}), 404
        return survei_form(kode, kegiatan, values, field_errors(problem), 400, detail=problem.detail)
    return render_template("survei_selesai.html", sudah=False), 201


# An area's activities and figures

@blp.get("/agenda")
def agenda():
    area, choose = chosen_area("portal.agenda")
    if choose:
        return choose
    if area is None:
        return render_template("pilih_wilayah.html", endpoint="portal.agenda", teks="", error=None,
                               candidates=[], args={}, provinsi=wilayah().children())
    kegiatan, total = upcoming(area["kode"], AGENDA_PAGE)
    start = today(area["kode"])
    past = gateway().get("/api/v1/publik/kegiatan", kode_wilayah=area["kode"], per_page=PAST_ITEMS,
                         sampai=(start - timedelta(days=1)).isoformat())["items"]
    return render_template("agenda.html", area=area, kegiatan=kegiatan, total=total, lalu=past,
                           hari=AGENDA_DAYS)


def period():
    """The index's period: the dates chosen, or the last INDEKS_MONTHS months up to today."""
    end = today()
    first_month = end.year * 12 + end.month - INDEKS_MONTHS
    start = date(first_month // 12, first_month % 12 + 1, 1)
    try:
        dari = date.fromisoformat(request.args.get("dari") or start.isoformat())
        sampai = date.fromisoformat(request.args.get("sampai") or end.isoformat())
    except ValueError:
        return start, end, "Tanggal harus berbentuk TTTT-BB-HH."
    return dari, sampai, None


@blp.get("/indeks")
def indeks():
    area, choose = chosen_area("portal.indeks")
    if choose:
        return choose
    if area is None:
        return render_template("pilih_wilayah.html", endpoint="portal.indeks", teks="", error=None,
                               candidates=[], args={}, provinsi=wilayah().children())
    dari, sampai, error = period()
    figures = None
    if error is None:
        try:
            figures = gateway().get("/api/v1/publik/indeks", kode_wilayah=area["kode"], dari=dari.isoformat(),
                                    sampai=sampai.isoformat())
        except Problem as problem:
            if problem.status != 400:
                raise
            error = " ".join(" ".join(texts) for texts in problem.errors.values()
                             if isinstance(texts, list)) or problem.detail
    names = wilayah().names_below(area["kode"]) if len(area["kode"]) < 13 else {}
    return render_template("indeks.html", area=area, figures=figures, names=names, dari=dari, sampai=sampai,
                           error=error), 400 if error else 200


# Error pages: the same design, never a stack trace.

def error_page(status, title, message, retry_minutes=None):
    response = current_app.make_response((render_template(
        "galat.html", status=status, title=title, message=message, retry_minutes=retry_minutes), status))
    return response


def register_errors(app):
    @app.errorhandler(Unavailable)
    def unavailable(error):
        response = error_page(503, "Layanan sedang gangguan",
                              "Portal tidak dapat menghubungi layanan BKPM saat ini, jadi permintaan Anda "
                              "mungkin belum diproses. Coba lagi beberapa menit lagi.")
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(TooManyRequests)
    def too_many(error):
        response = error_page(429, "Terlalu banyak permintaan",
                              "Dari alamat Anda sudah masuk banyak permintaan dalam waktu singkat. Demi keamanan, "
                              "permintaan berikutnya baru dapat diterima sebentar lagi.",
                              retry_minutes=retry_minutes(error.retry_after))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Problem)
    def problem(error):
        log.warning("the gateway refused a request the portal made: %s %s", error.status, error.code)
        return error_page(500, "Terjadi kesalahan", "Permintaan ini tidak dapat diproses. Coba lagi nanti.")

    @app.errorhandler(CSRFError)
    def csrf(error):
        return error_page(400, "Formulir kedaluwarsa",
                          "Formulir ini sudah terlalu lama terbuka atau dikirim dari tempat lain. Muat ulang "
                          "halamannya, lalu kirim sekali lagi.")

    @app.errorhandler(404)
    def not_found(error):
        return error_page(404, "Halaman tidak ditemukan",
                          "Alamat yang Anda buka tidak ada. Periksa kembali alamatnya, atau mulai dari beranda.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return error_page(error.code or 500, "Permintaan tidak dapat diproses",
                          "Permintaan ini tidak dapat diproses. Mulai lagi dari beranda.")

    @app.errorhandler(Exception)
    def failure(error):
        log.error("unhandled error", exc_info=error)
        return error_page(500, "Terjadi kesalahan", "Terjadi kesalahan pada portal. Coba lagi beberapa saat lagi.")
