"""Errors as RFC 9457 problem details (application/problem+json), in Bahasa Indonesia.

Every error response has `type`, `title`, `status`, `detail`, a stable machine-readable
`code`, and for invalid input `errors`: field name -> list of messages."""
import logging

from flask import g, jsonify, request
from marshmallow import INCLUDE, fields
from werkzeug.exceptions import HTTPException

from gateway.rpc import RemoteFailure, ServiceUnavailable
from services.common.errors import DomainError
from services.common.schema import BaseSchema

log = logging.getLogger(__name__)

TITLES = {
    400: "Permintaan tidak valid",
    401: "Tidak terautentikasi",
    403: "Akses ditolak",
    404: "Tidak ditemukan",
    405: "Metode tidak diizinkan",
    409: "Konflik dengan aturan",
    412: "Versi tidak cocok",
    413: "Permintaan terlalu besar",
    415: "Jenis konten tidak didukung",
    422: "Tidak dapat diproses",
    428: "Prasyarat diperlukan",
    429: "Terlalu banyak permintaan",
    500: "Kesalahan internal",
    503: "Layanan tidak tersedia",
}
HTTP_CODES = {
    400: ("permintaan_tidak_valid", "Permintaan tidak dapat diproses."),
    404: ("tidak_ditemukan", "Alamat yang diminta tidak ada."),
    405: ("metode_tidak_diizinkan", "Metode HTTP ini tidak didukung pada alamat ini."),
    413: ("terlalu_besar", "Isi permintaan terlalu besar."),
    415: ("jenis_konten", "Kirim isi permintaan sebagai application/json."),
    428: ("if_match_wajib", "Kirim header If-Match berisi ETag data yang Anda baca, agar perubahan orang lain "
                            "tidak tertimpa."),
    429: ("terlalu_banyak_permintaan", "Terlalu banyak permintaan dari alamat Anda; coba lagi nanti."),
    500: ("kesalahan_internal", "Terjadi kesalahan pada server; coba lagi nanti."),
}


class ProblemSchema(BaseSchema):
    """RFC 9457 allows extension members: a conflict names what it conflicts with (`unit_id`,
    `pengurus_id`, `kode_wilayah_induk`, ...)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Kode kesalahan yang stabil untuk program."})
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={
        "description": "Pesan per field untuk input yang tidak valid."})
    correlation_id = fields.String()


def problem(status, code, detail, **extra):
    body = {"type": "about:blank", "title": TITLES.get(status, "Kesalahan"), "status": status,
            "detail": detail, "code": code, "instance": request.path,
            "correlation_id": g.get("correlation_id"), **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def handle_domain_error(error):
    payload = dict(error.payload)
    response = problem(error.status, payload.pop("code"), payload.pop("detail"), **payload)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="bkpm"'
    if error.status == 503:
        response.headers["Retry-After"] = "5"
    if "retry_after" in payload:  # a 429, or a 409 for a request still being processed
        response.headers["Retry-After"] = str(payload["retry_after"])
    return response


def handle_unavailable(error):
    log.warning("service unavailable: %s", error)
    response = problem(503, "layanan_tidak_tersedia",
                       f"Layanan {error.service} sedang tidak tersedia ({error.reason}); coba lagi sebentar lagi.")
    response.headers["Retry-After"] = "5"
    return response


def handle_remote_failure(error):
    log.error("service %s failed: %s", error.service, error.error.get("value"))
    return problem(500, "kesalahan_internal", "Terjadi kesalahan pada layanan; coba lagi nanti.")


def handle_http_exception(error):
    """Werkzeug's HTTP errors, and webargs' validation errors (they carry the field messages)."""
    messages = getattr(error, "data", {}).get("messages")
    if messages is not None:
        return problem(400, "input_tidak_valid", "Data yang dikirim tidak valid.",
                       errors=_flatten_locations(messages))
    if error.code == 500:
        log.error("unhandled error", exc_info=getattr(error, "original_exception", None))
    code, detail = HTTP_CODES.get(error.code, ("kesalahan_http", error.description or ""))
    response = problem(error.code or 500, code, detail)
    # What the error says beside its body: a 405's Allow (RFC 9110 requires it), a 429's Retry-After.
    for name, value in error.get_headers():
        if name != "Content-Type":
            response.headers[name] = value
    return response


def _flatten_locations(messages):
    """webargs nests errors by location ({"json": {"nama": [...]}}); fields are what matter."""
    flat = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat["_body" if location == "json" else location] = errors
    return flat


def register(app):
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(ServiceUnavailable, handle_unavailable)
    app.register_error_handler(RemoteFailure, handle_remote_failure)
    app.register_error_handler(HTTPException, handle_http_exception)
