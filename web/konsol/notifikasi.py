"""The console's notifications (issue 20): the person's own inbox, newest first with the unread
messages marked and marked read one by one; the channels they are told over; and the count of
unread messages the menu shows beside "Notifikasi" on every console page."""
from flask import flash, g, redirect, request, url_for

from services.notifikasi.domain import PREFERENSI
from web.gateway import GatewayError
from web.konsol.formulir import page
from web.konsol.sesi import blp, call

INBOX = "/api/v1/notifikasi/inbox"
PREFERENCES = "/api/v1/notifikasi/preferensi"
PER_PAGE = 20


def unread():
    """How many messages the person has not read, asked once per request; 0 when the gateway
    cannot say, so that the menu shows no count rather than the page failing."""
    if "konsol_unread" not in g:
        try:
            g.konsol_unread = call("GET", INBOX, params={"dibaca": "false", "per_page": 1})["total"]
        except GatewayError:
            g.konsol_unread = 0
    return g.konsol_unread


@blp.context_processor
def unread_count():
    return {"unread": unread}


def inbox_args(values):
    """The inbox's address arguments (only the unread ones, which page) from `values`."""
    args = {"belum": "ya"} if values.get("belum") == "ya" else {}
    page = values.get("page", 1, type=int)
    return {**args, "page": page} if page and page > 1 else args


@blp.get("/notifikasi")
def notifikasi():
    args = inbox_args(request.args)
    params = {"page": args.get("page", 1), "per_page": PER_PAGE, **({"dibaca": "false"} if "belum" in args else {})}
    inbox = call("GET", INBOX, params=params)
    return page("notifikasi", inbox=inbox, args=args)


@blp.post("/notifikasi/<pesan_id>/dibaca")
def notifikasi_dibaca(pesan_id):
    pesan = call("POST", f"{INBOX}/{pesan_id}/dibaca")
    flash(f"Pesan \u201c{pesan['judul']}\u201d ditandai sudah dibaca.", "info")
    return redirect(url_for("konsol.notifikasi", **inbox_args(request.form)), 303)


@blp.route("/notifikasi/preferensi", methods=["GET", "POST"])
def notifikasi_preferensi():
    if request.method == "POST":
        # Every channel named: a box left unticked is a channel the person opts out of.
        call("PUT", PREFERENCES, json={"kanal": {name: request.form.get(name) == "ya" for name in PREFERENSI}})
        flash("Preferensi notifikasi Anda tersimpan.", "info")
        return redirect(url_for("konsol.notifikasi_preferensi"), 303)
    kanal = call("GET", PREFERENCES)["kanal"]
    return page("notifikasi_preferensi", kanal={name: kanal.get(name, True) for name in PREFERENSI})
