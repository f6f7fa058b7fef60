"""Notifications (notifikasi) over HTTP: the delivery log, one's inbox and preferences, an
email's opt-out link, and the webhooks other systems receive events through."""
from pathlib import Path

from flask import request
from flask.views import MethodView
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.blueprint import Blueprint, call, call_anonymous, created
from services.common.errors import NotFound
from services.notifikasi.schemas import (
    BerhentiSchema, KotakMasukPageSchema, KotakMasukQuerySchema, PengirimanPageSchema, PengirimanQuerySchema,
    PesanSchema, PreferensiBaruSchema, PreferensiSchema, WebhookBaruSchema, WebhookSchema)

PAGES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())

blp = Blueprint("notifikasi", __name__, url_prefix="/api/v1/notifikasi",
                description="Pemberitahuan: log pengiriman, kotak masuk, preferensi dan webhook.")


@blp.route("")
class Log(MethodView):
    @blp.arguments(PengirimanQuerySchema, location="query")
    @blp.documents(200, PengirimanPageSchema, 400, 403)
    def get(self, query):
        """Log pengiriman: antri, terkirim, gagal atau dilewati, dengan percobaan dan galat terakhir."""
        return call("notifikasi", "list_pengiriman", query)


@blp.route("/inbox")
class KotakMasuk(MethodView):
    @blp.arguments(KotakMasukQuerySchema, location="query")
    @blp.documents(200, KotakMasukPageSchema, 400)
    def get(self, query):
        """Kotak masuk akun Anda (klaim `sub` token), terbaru dahulu."""
        return call("notifikasi", "list_pesan", query)


@blp.route("/inbox/<pesan_id>/dibaca")
class Dibaca(MethodView):
    @blp.documents(200, PesanSchema, 404)
    def post(self, pesan_id):
        """Tandai pesan sudah dibaca."""
        return call("notifikasi", "baca_pesan", pesan_id)


@blp.route("/preferensi")
class Preferensi(MethodView):
    @blp.documents(200, PreferensiSchema)
    def get(self):
        """Preferensi kanal akun Anda."""
        return call("notifikasi", "get_preferensi")

    @blp.arguments(PreferensiBaruSchema)
    @blp.documents(200, PreferensiSchema, 400, 403)
    def put(self, data):
        """Berhenti (false) atau kembali (true) menerima pesan per kanal, atau semuanya ('semua')."""
        return call("notifikasi", "atur_preferensi", data)


@blp.route("/berhenti/<token>")
class Berhenti(MethodView):
    """The link under every email (and its List-Unsubscribe header): people without an account
    stop emails with it. A browser gets a page asking to confirm, since mail scanners open links
    (GET changes nothing); a mail program's one-click unsubscribe POSTs (RFC 8058)."""

    @blp.public
    @blp.documents(200, BerhentiSchema, 404)
    def get(self, token):
        """Apa yang dihentikan tautan berhenti berlangganan ini, dan apakah sudah berhenti."""
        return answered(lambda: call_anonymous("notifikasi", "get_tautan_berhenti", token))

    @blp.public
    @blp.documents(200, BerhentiSchema, 404)
    def post(self, token):
        """Berhenti menerima email dengan tautan dari email itu sendiri, tanpa akun."""
        return answered(lambda: call_anonymous("notifikasi", "hentikan_langganan", token))


def answered(ask):
    """JSON for programs; for a browser (which prefers HTML) the page, a link unknown included."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html":
        return ask()
    try:
        result, status = ask(), 200
    except NotFound:
        result, status = {}, 404
    return PAGES.get_template("berhenti.html").render(status=status, **result), status, {
        "Content-Type": "text/html; charset=utf-8"}


@blp.route("/webhook")
class Webhooks(MethodView):
    @blp.documents(200, WebhookSchema(many=True), 403)
    def get(self):
        """Webhook yang terdaftar di wilayah Anda (tanpa rahasianya)."""
        return call("notifikasi", "list_webhook")

    @blp.arguments(WebhookBaruSchema)
    @blp.documents(201, WebhookSchema, 400, 403)
    def post(self, data):
        """Daftarkan webhook sistem lain: setiap kiriman ditandatangani HMAC-SHA256 (docs/notifikasi-providers.md)."""
        return created(call("notifikasi", "daftarkan_webhook", data), "/api/v1/notifikasi/webhook")


@blp.route("/webhook/<webhook_id>")
class SatuWebhook(MethodView):
    @blp.documents(204, None, 403, 404)
    def delete(self, webhook_id):
        """Hapus webhook; kiriman yang masih antri dilewati."""
        call("notifikasi", "hapus_webhook", webhook_id)
        return "", 204
