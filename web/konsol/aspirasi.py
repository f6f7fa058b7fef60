"""The console's aspirations (issue 20): the inbox of the cases from the person's area, in the
API's deadline order (`urut=tenggat`: open cases by the deadline they wait on, late ones first
and marked, then closed ones); a case's page with its history and its reporter as the API shows
them (a confidential one only inside the handling unit); and the follow-up form for those who
record for the handling unit's area, offering the next statuses the workflow allows, an internal
note or a public answer."""
from flask import flash, redirect, request, url_for

from services.kegiatan.domain import ALUR_ASPIRASI, KATEGORI_ASPIRASI, STATUS_ASPIRASI, next_deadline
from web import display
from web.gateway import Problem
from web.konsol.formulir import form_errors, page, page_number, refused_unless, unshown
from web.konsol.sesi import RULES, akun, blp, call, create, may

PER_PAGE = 20
# The inbox's filters, as the address carries them, and the values each takes.
FILTERS = {"status": STATUS_ASPIRASI, "kategori": KATEGORI_ASPIRASI, "terlambat": ("ya",)}
FOLLOW_UP = ("status", "lapangan", "catatan", "publik")


def may_follow_up(case):
    """The service's rule: those who record, covering the handling unit's area (the national
    unit's cases: national staff)."""
    return may(RULES.kegiatan, case["unit_kode"] or "")


def reporter_absent(case):
    """Why the API gives no reporter: erased after the case closed, kept from those outside
    the handling unit, or never given."""
    if case.get("pelapor_dihapus"):
        return "dihapus"
    if case["rahasia"] and akun().get("wilayah") != case.get("unit_kode"):
        return "rahasia"
    return "anonim"


@blp.get("/aspirasi")
def aspirasi():
    chosen = {name: request.args[name] for name, values in FILTERS.items() if request.args.get(name) in values}
    params = {**chosen, "urut": "tenggat", "page": page_number(), "per_page": PER_PAGE}
    if "terlambat" in chosen:
        params["terlambat"] = "true"
    listed = call("GET", "/api/v1/aspirasi", params=params)
    return page("aspirasi", listed=listed, cases=listed["items"], chosen=chosen, tenggat=next_deadline,
                statuses=[(value, display.STATUS_ASPIRASI[value]) for value in STATUS_ASPIRASI],
                kategori=[(value, display.KATEGORI_ASPIRASI[value]) for value in KATEGORI_ASPIRASI])


def case_page(case, values=None, errors=None, refused=None, status=200):
    return page("aspirasi_kasus", status, case=case, due=next_deadline(case),
                next_statuses=ALUR_ASPIRASI[case["status"]], may_follow_up=may_follow_up(case),
                absent=None if case.get("pelapor") else reporter_absent(case),
                values=values or {}, errors=errors or {}, refused=refused)


@blp.get("/aspirasi/<aspirasi_id>")
def aspirasi_kasus(aspirasi_id):
    return case_page(call("GET", f"/api/v1/aspirasi/{aspirasi_id}"))


def follow_up_errors(values):
    errors = {}
    if not values["status"]:
        errors["status"] = ["Pilih status berikutnya."]
    if values["catatan"] and values["publik"] not in ("ya", "tidak"):
        errors["publik"] = ["Pilih siapa yang boleh membaca catatan ini."]
    return errors


@blp.post("/aspirasi/<aspirasi_id>/tindak-lanjut")
def aspirasi_tindak_lanjut(aspirasi_id):
    form = request.form
    values = {"status": form.get("status", ""), "catatan": form.get("catatan", "").strip(),
              "publik": form.get("publik", ""), "lapangan": form.get("lapangan") == "ya"}
    errors, refused, status = follow_up_errors(values), None, 400
    if not errors:
        body = {"status": values["status"]}
        if values["catatan"]:
            body.update(catatan=values["catatan"], publik=values["publik"] == "ya")
        if values["lapangan"]:
            body["lapangan"] = True
        try:
            case = create(f"/api/v1/aspirasi/{aspirasi_id}/tindak-lanjut", body)
        except Problem as problem:
            refused_unless(problem, 400, 409)
            # 409: someone moved the case meanwhile; the page shows it as it is now.
            errors, status = form_errors(problem), problem.status
            refused = unshown(errors, FOLLOW_UP)
        else:
            flash(f"Tindak lanjut tersimpan: status aspirasi {case['nomor_tiket']} sekarang "
                  f"{display.STATUS_ASPIRASI[case['status']]}.", "info")
            return redirect(url_for("konsol.aspirasi_kasus", aspirasi_id=aspirasi_id), 303)
    return case_page(call("GET", f"/api/v1/aspirasi/{aspirasi_id}"), values, errors, refused, status)
