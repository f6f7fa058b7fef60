"""The console's Social aid section (issue 20): programs (create, activate, correct the quota,
close) with their summary; recipients (found by NIK or No. KK, registered, corrected);
distributions recorded with their proof and a photo; imports of recipients from a CSV, followed
as the background job they are (a progress bar, polled with htmx), whose refused rows come back
as a table and as a CSV to fix them by.

A NIK or No. KK travels in POST bodies only: a search's results are the answer to its POST,
never a page whose address holds the number. What the API refuses is said in its own words, on
the field it names, so the rules stay the services' (docs/contracts.md, "bantuan over HTTP")."""
import csv
import io
import re
import uuid
from functools import partial
from types import SimpleNamespace

from flask import flash, redirect, request, url_for

from web import display
from web.gateway import UPLOAD_TIMEOUT, Problem
from web.konsol.formulir import (area_code, form_errors, idempotency_key, page, page_number, refused_unless, typed,
                                 unshown)
from web.konsol.sesi import (PHOTO_FORM_BYTES, RULES, STALE, akun, blp, call, correct, create, read, require, send,
                             takes_upload, upload)
from web.pages import today

API = "/api/v1/bantuan"
PER_PAGE = 20
# What the API takes, with room for the multipart body around it (docs/contracts.md).
IMPORT_MAX_BYTES = 64 * 1024 * 1024 + 64 * 1024
# The refused rows a job's page lists; all of them are in its CSV.
REFUSED_SHOWN = 200

# The API's values in words.
KATA = SimpleNamespace(
    jenis_program={"sembako": "Sembako", "pengobatan_gratis": "Pengobatan gratis",
                   "bantuan_pendidikan": "Bantuan pendidikan", "lainnya": "Lainnya"},
    status_program={"draf": "Draf", "aktif": "Aktif", "ditutup": "Ditutup"},
    jenis_bukti={"tanda_tangan": "Tanda tangan", "foto": "Foto", "voucher": "Voucher"},
    jenis_kelamin={"L": "Laki-laki", "P": "Perempuan"},
    status_penyaluran={"aktif": "Tersalur", "batal": "Dibatalkan"},
    status_pekerjaan={"antri": "Menunggu giliran", "berjalan": "Sedang diproses", "selesai": "Selesai",
                      "gagal": "Gagal"},
    kolom={"nik": "NIK", "no_kk": "No. KK", "nama": "Nama", "jenis_kelamin": "Jenis kelamin",
           "tanggal_lahir": "Tanggal lahir", "kode_wilayah": "Wilayah", "alamat": "Alamat", "telepon": "Telepon"},
)
PROGRAM_FIELDS = ("nama", "jenis", "unit_id", "mulai", "selesai", "kuota", "wilayah_sasaran", "syarat")
PROGRAM_CORRECTIONS = ("kuota", "selesai", "syarat")
PENERIMA_FIELDS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")
# What a correction form shows; NIK and No. KK too, so that a changed one is answered by the
# API's own words on what to do instead.
PENERIMA_CORRECTIONS = ("nik", "no_kk", "nama", "alamat", "telepon", "kode_wilayah")
PENYALURAN_FIELDS = ("program_id", "penerima_id", "tanggal", "jenis_bukti", "bukti")
# An import's refusal names the CSV's columns it is about: "nik: ...; kode_wilayah: ...".
REFUSED_COLUMN = re.compile(r"(?:^|; )({}): ".format("|".join(KATA.kolom)))
FORMULA = ("=", "+", "-", "@", "\t", "\r")
# A correction's refusal (409) shown on the field it is about, by its code.
CONFLICT_FIELD = {"kuota_di_bawah_tersalur": "kuota", "penyaluran_setelah_selesai": "selesai"}


# What the views share

render = partial(page, kata=KATA)  # the section's pages, with its words


def number_or_text(value):
    """A count as the API takes it; anything else as typed, for the API to say what is wrong."""
    return int(value) if value.isdigit() else value


