"""The console's unit section (issue 20): the board (pengurus) and members (anggota) of the
person's unit and of the units below it.

Everyone reads; those who manage the unit's area (`may(RULES.organisasi, kode)`) also appoint and
end board members, add and remove members and correct their contacts. Each form posts, then the
unit's page follows (POST, 303, GET); a refusal the person can fix on the form (400, or a 409
such as a position already held) keeps them there with what they typed. A correction carries the
version it was made on (If-Match): when someone changed the record meanwhile (412), the form
comes back with the record as it is now and says so (STALE)."""
from functools import partial

from flask import flash, redirect, request, url_for

from services.organisasi.domain import (
    ANGGOTA_KOREKSI,
    KATEGORI_ANGGOTA,
    KETUA_JABATAN_POLRI,
    PENGURUS_KOREKSI,
    TINGKAT_DEPTH,
    code_depth,
)
from web.gateway import Problem
from web.konsol.formulir import form_errors, page, refused_unless, typed, unshown
from web.konsol.sesi import RULES, STALE, akun, blp, call, correct, create, read, require
from web.pages import today

UNITS = "/api/v1/units"
PER_PAGE = 200  # the API's largest page: more than any unit has right below it
TINGKAT_OF_DEPTH = {depth: tingkat for tingkat, depth in TINGKAT_DEPTH.items()}
TINGKAT = {"nasional": "Nasional", "provinsi": "Provinsi", "kabupaten_kota": "Kabupaten/kota",
           "kecamatan": "Kecamatan"}
JABATAN = {"ketua": "Ketua", "wakil_ketua": "Wakil ketua", "sekretaris": "Sekretaris"}
KATEGORI = dict(zip(KATEGORI_ANGGOTA, ("Masyarakat", "Tokoh agama", "Tokoh adat", "Akademisi", "Pelaku usaha"),
                    strict=True))
# The fields of each form, as the API names them.
NEW = {"pengurus": ("jabatan", "nama", "nrp", "pangkat", "jabatan_polri", "telepon", "email", "mulai", "selesai"),
       "anggota": ("nama", "kategori", "telepon", "email", "bergabung")}
CORRECTABLE = {"pengurus": PENGURUS_KOREKSI, "anggota": ANGGOTA_KOREKSI}
ENDING = ("tanggal", "alasan")
# What ending a board member's term and a membership are called.
ENDED = {"pengurus": "diberhentikan", "anggota": "dikeluarkan"}
WORDS = {"tingkat": TINGKAT, "jabatan": JABATAN, "kategori": KATEGORI}
render = partial(page, **WORDS)  # the section's pages, with its words


def done(unit_id, message):
    flash(message, "info")
    return redirect(url_for("konsol.unit_rinci", unit_id=unit_id), 303)


def managed_unit(unit_id):
    """The unit whose board or members a form changes: a person who may not change them is
    refused before seeing the form (the service would refuse the form anyway)."""
    unit = call("GET", f"{UNITS}/{unit_id}")
    require(RULES.organisasi, "Peran Anda tidak berwenang mengubah pengurus dan anggota unit ini.",
            unit["kode_wilayah"])
    return unit


def units(**params):
    return call("GET", UNITS, params={**params, "per_page": PER_PAGE})["items"]


@blp.get("/unit")
def unit():
    """The unit picker: the person's own unit, then the units right below it (or, while their
    own is not formed, the units of their area)."""
    tingkat = TINGKAT_OF_DEPTH.get(code_depth(akun()["wilayah"]))
    own = units(tingkat=tingkat)[:1] if tingkat else []
    below = units(induk_id=own[0]["id"]) if own else units()
    return render("unit", own=own[0] if own else None, below=below)


@blp.get("/unit/<unit_id>")
def unit_rinci(unit_id):
    struktur = call("GET", f"{UNITS}/{unit_id}/struktur")
    riwayat = call("GET", f"{UNITS}/{unit_id}/pengurus", params={"aktif": "false", "per_page": PER_PAGE})
    return render("unit_rinci", unit=struktur["unit"], pengurus=struktur["pengurus"], anggota=struktur["anggota"],
                  riwayat=riwayat["items"], below=units(induk_id=unit_id))


