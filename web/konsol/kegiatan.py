"""The console's Activities (kegiatan, issue 20): a month calendar and a filtered list of the
activities of the person's area; scheduling one of the five kinds with the fields of its kind;
rescheduling while planned; starting; finishing with the report, participants and photos;
cancelling with a reason; and the survey codes of a finished activity as a sheet of QR codes,
printed on A4 and handed out to its participants.

Every action is the API's (docs/contracts.md, "kegiatan over HTTP"): the views translate forms
into bodies and answers into pages. A button shows only to whom the service allows its action,
in the states the activity's lifecycle allows it from (services/kegiatan/domain.py)."""
import calendar
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from services.common import attachments
from services.common.config import settings
from services.common.errors import Conflict
from services.common.waktu import BULAN, HARI
from services.common.wilayah import ZONES, zona_waktu
from services.kegiatan import domain
from web import display
from web.gateway import Problem
from web.konsol.formulir import (area_code, form_errors, idempotency_key, local_to_iso, page, page_number,
                                 refused_unless, typed, unshown)
from web.konsol.masuk import qr_svg
from web.konsol.sesi import (PHOTO_FORM_BYTES, RULES, STALE, akun, blp, call, correct, create, may, passed_on, read,
                             require, send, takes_upload, upload)

API = "/api/v1/kegiatan"
TOPIK = {"pencegahan_kejahatan": "Pencegahan kejahatan", "narkoba": "Bahaya narkoba",
         "terorisme": "Pencegahan terorisme", "kenakalan_remaja": "Kenakalan remaja", "lainnya": "Lainnya"}
MATERI = {"bela_diri": "Bela diri", "pertolongan_pertama": "Pertolongan pertama",
          "manajemen_bencana": "Manajemen bencana", "lainnya": "Lainnya"}
UNSUR = {"polri": "Polri", "masyarakat": "Masyarakat", "tokoh_agama": "Tokoh agama", "tokoh_adat": "Tokoh adat",
         "akademisi": "Akademisi", "pelaku_usaha": "Pelaku usaha", "pemerintah": "Pemerintah", "lainnya": "Lainnya"}
WORDS = {"jenis": display.JENIS_KEGIATAN, "status": display.STATUS_KEGIATAN, "topik": TOPIK, "materi": MATERI,
         "unsur": UNSUR}
# The schedule form's fields (the kinds' own, domain.FIELD_OF_KIND, among them), the finish's, a participant's.
FIELDS = ("unit_id", "jenis", "judul", "mulai", "selesai", "kode_wilayah", "alamat", "deskripsi", "topik",
          "topik_lainnya", "materi", "materi_lainnya", "rute", "program_id")
REPORT_FIELDS = ("jumlah_peserta", "ringkasan", "temuan")
PESERTA_FIELDS = ("nama", "unsur", "telepon", "email")
TEMUAN_ROWS = 3
# A month's activities are read in pages of the API's largest; past MOST the calendar says so.
PAGE, MOST = 200, 1000
LIST_PAGE = 20
MONTH = re.compile(r"(?:19|20|21)\d\d-(?:0[1-9]|1[0-2])")
# A patrol's stop typed as a point: 'lintang, bujur' in decimal degrees.
POINT = re.compile(r"(-?\d+(?:\.\d+)?)\s*[,;]\s*(-?\d+(?:\.\d+)?)")


# What the person may do to an activity

def may_record(item):
    """Whether the person records the activities of the activity's unit: the service's own
    check, on the unit's area (a national unit's: national staff alone)."""
    return may(RULES.kegiatan, item.get("unit_kode") or "")


def correctable(item):
    try:
        domain.check_correctable(item)
    except Conflict:
        return False
    return True


def can(item, action):
    """Whether the button of `action` shows on the activity: the person may record it, and its
    state allows it (the lifecycle's mulai, selesai and batal; ubah, peserta, foto, survei)."""
    if not may_record(item):
        return False
    status = item["status"]
    if action in domain.LIFECYCLE.steps:
        return status in domain.LIFECYCLE.steps[action].allowed_from
    return {"ubah": correctable(item), "peserta": status != "dibatalkan", "foto": True,
            "survei": status == "selesai"}[action]


