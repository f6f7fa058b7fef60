"""The citizens' portal: activities and figures of an area, without a token and without
anything about anyone. The answers are the same for every caller, so browsers and shared caches
may keep them a while."""
from flask.views import MethodView

from gateway.blueprint import Blueprint, call_anonymous, limiter
from services.common.config import settings
from services.kegiatan.schemas import IndeksQuerySchema, IndeksSchema, KegiatanPublikPageSchema, PublikQuerySchema

CACHE_CONTROL = "public, max-age=300"

blp = Blueprint("publik", __name__, url_prefix="/api/v1/publik", public=True,
                description="Data portal warga: kegiatan dan indeks per wilayah, tanpa data pribadi.")


# One count per client address for every public read (the ticket tracking too).
public_read = limiter.shared_limit(lambda: settings().publik_rate_limit, scope="publik")


@blp.after_request
def cacheable(response):
    if response.status_code == 200:
        response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@blp.route("/kegiatan")
class KegiatanPublik(MethodView):
    @blp.public
    @public_read
    @blp.arguments(PublikQuerySchema, location="query")
    @blp.documents(200, KegiatanPublikPageSchema, 400, 429)
    def get(self, query):
        """Kegiatan di suatu wilayah: jenis, judul, waktu, tempat dan status; tanpa peserta."""
        return call_anonymous("kegiatan", "list_kegiatan_publik", query)


@blp.route("/indeks")
class Indeks(MethodView):
    @blp.public
    @public_read
    @blp.arguments(IndeksQuerySchema, location="query")
    @blp.documents(200, IndeksSchema, 400, 429)
    def get(self, query):
        """Kegiatan, peserta, ketepatan waktu aspirasi dan kepercayaan di suatu wilayah dan tiap
        wilayah di bawahnya; rata-rata dari kurang dari 5 jawaban survei ditahan."""
        return call_anonymous("kegiatan", "get_indeks", query)
