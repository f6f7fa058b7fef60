"""The area reference over HTTP, for area pickers: public, cacheable by browsers and proxies
(ETag, Cache-Control) and answered from the gateway's memory until organisasi changes something
(the import announces its changes with `wilayah.diperbarui`: services/common/cache.py)."""
from flask import current_app, jsonify, request
from flask.views import MethodView

from gateway.blueprint import Blueprint, call_anonymous, limiter
from services.organisasi.schemas import WilayahListSchema, WilayahQuerySchema, WilayahSchema

# A search reads every name of the reference (about 91,600): per client address, enough for a
# person typing into a picker, not for harvesting.
PENCARIAN_RATE_LIMIT = "60 per minute"
# The reference changes by decree, a few times a year; an hour-old list in a browser is fine.
CACHE_SECONDS = 3600

blp = Blueprint("wilayah", __name__, url_prefix="/api/v1/wilayah", public=True,
                description="Referensi wilayah Kemendagri untuk pemilih wilayah: publik, tanpa token.")


def read_public(method, *args):
    """Call the public, read-only `organisasi.method(*args)`, answered from this worker's memory
    while organisasi has changed nothing since (the same answer for every caller)."""
    return current_app.extensions["read_cache"].read(
        "organisasi", method, [None, *args], lambda: call_anonymous("organisasi", method, *args))


def cacheable(answer):
    """`answer` as JSON that browsers and proxies may keep (its ETag, and the 304 to a request
    that names it, are every JSON answer's: gateway/corrections.py)."""
    response = jsonify(answer)
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


def is_not_search():
    return "q" not in request.args


@blp.route("")
class WilayahList(MethodView):
    @blp.public
    @limiter.limit(PENCARIAN_RATE_LIMIT, exempt_when=is_not_search)
    @blp.arguments(WilayahQuerySchema, location="query")
    @blp.documents(200, WilayahListSchema, 400, 404, 429)
    @blp.alt_response(304, description="Tidak berubah sejak ETag pada If-None-Match.")
    def get(self, query):
        """Wilayah satu tingkat di bawah `induk` (tanpa `induk`: provinsi), atau pencarian nama
        dengan `q`; wilayah yang sudah tidak berlaku tidak ikut."""
        return cacheable(read_public("list_referensi_wilayah", query))


@blp.route("/<kode>")
class Wilayah(MethodView):
    @blp.public
    @blp.documents(200, WilayahSchema, 404)
    @blp.alt_response(304, description="Tidak berubah sejak ETag pada If-None-Match.")
    def get(self, kode):
        """Satu wilayah dengan nama wilayah di atasnya; `aktif: false` bila kodenya sudah tidak
        berlaku."""
        return cacheable(read_public("get_referensi_wilayah", kode))