render = partial(page, can=can, words=WORDS)  # the section's pages: its words, the buttons an activity shows


def one(kegiatan_id):
    return call("GET", f"{API}/{kegiatan_id}")


def to_detail(kegiatan_id, message):
    flash(message, "info")
    return redirect(url_for("konsol.kegiatan_lihat", kegiatan_id=kegiatan_id), 303)


# Forms into bodies

def route_of(text):
    """(a patrol's stops, errors): one stop a line, an area (its code or name) or a point."""
    stops, errors = [], []
    for number, line in enumerate((line.strip() for line in text.splitlines() if line.strip()), 1):
        if point := POINT.fullmatch(line):
            stops.append({"titik": {"lat": float(point[1]), "lon": float(point[2])}})
            continue
        kode, error = area_code(line)
        if kode:
            stops.append({"kode_wilayah": kode})
        else:
            errors.append(f"Baris {number}: {error}")
    return stops, errors


def activity_body(values, jenis, clock):
    """(the API's body of an activity as the form says it, the errors found translating it): the
    place made a code, the times read on its clock (`clock`, the unit's area, while the place is
    unknown), only the kind's own fields. An optional field left empty is None."""
    errors = {}
    kode, error = area_code(values["kode_wilayah"])
    if error:
        errors["kode_wilayah"] = [error]
    body = {"judul": values["judul"], "lokasi": {"kode_wilayah": kode, "alamat": values["alamat"]},
            "deskripsi": values["deskripsi"] or None}
    for name in ("mulai", "selesai"):
        body[name] = local_to_iso(values[name], kode or clock) if values[name] else None
        if body[name] is None:
            errors[name] = ["Isi tanggal dan jam."]
    own = domain.FIELD_OF_KIND.get(jenis)
    if own == "rute":
        body["rute"], errors["rute"] = route_of(values["rute"])
    elif own:
        body[own] = values[own] or None
        if own in domain.EXPLAINED_IN:
            body[domain.EXPLAINED_IN[own]] = values[domain.EXPLAINED_IN[own]] or None
    return body, {name: texts for name, texts in errors.items() if texts}


# The calendar and the list

def every(path, **params):
    """(a list's items, read page by page, at most MOST; whether there were more)."""
    items, number = [], 1
    while True:
        answer = call("GET", path, params={**params, "page": number, "per_page": PAGE})
        items += answer["items"]
        if len(items) >= min(answer["total"], MOST) or not answer["items"]:
            return items[:MOST], answer["total"] > MOST
        number += 1


def month_of(text, today):
    """The first day of the month asked for (`YYYY-MM`), or of today's."""
    return date.fromisoformat(f"{text}-01") if MONTH.fullmatch(text or "") else today.replace(day=1)


def month_link(first):
    name = BULAN[first.month - 1]
    return {"bulan": first.strftime("%Y-%m"), "nama": f"{name} {first.year}", "singkat": f"{name[:3]} {first.year}"}


@blp.get("/kegiatan")
def kegiatan():
    """A month's activities, each on the day it starts on its own area's clock."""
    zone = ZoneInfo(ZONES[zona_waktu(akun().get("wilayah"))])
    today = datetime.now(zone).date()
    first = month_of(request.args.get("bulan"), today)
    after = (first + timedelta(days=31)).replace(day=1)
    # A day's margin each side: an activity elsewhere starts on another clock's day.
    items, more = every(API, dari=datetime.combine(first - timedelta(days=1), time(), zone).isoformat(),
                        sampai=datetime.combine(after + timedelta(days=1), time(), zone).isoformat())
    days = defaultdict(list)
    for item in sorted(items, key=lambda item: item["mulai"]):
        day = display.local(item["mulai"], item["lokasi"]["kode_wilayah"])[0].date()
        if first <= day < after:
            days[day].append(item)
    return render("kegiatan", first=first, bulan=month_link(first), today=today, days=days, more=more, hari=HARI,
                  weeks=calendar.Calendar().monthdatescalendar(first.year, first.month), nama_bulan=BULAN,
                  previous=month_link((first - timedelta(days=1)).replace(day=1)), following=month_link(after))