def correction(template, path, fields, changes_of, back, message):
    """A record's correction form (`template`, the record as `record`) and its merge patch, made
    on the version the form showed. `changes_of(record, values)` gives (the changes the form's
    `fields` make, errors found reading them). When someone changed the record meanwhile (412),
    the form shows it as it is now; after the correction, the page `back`."""
    record, etag = read(path)
    if request.method == "GET":
        return render(template, record=record, etag=etag, values=record, errors={}, refused=None)
    values = typed(fields)
    changes, errors = changes_of(record, values)
    if not changes and not errors:
        return redirect(back, 303)
    status = 400
    if not errors:
        try:
            correct(path, request.form.get("etag", ""), changes)
        except Problem as problem:
            refused_unless(problem, 400, 409, 412)
            if problem.status == 412:
                record, etag = read(path)
                return render(template, 412, record=record, etag=etag, values=record, errors={}, refused=STALE)
            field, status = CONFLICT_FIELD.get(problem.code), problem.status
            errors = {field: [problem.detail]} if field else form_errors(problem)
        else:
            flash(message, "info")
            return redirect(back, 303)
    return render(template, status, record=record, etag=request.form.get("etag", ""), values=values, errors=errors,
                  refused=unshown(errors, fields))


# Programs

@blp.route("/bantuan")
def bantuan():
    programs = call("GET", f"{API}/program", params={"page": page_number(), "per_page": PER_PAGE})
    return render("bantuan", programs=programs)


def program_form(values, errors, status=200):
    """The new program's form; the unit of the person's own area chosen until another is."""
    units = call("GET", "/api/v1/units", params={"per_page": 200})["items"]
    if not values.get("unit_id"):
        own = akun().get("wilayah")
        values = {**values, "unit_id": next((unit["id"] for unit in units if unit.get("kode_wilayah") == own), "")}
    return render("bantuan_program_baru", status, values=values, errors=errors, refused=unshown(errors, PROGRAM_FIELDS),
                  units=[(unit["id"], unit["nama"]) for unit in units])


@blp.route("/bantuan/program/baru", methods=["GET", "POST"])
def bantuan_program_baru():
    require(RULES.program, "Peran Anda tidak berwenang mengelola program.")
    if request.method == "GET":
        own = akun().get("wilayah") or ""
        return program_form({"wilayah_sasaran": own, "mulai": today(own).isoformat()}, {})
    values = typed(PROGRAM_FIELDS)
    body = {name: value for name, value in values.items() if value}
    body["wilayah_sasaran"] = [kode for kode in re.split(r"[\s,;]+", values["wilayah_sasaran"]) if kode]
    body["kuota"] = number_or_text(values["kuota"])
    try:
        program = create(f"{API}/program", body)
    except Problem as problem:
        refused_unless(problem, 400)
        return program_form(values, form_errors(problem), 400)
    flash("Program dibuat sebagai draf. Aktifkan bila sudah siap disalurkan.", "info")
    return redirect(url_for("konsol.bantuan_program", program_id=program["id"]), 303)


@blp.route("/bantuan/program/<uuid:program_id>")
def bantuan_program(program_id):
    program = call("GET", f"{API}/program/{program_id}")
    unit = call("GET", f"/api/v1/units/{program['unit_id']}")
    rekap = call("GET", f"{API}/program/{program_id}/rekap", params={"rinci": "wilayah"})
    penyaluran = call("GET", f"{API}/penyaluran", params={"program_id": program_id, "per_page": PER_PAGE,
                                                          "page": page_number()})
    return render("bantuan_program", program=program, unit=unit, rekap=rekap, penyaluran=penyaluran)


@blp.route("/bantuan/program/<uuid:program_id>/aktifkan", methods=["POST"])
def bantuan_program_aktifkan(program_id):
    call("POST", f"{API}/program/{program_id}/aktifkan")
    flash("Program sudah aktif: penyaluran dapat dicatat.", "info")
    return redirect(url_for("konsol.bantuan_program", program_id=program_id), 303)