@blp.route("/unit/<unit_id>/<any(pengurus, anggota):jenis>/baru", methods=["GET", "POST"])
def unit_baru(unit_id, jenis):
    """Appoint a board member, or add a member."""
    unit = managed_unit(unit_id)
    start = "mulai" if jenis == "pengurus" else "bergabung"
    values, errors, status = {start: today(unit["kode_wilayah"]).isoformat()}, {}, 200
    if request.method == "POST":
        values = typed(NEW[jenis])
        try:
            create(f"{UNITS}/{unit_id}/{jenis}", {name: value for name, value in values.items() if value})
        except Problem as problem:
            refused_unless(problem, 400, 409)
            errors, status = form_errors(problem), problem.status
        else:
            if jenis == "pengurus":
                return done(unit_id, f"{values['nama']} diangkat sebagai {JABATAN[values['jabatan']].lower()}.")
            return done(unit_id, f"{values['nama']} sudah menjadi anggota {unit['nama']}.")
    return render(f"unit_{jenis}_baru", status, unit=unit, values=values, errors=errors,
                  refused=unshown(errors, NEW[jenis]), ketua_polri=KETUA_JABATAN_POLRI.get(unit["tingkat"]))


@blp.route("/unit/<unit_id>/<any(pengurus, anggota):jenis>/<orang_id>/kontak", methods=["GET", "POST"])
def unit_kontak(unit_id, jenis, orang_id):
    """Correct a board member's or member's contacts (and a board member's planned end of term)."""
    unit = managed_unit(unit_id)
    path = f"{UNITS}/{unit_id}/{jenis}/{orang_id}"
    fields = CORRECTABLE[jenis]
    orang, etag = read(path)
    values, errors, refused, status = {name: orang.get(name) or "" for name in fields}, {}, None, 200
    if request.method == "POST":
        changes = typed(fields)
        try:
            correct(path, request.form.get("etag", ""), {name: value or None for name, value in changes.items()})
        except Problem as problem:
            refused_unless(problem, 400, 409, 412)
            status = problem.status
            if status == 412:  # the form shows the record as it is now, with its version
                refused = STALE
            else:
                values, etag = changes, request.form.get("etag", "")
                errors = form_errors(problem)
                refused = unshown(errors, fields)
        else:
            return done(unit_id, f"Kontak {orang['nama']} sudah diperbarui.")
    return render("unit_kontak", status, unit=unit, jenis=jenis, orang=orang, etag=etag, fields=fields,
                  values=values, errors=errors, refused=refused)


@blp.route("/unit/<unit_id>/<any(pengurus, anggota):jenis>/<orang_id>/akhiri", methods=["GET", "POST"])
def unit_akhiri(unit_id, jenis, orang_id):
    """End a board member's term, or a membership: both stay in the unit's history."""
    unit = managed_unit(unit_id)
    path = f"{UNITS}/{unit_id}/{jenis}/{orang_id}"
    orang = call("GET", path)
    values, errors, status = {"tanggal": today(unit["kode_wilayah"]).isoformat()}, {}, 200
    if request.method == "POST":
        values = typed(ENDING)
        body = {name: value for name, value in values.items() if value}
        try:
            if jenis == "pengurus":
                call("POST", f"{path}/berhenti", json=body)
            else:
                call("DELETE", path, json=body)
        except Problem as problem:
            refused_unless(problem, 400, 409)
            errors, status = form_errors(problem), problem.status
        else:
            return done(unit_id, f"{orang['nama']} sudah {ENDED[jenis]}; tercatat dalam riwayat unit.")
    return render("unit_akhiri", status, unit=unit, jenis=jenis, orang=orang,
                  values=values, errors=errors, refused=unshown(errors, ENDING))