@blp.get("/kegiatan/daftar")
def kegiatan_daftar():
    """The activities, latest first, of a status and a kind."""
    filters = {name: request.args[name] for name, words in (("status", display.STATUS_KEGIATAN),
                                                            ("jenis", display.JENIS_KEGIATAN))
               if request.args.get(name) in words}
    listed = call("GET", API, params={**filters, "page": page_number(), "per_page": LIST_PAGE})
    return render("kegiatan_daftar", listed=listed, filters=filters)


# Scheduling and rescheduling

def units_held():
    """The units whose activities the person records: those of their area."""
    units = call("GET", "/api/v1/units", params={"per_page": PAGE})["items"]
    return [unit for unit in units if may(RULES.kegiatan, unit.get("kode_wilayah") or "")]


def programs():
    """(id, name) of the aid programs an activity may deliver: those not closed."""
    found = call("GET", "/api/v1/bantuan/program", params={"per_page": PAGE})["items"]
    return [(program["id"], program["nama"]) for program in found if program.get("status") != "ditutup"]


def schedule_form(values, errors=None, status=200, item=None, units=(), **context):
    """The schedule form: a new activity's (every kind's fields), or a planned one's (its kind's)."""
    errors = errors or {}
    delivers_aid = item is None or item["jenis"] == "bantuan_sosial"
    return render("kegiatan_jadwal", status, values=values, errors=errors, detail=unshown(errors, FIELDS), item=item,
                  units=[(unit["id"], unit["nama"]) for unit in units], programs=programs() if delivers_aid else [],
                  **context)


@blp.route("/kegiatan/baru", methods=["GET", "POST"])
def kegiatan_baru():
    require(RULES.kegiatan, "Peran Anda tidak berwenang menjadwalkan kegiatan.")
    units = units_held()
    if request.method == "GET":
        mine = akun().get("wilayah")
        own = next((unit["id"] for unit in units if unit.get("kode_wilayah") == mine), units[0]["id"] if units else "")
        return schedule_form({"unit_id": own}, units=units)
    values = typed(FIELDS)
    unit = next((unit for unit in units if unit["id"] == values["unit_id"]), None)
    jenis = values["jenis"] if values["jenis"] in domain.JENIS else None
    body, errors = activity_body(values, jenis, unit and unit.get("kode_wilayah"))
    if unit is None:
        errors["unit_id"] = ["Pilih unit penyelenggara."]
    if jenis is None:
        errors["jenis"] = ["Pilih jenis kegiatan."]
    if not errors:
        try:
            made = create(API, {"unit_id": unit["id"], "jenis": jenis,
                                **{name: value for name, value in body.items() if value}})
        except Problem as problem:
            refused_unless(problem, 400)
            errors = form_errors(problem)
        else:
            return to_detail(made["id"], f"Kegiatan \u201c{made['judul']}\u201d sudah dijadwalkan.")
    return schedule_form(values, errors, 400, units=units)


def local_input(value, kode):
    """An API moment as a `datetime-local` field shows it: on the clock of the area."""
    return f"{display.local(value, kode)[0]:%Y-%m-%dT%H:%M}"


def stop_line(stop):
    return stop.get("kode_wilayah") or "{lat}, {lon}".format(**stop["titik"])


def form_values(item):
    """An activity as the schedule form shows it."""
    kode = item["lokasi"]["kode_wilayah"]
    values = {name: item.get(name) or "" for name in FIELDS}
    return {**values, "mulai": local_input(item["mulai"], kode), "selesai": local_input(item["selesai"], kode),
            "kode_wilayah": kode, "alamat": item["lokasi"]["alamat"],
            "rute": "\n".join(stop_line(stop) for stop in item.get("rute") or [])}