@blp.route("/bantuan/program/<uuid:program_id>/tutup", methods=["GET", "POST"])
def bantuan_program_tutup(program_id):
    if request.method == "GET":
        return render("bantuan_program_tutup", program=call("GET", f"{API}/program/{program_id}"))
    call("POST", f"{API}/program/{program_id}/tutup")
    flash("Program sudah ditutup. Datanya tetap dapat dilihat, tetapi tidak dapat diubah lagi.", "info")
    return redirect(url_for("konsol.bantuan_program", program_id=program_id), 303)


def program_changes(program, values):
    wanted = {"kuota": number_or_text(values["kuota"]), "selesai": values["selesai"],
              "syarat": values["syarat"] or None}
    return {name: value for name, value in wanted.items() if value != program.get(name)}, {}


@blp.route("/bantuan/program/<uuid:program_id>/ubah", methods=["GET", "POST"])
def bantuan_program_ubah(program_id):
    return correction("bantuan_program_ubah", f"{API}/program/{program_id}", PROGRAM_CORRECTIONS, program_changes,
                      url_for("konsol.bantuan_program", program_id=program_id), "Program sudah dikoreksi.")


# Recipients

def penerima_page(status=200, **context):
    """The recipients' page: the search by number (with its results, after a search) and the list."""
    context.setdefault("listing", None if "found" in context else
                       call("GET", f"{API}/penerima", params={"page": page_number(), "per_page": PER_PAGE}))
    context.setdefault("values", {"jenis": "nik"})
    context.setdefault("errors", {})
    return render("bantuan_penerima", status, program_id=request.values.get("program_id", ""), **context)


@blp.route("/bantuan/penerima")
def bantuan_penerima():
    return penerima_page()


@blp.route("/bantuan/penerima/cari", methods=["POST"])
def bantuan_penerima_cari():
    values = {"jenis": "no_kk" if request.form.get("jenis") == "no_kk" else "nik",
              "nomor": "".join(request.form.get("nomor", "").split())}
    try:
        found = call("POST", f"{API}/penerima/cari", {values["jenis"]: values["nomor"], "per_page": 50})
    except Problem as problem:
        refused_unless(problem, 400)
        texts = [text for texts in form_errors(problem).values() for text in texts]
        return penerima_page(400, values=values, errors={"nomor": texts}, found=None)
    return penerima_page(values=values, found=found)


@blp.route("/bantuan/penerima/baru", methods=["GET", "POST"])
def bantuan_penerima_baru():
    require(RULES.bantuan, "Peran Anda tidak berwenang mencatat penerima.")
    if request.method == "GET":
        return render("bantuan_penerima_baru", values={}, errors={}, refused=None)
    values = typed(PENERIMA_FIELDS)
    body = {name: value for name, value in values.items() if value}
    status, errors = 400, {}
    if values["kode_wilayah"]:
        body["kode_wilayah"], error = area_code(values["kode_wilayah"])
        if error:
            errors["kode_wilayah"] = [error]
    if not errors:
        try:
            penerima = create(f"{API}/penerima", body)
        except Problem as problem:
            refused_unless(problem, 400, 409)
            errors, status = form_errors(problem), problem.status
        else:
            flash("Penerima sudah terdaftar.", "info")
            return redirect(url_for("konsol.bantuan_penerima_lihat", penerima_id=penerima["id"]), 303)
    return render("bantuan_penerima_baru", status, values=values, errors=errors,
                  refused=unshown(errors, PENERIMA_FIELDS))


@blp.route("/bantuan/penerima/<uuid:penerima_id>")
def bantuan_penerima_lihat(penerima_id):
    penerima = call("GET", f"{API}/penerima/{penerima_id}")
    given = call("GET", f"{API}/penyaluran", params={"penerima_id": penerima_id, "per_page": 50})["items"]
    programs = {program_id: call("GET", f"{API}/program/{program_id}")
                for program_id in {item["program_id"] for item in given}}
    photos = {item["id"]: call("GET", f"{API}/penyaluran/{item['id']}/lampiran")["items"] for item in given}
    return render("bantuan_penerima_lihat", penerima=penerima, penyaluran=given, programs=programs, photos=photos)


