"""Domain errors: plain Python, raised by domain rules and services, translated by the gateway.

Each error carries one JSON-safe dict so that it survives Nameko's RPC error serialisation
(`exc_args`) unchanged; the gateway turns `exc_type` + that dict into problem+json.

Framework-free core: every part of the platform may import it.
"""
import json


class DomainError(Exception):
    status = 400
    code = "kesalahan"

    def __init__(self, detail, code=None, errors=None, **extra):
        payload = {"code": code or self.code, "detail": detail}
        if errors:
            payload["errors"] = errors
        payload.update(extra)
        super().__init__(_as_text(payload))

    @property
    def payload(self):
        return json.loads(self.args[0])

    @classmethod
    def from_payload(cls, payload):
        """Rebuild the error from its payload (the dict, or its JSON text as received from
        another process)."""
        error = cls.__new__(cls)
        Exception.__init__(error, payload if isinstance(payload, str) else _as_text(payload))
        return error


def _as_text(payload):
    """The payload as JSON text: Nameko sends an error's arguments as text, a number or None in
    them as '3' or 'None'; JSON text crosses unchanged, so `tersalur: 3` arrives a number."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)


class InvalidInput(DomainError):
    """Input that breaks a field rule; `errors` maps field names to messages (as marshmallow)."""
    status = 400
    code = "input_tidak_valid"

    def __init__(self, errors, detail="Data yang dikirim tidak valid."):
        super().__init__(detail, errors=errors)


class Conflict(DomainError):
    """A domain rule refuses the change (a second active ketua, a missing parent unit, ...)."""
    status = 409
    code = "konflik"


class NotFound(DomainError):
    status = 404
    code = "tidak_ditemukan"


class PreconditionFailed(DomainError):
    """A correction made against a version the caller no longer holds (If-Match, RFC 9110)."""
    status = 412
    code = "versi_berubah"

    def __init__(self, detail="Data ini sudah diubah sejak Anda membacanya; muat ulang lalu ulangi perubahan Anda."):
        super().__init__(detail)


class Unauthorized(DomainError):
    """No caller, or one who could not be believed: no valid token, or a login that failed."""
    status = 401
    code = "tidak_terautentikasi"


class Forbidden(DomainError):
    status = 403
    code = "akses_ditolak"


class TooManyAttempts(DomainError):
    """Too many failed attempts in a short time; `retry_after` says in how many seconds the
    next one will be heard."""
    status = 429
    code = "terlalu_banyak_percobaan"

    def __init__(self, detail, retry_after, code=None):
        super().__init__(detail, code=code, retry_after=retry_after)


class Unavailable(DomainError):
    """Something the service needs did not answer in time; nothing was changed."""
    status = 503
    code = "layanan_tidak_tersedia"


class TooLarge(DomainError):
    """A file over the size the platform keeps (an attachment over 10 MiB)."""
    status = 413
    code = "terlalu_besar"


class Unprocessable(DomainError):
    """A request that is well formed but cannot be done as sent: an Idempotency-Key already used
    for another request (services/common/idempotency.py)."""
    status = 422
    code = "tidak_dapat_diproses"


def changed_meanwhile(what, status):
    """The 409 for a change that lost a race: someone else moved the record first."""
    return Conflict(f"{what} baru saja diubah orang lain menjadi '{status}'; periksa lalu ulangi.",
                    code="transisi_tidak_sah", status_sekarang=status)


# By name, as they cross RPC: a caller rebuilds the error its callee raised
# (services.common.failures).
ERRORS_BY_NAME = {cls.__name__: cls for cls in (InvalidInput, Conflict, NotFound, PreconditionFailed, Unauthorized,
                                                 Forbidden, TooManyAttempts, Unavailable, TooLarge, Unprocessable)}