@blp.route("/kegiatan/<uuid:kegiatan_id>/ubah", methods=["GET", "POST"])
def kegiatan_ubah(kegiatan_id):
    """Reschedule (or correct) a planned activity: a merge patch on the version the form showed."""
    path = f"{API}/{kegiatan_id}"
    item, versi = read(path)
    if request.method == "GET":
        return schedule_form(form_values(item), item=item, versi=versi)
    values = {**typed(FIELDS), "unit_id": item["unit_id"], "jenis": item["jenis"]}
    body, errors = activity_body(values, item["jenis"], item.get("unit_kode"))
    if not errors:
        changes = {name: value for name, value in body.items()
                   if value is not None or name in ("deskripsi", *domain.EXPLAINED_IN.values())}
        try:
            correct(path, request.form.get("versi", ""), changes)
        except Problem as problem:
            if problem.status == 412:  # changed meanwhile: the form again, with what it is now
                return schedule_form(form_values(item), {"_": [STALE]}, 412, item=item, versi=versi)
            refused_unless(problem, 400)
            errors = form_errors(problem)
        else:
            return to_detail(kegiatan_id, "Perubahan jadwal kegiatan sudah disimpan.")
    return schedule_form(values, errors, 400, item=item, versi=request.form.get("versi", ""))


# One activity: what it is, its participants and photos, what may be done to it

def detail(kegiatan_id, status=200, **forms):
    item = one(kegiatan_id)
    peserta = call("GET", f"{API}/{kegiatan_id}/peserta", params={"per_page": PAGE})
    lampiran = call("GET", f"{API}/{kegiatan_id}/lampiran", params={"per_page": attachments.MAX_PER_RECORD})
    forms.setdefault("peserta_values", {"unsur": "masyarakat"})
    forms.setdefault("peserta_errors", {})
    forms.setdefault("foto_errors", {})
    return render("kegiatan_lihat", status, item=item, peserta=peserta, lampiran=lampiran["items"],
                  program=program_of(item), **forms)


def program_of(item):
    """The aid program a bantuan_sosial activity delivers, when the person may read it."""
    if not item.get("program_id"):
        return None
    try:
        return call("GET", f"/api/v1/bantuan/program/{item['program_id']}")
    except Problem:
        return None


@blp.get("/kegiatan/<uuid:kegiatan_id>")
def kegiatan_lihat(kegiatan_id):
    return detail(kegiatan_id)


@blp.post("/kegiatan/<uuid:kegiatan_id>/mulai")
def kegiatan_mulai(kegiatan_id):
    call("POST", f"{API}/{kegiatan_id}/mulai")
    return to_detail(kegiatan_id, "Kegiatan sudah dimulai. Catat peserta dan unggah foto, lalu selesaikan dengan "
                                  "laporannya.")


@blp.route("/kegiatan/<uuid:kegiatan_id>/selesai", methods=["GET", "POST"])
def kegiatan_selesai(kegiatan_id):
    """Finish with the report; the API makes the survey codes for the participants with it."""
    item = one(kegiatan_id)
    if request.method == "GET":
        values = {"jumlah_peserta": str(item.get("jumlah_peserta_tercatat") or "")}
        return render("kegiatan_selesai", item=item, values=values, errors={}, rows=range(TEMUAN_ROWS))
    values = typed([*REPORT_FIELDS[:2], *(f"temuan-{row}-{name}" for row in range(TEMUAN_ROWS)
                                          for name in ("kategori", "tindak_lanjut"))])
    temuan = [{"kategori": values[f"temuan-{row}-kategori"], "tindak_lanjut": values[f"temuan-{row}-tindak_lanjut"]}
              for row in range(TEMUAN_ROWS)]
    jumlah = values["jumlah_peserta"]
    laporan = {"jumlah_peserta": int(jumlah) if jumlah.isdigit() else jumlah, "ringkasan": values["ringkasan"],
               "temuan": [finding for finding in temuan if finding["kategori"] or finding["tindak_lanjut"]]}
    try:
        done = call("POST", f"{API}/{kegiatan_id}/selesai", {"laporan": laporan})
    except Problem as problem:
        refused_unless(problem, 400)
        errors = form_errors(problem)
        return render("kegiatan_selesai", 400, item=item, values=values, errors=errors, rows=range(TEMUAN_ROWS),
                      detail=unshown(errors, REPORT_FIELDS))
    return to_detail(kegiatan_id, f"Kegiatan \u201c{done['judul']}\u201d sudah selesai dan laporannya tersimpan. "
                                  "Cetak kode survei untuk dibagikan kepada peserta.")