def penerima_changes(penerima, values):
    """A recipient's changes: an emptied field removed, a changed area made a code."""
    changes = {name: value or None for name, value in values.items() if value != (penerima.get(name) or "")}
    if "kode_wilayah" not in changes:
        return changes, {}
    changes["kode_wilayah"], error = area_code(values["kode_wilayah"])
    return changes, {"kode_wilayah": [error]} if error else {}


@blp.route("/bantuan/penerima/<uuid:penerima_id>/ubah", methods=["GET", "POST"])
def bantuan_penerima_ubah(penerima_id):
    return correction("bantuan_penerima_ubah", f"{API}/penerima/{penerima_id}", PENERIMA_CORRECTIONS,
                      penerima_changes, url_for("konsol.bantuan_penerima_lihat", penerima_id=penerima_id),
                      "Data penerima sudah dikoreksi.")


# Distributions

def attach(penyaluran_id, berkas, key):
    """The photo sent on to the distribution; a form sent twice (its `key`) attaches it once."""
    return upload(f"{API}/penyaluran/{penyaluran_id}/lampiran", berkas, key)


def photo_key():
    """The photo's own Idempotency-Key, made from the form's: a key names one request."""
    key = idempotency_key()
    return {name: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{value}/lampiran")) for name, value in key.items()}


def chosen_photo():
    berkas = request.files.get("foto")
    return berkas if berkas and berkas.filename else None


def penyaluran_form(values, status=200, errors=None, refused=None):
    penerima = call("GET", f"{API}/penerima/{values['penerima_id']}")
    programs = call("GET", f"{API}/program", params={"status": "aktif", "per_page": 200})["items"]
    return render("bantuan_penyaluran", status, penerima=penerima, values=values, errors=errors or {}, refused=refused,
                  programs=[(program["id"], f"{program['nama']} (sisa kuota {display.angka(program['sisa'])})")
                            for program in programs])


@blp.route("/bantuan/penyaluran/baru", methods=["GET", "POST"])
@takes_upload(PHOTO_FORM_BYTES)
def bantuan_penyaluran_baru():
    require(RULES.bantuan, "Peran Anda tidak berwenang mencatat bantuan.")
    if request.method == "GET":
        penerima_id = request.args.get("penerima_id", "")
        if not penerima_id:
            return redirect(url_for("konsol.bantuan_penerima", program_id=request.args.get("program_id")))
        return penyaluran_form({"penerima_id": penerima_id, "program_id": request.args.get("program_id", ""),
                                "tanggal": today(akun().get("wilayah")).isoformat(), "jenis_bukti": "foto"})
    values = typed(PENYALURAN_FIELDS)
    try:
        given = create(f"{API}/penyaluran", {name: value for name, value in values.items() if value})
    except Problem as problem:
        refused_unless(problem, 400, 409)
        if problem.status == 409:
            return penyaluran_form(values, 409, refused=problem.detail)
        return penyaluran_form(values, 400, errors=form_errors(problem))
    berkas = chosen_photo()
    if not berkas:
        flash("Penyaluran sudah dicatat.", "info")
    else:
        try:
            attach(given["id"], berkas, photo_key())
        except Problem as problem:
            refused_unless(problem, 400, 409, 413)
            flash(f"Penyaluran sudah dicatat, tetapi fotonya tidak tersimpan: {problem.detail} "
                  "Lampirkan foto lain di bawah.", "galat")
        else:
            flash("Penyaluran sudah dicatat dengan fotonya.", "info")
    return redirect(url_for("konsol.bantuan_penerima_lihat", penerima_id=values["penerima_id"]), 303)


@blp.route("/bantuan/penyaluran/<uuid:penyaluran_id>/foto", methods=["POST"])
@takes_upload(PHOTO_FORM_BYTES)
def bantuan_penyaluran_foto(penyaluran_id):
    back = url_for("konsol.bantuan_penerima_lihat", penerima_id=request.form.get("penerima_id", ""))
    berkas = chosen_photo()
    if not berkas:
        flash("Pilih foto atau dokumen yang akan dilampirkan.", "galat")
        return redirect(back, 303)
    try:
        attach(penyaluran_id, berkas, idempotency_key())
    except Problem as problem:
        refused_unless(problem, 400, 409, 413)
        flash(f"Foto tidak tersimpan: {problem.detail}", "galat")
        return redirect(back, 303)
    flash("Foto sudah dilampirkan.", "info")
    return redirect(back, 303)


# Imports of recipients

@blp.route("/bantuan/impor", methods=["GET", "POST"])
@takes_upload(IMPORT_MAX_BYTES)
def bantuan_impor():
    require(RULES.bantuan, "Peran Anda tidak berwenang mencatat penerima.")
    if request.method == "GET":
        return render("bantuan_impor", errors={})
    berkas = request.files.get("berkas")
    if not berkas or not berkas.filename:
        return render("bantuan_impor", 400, errors={"berkas": ["Pilih berkas CSV yang akan diimpor."]})
    try:
        answer = send("POST", f"{API}/penerima/impor", data=berkas.stream, timeout=UPLOAD_TIMEOUT,
                      headers={"Content-Type": "text/csv", **idempotency_key()})
    except Problem as problem:
        refused_unless(problem, 400, 413)
        texts = form_errors(problem).get("csv") or [problem.detail]
        return render("bantuan_impor", problem.status, errors={"berkas": texts})
    return redirect(url_for("konsol.bantuan_impor_pekerjaan", pekerjaan_id=answer.json()["id"]), 303)


def refused_rows(job):
    """(line, column, reason) of each refused row: every one once the job is done (its report),
    the first ones while it runs."""
    rows = []
    for refused in (job["laporan"] or job)["ditolak"]:
        parts = REFUSED_COLUMN.split(refused["alasan"])
        if parts[0]:
            rows.append((refused["baris"], "", parts[0]))
        rows += [(refused["baris"], column, reason) for column, reason in zip(parts[1::2], parts[2::2], strict=True)]
    return rows


def job_page(template, pekerjaan_id):
    job = call("GET", f"/api/v1/jobs/{pekerjaan_id}")
    running = job["status"] in ("antri", "berjalan")
    percent = 100 if job["status"] == "selesai" else job["diproses"] * 100 // max(job["jumlah_baris"], 1)
    rows = refused_rows(job)
    return render(template, job=job, running=running, percent=percent, refused=rows[:REFUSED_SHOWN],
                  more=len(rows) - REFUSED_SHOWN)


@blp.route("/bantuan/impor/<uuid:pekerjaan_id>")
def bantuan_impor_pekerjaan(pekerjaan_id):
    return job_page("bantuan_impor_pekerjaan", pekerjaan_id)


@blp.route("/bantuan/impor/<uuid:pekerjaan_id>/kemajuan")
def bantuan_impor_kemajuan(pekerjaan_id):
    """The progress alone, which the job's page asks for every second while the job runs."""
    return job_page("bantuan_impor_kemajuan", pekerjaan_id)


def cell(text):
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = str(text)
    return f"'{text}" if text.startswith(FORMULA) else text


@blp.route("/bantuan/impor/<uuid:pekerjaan_id>/ditolak.csv")
def bantuan_impor_ditolak(pekerjaan_id):
    """The refused rows to fix, written here from the job's report: line, column and reason."""
    job = call("GET", f"/api/v1/jobs/{pekerjaan_id}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["baris", "kolom", "alasan"])
    writer.writerows([line, column, cell(reason)] for line, column, reason in refused_rows(job))
    return "\ufeff" + out.getvalue(), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="baris-ditolak.csv"'}

