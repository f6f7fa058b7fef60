"""Notifications (notifikasi) over HTTP: the delivery log."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call
from services.notifikasi.schemas import PengirimanPageSchema, PengirimanQuerySchema

blp = Blueprint("notifikasi", __name__, url_prefix="/api/v1/notifikasi",
                description="Pemberitahuan: log pengiriman per pesan.")


@blp.route("")
class Log(MethodView):
    @blp.arguments(PengirimanQuerySchema, location="query")
    @blp.documents(200, PengirimanPageSchema, 400, 403)
    def get(self, query):
        """Log pengiriman: antri, terkirim, gagal atau dilewati, dengan percobaan dan galat terakhir."""
        return call("notifikasi", "log_pengiriman", query)