@blp.route("/kegiatan/<uuid:kegiatan_id>/batal", methods=["GET", "POST"])
def kegiatan_batal(kegiatan_id):
    item = one(kegiatan_id)
    values, errors = {"alasan": request.form.get("alasan", "").strip()}, {}
    if request.method == "POST":
        try:
            call("POST", f"{API}/{kegiatan_id}/batal", {"alasan": values["alasan"]})
        except Problem as problem:
            refused_unless(problem, 400)
            errors = form_errors(problem)
        else:
            return to_detail(kegiatan_id, "Kegiatan sudah dibatalkan.")
    return render("kegiatan_batal", 400 if errors else 200, item=item, values=values, errors=errors,
                  detail=unshown(errors, ("alasan",)))


@blp.post("/kegiatan/<uuid:kegiatan_id>/peserta")
def kegiatan_peserta(kegiatan_id):
    values = typed(PESERTA_FIELDS)
    try:
        added = create(f"{API}/{kegiatan_id}/peserta", {name: value for name, value in values.items() if value})
    except Problem as problem:
        refused_unless(problem, 400)
        errors = form_errors(problem)
        return detail(kegiatan_id, 400, peserta_values=values, peserta_errors=errors,
                      peserta_detail=unshown(errors, PESERTA_FIELDS))
    return to_detail(kegiatan_id, f"{added['nama']} sudah dicatat sebagai peserta.")


@blp.post("/kegiatan/<uuid:kegiatan_id>/foto")
@takes_upload(PHOTO_FORM_BYTES)
def kegiatan_foto(kegiatan_id):
    berkas = request.files.get("berkas")
    if not berkas or not berkas.filename:
        return detail(kegiatan_id, 400, foto_errors={"berkas": ["Pilih foto atau dokumen yang diunggah."]})
    try:
        upload(f"{API}/{kegiatan_id}/lampiran", berkas, idempotency_key())
    except Problem as problem:
        refused_unless(problem, 400, 409, 413)
        errors = form_errors(problem)
        return detail(kegiatan_id, 400, foto_errors={"berkas": [text for texts in errors.values() for text in texts]})
    return to_detail(kegiatan_id, "Foto sudah diunggah.")


@blp.get("/kegiatan/<uuid:kegiatan_id>/lampiran/<uuid:lampiran_id>")
def kegiatan_lampiran(kegiatan_id, lampiran_id):
    """A photo or document of the activity, passed on from the API as it answers it."""
    return passed_on(send("GET", f"{API}/{kegiatan_id}/lampiran/{lampiran_id}", stream=True))


# The survey sheet

@blp.get("/kegiatan/<uuid:kegiatan_id>/survei")
def kegiatan_survei(kegiatan_id):
    """The unused survey codes of a finished activity, each a QR code of its address on the
    portal (docs/contracts.md, "The web front-end's addresses"), on A4 cards to cut and hand out."""
    item = one(kegiatan_id)
    codes = call("GET", f"{API}/{kegiatan_id}/survei")
    portal = (settings().portal_url or request.url_root).rstrip("/")
    cards = [{"kode": kode, "qr": qr_svg(f"{portal}/survei/{kode}?kegiatan={kegiatan_id}", f"Kode QR survei {kode}")}
             for kode in codes["kode"]]
    return render("kegiatan_survei", item=item, cards=cards, terpakai=codes["terpakai"], portal=portal)
