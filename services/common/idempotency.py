"""Idempotency keys: a POST sent with an `Idempotency-Key` header is done once. The same key with
the same request within KEEP_SECONDS gets the first answer and changes nothing again; the same
key with another request is refused (422).

The gateway checks the header (`key_problem`) and sends the service, with the call that does the
request's work, the key scoped to the caller (`scoped_key`) and the request's `fingerprint`, as
the RPC message headers KEY_HEADER and FINGERPRINT_HEADER. The service claims the key in the
transaction of the call's first change, so the claim holds across gateway workers and service
instances, and keeps the answer beside it (services/common/outbox.py, `UnitOfWork.once`); what a
repeated call then gets is `replay`.

Framework-free core: imported by the gateway and by the service's adapters."""
import hashlib
import json
import re

from services.common.errors import ERRORS_BY_NAME, Conflict, DomainError, Unprocessable

HEADER = "Idempotency-Key"
# RPC message headers: not `nameko.`-prefixed, yet Nameko would still pass them on to every call
# the worker makes; the entrypoint takes them out (services/common/messaging.py).
KEY_HEADER = "idempotency_key"
FINGERPRINT_HEADER = "idempotency_fingerprint"
KEEP_SECONDS = 24 * 3600
# Visible ASCII, as the IETF draft's examples (a UUID is the usual key). One pattern for the
# OpenAPI document (ECMA-262) and Python alike.
KEY_PATTERN = "^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
ANONYMOUS = "anonim"
# How long a repeated call waits for the first one's answer before it is told to retry.
WAIT_SECONDS = 3
RETRY_AFTER_SECONDS = 1


def key_problem(value):
    """What is wrong with an Idempotency-Key header's value, in Bahasa Indonesia; None for a
    usable key."""
    if _KEY.fullmatch(value):
        return None
    return "Idempotency-Key harus 1 sampai 255 karakter ASCII yang terlihat, tanpa spasi (misalnya sebuah UUID)."


def canonical(value):
    """JSON by its value: the same bytes whatever the order of an object's members or the spacing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def scoped_key(subject, key):
    """The key as a service keeps it: one caller's key never answers another caller (an
    anonymous caller is ANONYMOUS), and hashed, so the text a client chose is kept nowhere."""
    return hashlib.sha256(canonical([subject or ANONYMOUS, key])).hexdigest()


def fingerprint(method, path, query, subject, body):
    """What makes two requests the same one: method, path, query parameters (`query`: a list
    of name-value pairs, in any order), caller and body (bytes, as the gateway canonicalised
    them: gateway/blueprint.py)."""
    digest = hashlib.sha256(canonical([method, path, sorted(query), subject or ANONYMOUS]))
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


class Claim:
    """A call's idempotency key and request fingerprint, as the gateway sent them; `claimed`
    once a change of this call has stored the key (only the first change does)."""

    def __init__(self, key, fingerprint):
        self.key = key
        self.fingerprint = fingerprint
        self.claimed = False


class KeyClaimed(Exception):
    """Another call claimed the key first (a duplicate sent at the same time): this call's
    change was not made, and the call answers as the other one did (`replay`)."""


def answer_of(result=None, error=None):
    """What is kept of a call's answer: its result, as the RPC reply carries it (JSON text), or
    the domain error it raised after its change was made."""
    if error is not None:
        return {"galat": {"jenis": type(error).__name__, "isi": error.payload}}
    return {"hasil": result}


def pending(stored, fingerprint, now):
    """Whether a call should wait for the answer of the claim `stored` (a dict, or None when the
    key is stored no more): the same request, not answered yet, its first call still within its
    deadline (`batas`, epoch seconds like `now`)."""
    return stored is not None and stored["sidik"] == fingerprint and "jawaban" not in stored and now < stored["batas"]


def replay(stored, fingerprint, now):
    """The answer for a call whose key is stored already: the first call's result (the JSON
    text kept) or the domain error it raised; 422 for another request under the same key; 409
    while the first call is still running (or its claim just expired: a retry then runs), or
    when it made its change but its answer was lost (it failed, or its process died, after the
    change)."""
    if stored is None:
        stored = {"sidik": fingerprint, "batas": float("inf")}
    if stored["sidik"] != fingerprint:
        raise Unprocessable(f"{HEADER} ini sudah dipakai untuk permintaan lain dalam 24 jam terakhir; gunakan "
                            f"kunci baru untuk permintaan yang berbeda.", code="kunci_idempotensi_dipakai")
    answer = stored.get("jawaban")
    if answer is None:
        if now < stored["batas"]:
            raise Conflict(f"Permintaan dengan {HEADER} ini masih diproses; coba lagi sebentar lagi.",
                           code="permintaan_sedang_diproses", retry_after=RETRY_AFTER_SECONDS)
        raise Conflict(f"Permintaan pertama dengan {HEADER} ini sudah mengubah data tetapi jawabannya tidak "
                       f"tersimpan; periksa datanya, lalu kirim dengan kunci baru bila masih perlu.",
                       code="kunci_idempotensi_tanpa_jawaban")
    if "galat" in answer:
        raise ERRORS_BY_NAME.get(answer["galat"]["jenis"], DomainError).from_payload(answer["galat"]["isi"])
    return answer["hasil"]
