"""Background jobs (today: imports of recipients) over HTTP: how far one has come, and its report."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call
from services.bantuan.schemas import PekerjaanSchema

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs",
                description="Pekerjaan yang berjalan di latar, seperti impor penerima: kemajuan dan laporannya.")


@blp.route("/<pekerjaan_id>")
class Pekerjaan(MethodView):
    @blp.documents(200, PekerjaanSchema, 404)
    def get(self, pekerjaan_id):
        """Satu pekerjaan: status (antri, berjalan, selesai, gagal), baris yang sudah diproses dari jumlah_baris,
        baris yang ditolak sejauh ini, dan laporan akhirnya setelah selesai. Untuk yang memulainya dan pengelola
        (admin, pengurus) wilayahnya; bagi yang lain tidak ditemukan."""
        return call("bantuan", "get_pekerjaan", pekerjaan_id)
