"""The console's accounts section (issue 20), for admins (`may(RULES.akun)`): the accounts of the
admin's area; opening one with an initial password, which its holder must replace at the first
login; changing its role; disabling it (after a confirm step) or enabling it again; emailing its
holder a link to choose a new password.

The akun service applies the rules (docs/accounts.md): an admin acts in its own area, gives no
role above its own and does not change its own account; anyone else gets its 403 as the
console's error page. A change carries the version it was made on (If-Match)."""
from functools import partial

from flask import flash, redirect, request, url_for

from services.akun.domain import MIN_PASSWORD_LENGTH
from web import display
from web.gateway import Problem
from web.konsol.formulir import area_name, form_errors, page, page_number, refused_unless, typed, unshown, wilayah
from web.konsol.sesi import ROLE, RULES, STALE, akun, blp, call, correct, create, read, require

AKUN = "/api/v1/akun"
PER_PAGE = 50
NEW = ("username", "nama", "email", "telepon", "role", "wilayah")
render = partial(page, peran=ROLE)  # the section's pages, with the roles in words


def area_choices():
    """The areas an admin opens accounts in: its own and those right below it."""
    own = akun()["wilayah"]
    below = wilayah().children(own)
    return [(own or "", area_name(own)), *((area["kode"], f"{area['nama']} ({area['kode']})") for area in below)]


@blp.get("/akun", endpoint="akun")
def daftar_akun():
    return render("akun", found=call("GET", AKUN, params={"page": page_number(), "per_page": PER_PAGE}))


@blp.route("/akun/baru", methods=["GET", "POST"])
def akun_baru():
    require(RULES.akun, "Hanya admin yang dapat mengelola akun.")
    values, errors, status = {"role": "petugas", "wilayah": akun()["wilayah"] or ""}, {}, 200
    if request.method == "POST":
        values = typed(NEW)
        values["username"] = values["username"].lower()
        body = {**{name: value for name, value in values.items() if value}, "wilayah": values["wilayah"] or None,
                "password": request.form.get("password", "")}
        try:
            made = create(AKUN, body)
        except Problem as problem:
            refused_unless(problem, 400, 409)
            errors, status = form_errors(problem), problem.status
        else:
            flash(f"Akun {made['username']} sudah dibuat. Berikan kata sandi awalnya langsung kepada {made['nama']}; "
                  "ia wajib menggantinya saat pertama masuk.", "info")
            return redirect(url_for("konsol.akun_rinci", akun_id=made["id"]), 303)
    return render("akun_baru", status, values=values, errors=errors, refused=unshown(errors, (*NEW, "password")),
                  areas=area_choices(), min_password=MIN_PASSWORD_LENGTH)


def account_page(akun_id, status=200, errors=None, refused=None):
    """An account as it is now, with the version its forms change."""
    record, etag = read(f"{AKUN}/{akun_id}")
    return render("akun_rinci", status, record=record, etag=etag, errors=errors or {}, refused=refused,
                  sendiri=record["id"] == akun()["id"])


@blp.get("/akun/<akun_id>")
def akun_rinci(akun_id):
    return account_page(akun_id)


@blp.post("/akun/<akun_id>")
def akun_ubah(akun_id):
    """A change of role, or of state (`aktif`: ya/tidak), to the version the person saw."""
    changes = {}
    if "role" in request.form:
        changes["role"] = request.form["role"]
    if "aktif" in request.form:
        changes["aktif"] = request.form["aktif"] == "ya"
    try:
        record = correct(f"{AKUN}/{akun_id}", request.form.get("etag", ""), changes)
    except Problem as problem:
        refused_unless(problem, 400, 409, 412)
        if problem.status == 412:
            return account_page(akun_id, 412, refused=STALE)
        errors = form_errors(problem)
        return account_page(akun_id, problem.status, errors, unshown(errors, ("role",)))
    if "role" in changes:
        flash(f"Peran {record['nama']} sekarang {ROLE.get(record['role'], record['role'])}.", "info")
    elif record["aktif"]:
        flash(f"Akun {record['nama']} aktif kembali.", "info")
    else:
        flash(f"Akun {record['nama']} dinonaktifkan; semua sesi masuknya sudah berakhir.", "info")
    return redirect(url_for("konsol.akun_rinci", akun_id=akun_id), 303)


@blp.get("/akun/<akun_id>/nonaktifkan")
def akun_nonaktifkan(akun_id):
    """The confirm step before disabling: it posts to akun_ubah."""
    record, etag = read(f"{AKUN}/{akun_id}")
    return render("akun_nonaktifkan", record=record, etag=etag)


@blp.post("/akun/<akun_id>/reset")
def akun_reset(akun_id):
    record = call("GET", f"{AKUN}/{akun_id}")
    sent = call("POST", f"{AKUN}/{akun_id}/reset")
    flash(f"Tautan atur ulang sudah dikirim ke email {record['email']}. Tautan itu dapat dipakai sekali, sampai "
          f"pukul {display.jam(sent['berlaku_sampai'], record['wilayah'])}.", "info")
    return redirect(url_for("konsol.akun_rinci", akun_id=akun_id), 303)
