"""ALTCHA, the proof of work anonymous forms carry (https://altcha.org, its v2 protocol, which the
`altcha` widget 3 on npm speaks), so that a script pays for every aspiration or survey answer
it sends while a citizen only waits about a second.

`GET /api/v1/altcha` answers a fresh challenge, signed with the deployment's key
(ALTCHA_HMAC_KEY) and valid for CHALLENGE_SECONDS. The widget solves it and the form sends the
solution in the X-Altcha header (a header: the JSON bodies belong to the services' schemas). A
public write route decorated with `anonymous_write` counts a request:
- with a solution, under its usual limit per client address; the solution is then checked, and
  an invalid, expired or already spent one is refused with 400 naming the field `altcha`;
- without one (JavaScript off, a plain API client), under a much stricter limit: accepted all
  the same, so no citizen is locked out.
A solution is spent once: its challenge's signature is kept until the challenge expires, in the
storage every gateway process keeps its rate limits in (RATE_LIMIT_STORAGE_URI; memory://: per
worker)."""
import hashlib
import hmac
import logging
import secrets
import time
from functools import wraps

import altcha
from flask import current_app, jsonify, request
from flask.views import MethodView
from limits.errors import StorageError
from limits.storage import MemoryStorage
from marshmallow import fields
from webargs.flaskparser import abort

from gateway.blueprint import Blueprint, limiter
from services.common.keys import kept_secret
from services.common.schema import RULE_KEY, BaseSchema

log = logging.getLogger(__name__)

HEADER = "X-Altcha"
CHALLENGE_SECONDS = 600
# PBKDF2, which every browser computes natively (WebCrypto). The challenge is made with the
# counter the client must find (ALTCHA's deterministic mode): the work is bounded, and a
# solution is checked with one HMAC of the key it derived instead of a PBKDF2 of our own.
ALGORITHM = "PBKDF2/SHA-256"
ITERATIONS = 5_000
# On average 300 derivations of 5,000 iterations each: 1.5 million HMAC-SHA-256 rounds, about a
# second on a mid-range phone (the widget derives in several workers), a third of one on a
# server's core: a script pays that for every submission.
COUNTERS = range(200, 400)
# Making a challenge costs the gateway one derivation (about a millisecond). Each submission needs
# one, and a crowd answering the survey on one venue's network may send 60 a minute.
CHALLENGE_RATE_LIMIT = "120 per minute"

UNREADABLE = "Bukti ALTCHA tidak dapat dibaca; selesaikan tantangan dari /api/v1/altcha."
EXPIRED = "Tantangan ALTCHA sudah kedaluwarsa; selesaikan tantangan yang baru."
INVALID = "Bukti ALTCHA tidak sah; selesaikan tantangan yang baru."
SPENT = "Bukti ALTCHA ini sudah dipakai; setiap kiriman memerlukan tantangan yang baru."


class ProofOfWork:
    """Challenges signed with `key`, and the check of their solutions; `iterations` and
    `counters` set how much work one takes."""

    def __init__(self, key, iterations=ITERATIONS, counters=COUNTERS):
        self.key = key
        # The derived key's own signature, apart from the challenge's.
        self.solution_key = hmac.new(key.encode(), b"altcha-derived-key", hashlib.sha256).hexdigest()
        self.iterations = iterations
        self.counters = counters
        self.spent = SpentSolutions()

    def challenge(self):
        return altcha.create_challenge(
            ALGORITHM, self.iterations, counter=secrets.choice(self.counters),
            expires_at=int(time.time()) + CHALLENGE_SECONDS, hmac_secret=self.key,
            hmac_key_secret=self.solution_key).to_dict()

    def problem(self, payload):
        """What is wrong with the solution `payload` (the header's base64), in Bahasa Indonesia;
        None for a valid solution, which is spent by this check."""
        result = altcha.verify_solution(payload, self.key, hmac_key_secret=self.solution_key)
        if result.error:
            return UNREADABLE
        if result.expired:
            return EXPIRED
        if not result.verified:
            return INVALID
        if not self.spent.first_use(altcha.Payload.from_base64(payload).challenge.signature):
            return SPENT
        return None


class SpentSolutions:
    """The challenges whose solution was used, by their signature, until they expire: in the rate
    limits' storage, and while that cannot be reached in this worker's memory, as flask-limiter
    then counts (gateway/blueprint.py)."""

    def __init__(self):
        self._fallback = MemoryStorage()

    def first_use(self, signature):
        key = f"altcha/{signature}"
        try:
            return limiter.storage.incr(key, CHALLENGE_SECONDS) == 1
        except StorageError as error:
            log.warning("rate limit storage unreachable (%s): spent ALTCHA solutions are kept in this worker", error)
            return self._fallback.incr(key, CHALLENGE_SECONDS) == 1


def hmac_key(config):
    """ALTCHA_HMAC_KEY, or else the key kept in BKPM_DATA_DIR (services/common/keys.py): the same
    for every gateway of a deployment, or they refuse each other's solutions."""
    return kept_secret(config.altcha_hmac_key, config.altcha_key_file, "ALTCHA_HMAC_KEY")


def _solution_sent():
    return HEADER in request.headers


def _no_solution_sent():
    return not _solution_sent()


# How the write routes document the header in the OpenAPI document.
HEADER_DOC = {"in": "header", "name": HEADER, "required": False,
              "schema": {"type": "string", RULE_KEY: "Harus bukti yang sah dan belum dipakai (400 pada `altcha`)."},
              "description": "Bukti ALTCHA (base64 dari widget ALTCHA) atas tantangan dari GET /api/v1/altcha. Tanpa "
                             "bukti, kiriman tetap diterima dengan batas per alamat yang jauh lebih ketat."}


def anonymous_write(limit, limit_without_altcha):
    """Decorate a public route that writes: `limit` per client address for requests carrying a
    solution, which must be valid and not spent, `limit_without_altcha` for the others (each a
    flask-limiter limit or a callable answering one)."""
    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            payload = request.headers.get(HEADER)
            if payload is not None:
                problem = current_app.extensions["altcha"].problem(payload)
                if problem:
                    abort(400, messages={"headers": {"altcha": [problem]}})
            return view(*args, **kwargs)

        limited = limiter.limit(limit, exempt_when=_no_solution_sent)(checked)
        limited = limiter.limit(limit_without_altcha, exempt_when=_solution_sent, scope="tanpa-altcha")(limited)
        return Blueprint.doc(parameters=[HEADER_DOC])(limited)
    return decorator


class AltchaParametersSchema(BaseSchema):
    algorithm = fields.String(required=True)
    nonce = fields.String(required=True)
    salt = fields.String(required=True)
    cost = fields.Integer(required=True)
    key_length = fields.Integer(required=True, data_key="keyLength")
    key_prefix = fields.String(required=True, data_key="keyPrefix")
    key_signature = fields.String(required=True, data_key="keySignature")
    expires_at = fields.Integer(required=True, data_key="expiresAt",
                                metadata={"description": "Detik Unix; sesudahnya bukti ditolak."})


class AltchaChallengeSchema(BaseSchema):
    parameters = fields.Nested(AltchaParametersSchema, required=True)
    signature = fields.String(required=True)


blp = Blueprint("altcha", __name__, url_prefix="/api/v1/altcha", public=True,
                description="Tantangan ALTCHA (proof of work) untuk formulir tanpa akun: aspirasi dan survei.")


@blp.route("")
class Challenge(MethodView):
    @blp.public
    @limiter.limit(CHALLENGE_RATE_LIMIT)
    @blp.documents(200, AltchaChallengeSchema, 429)
    def get(self):
        """Tantangan ALTCHA baru, berlaku 10 menit, untuk satu kiriman.

        Widget ALTCHA menyelesaikannya; formulir aspirasi atau survei mengirim buktinya di header
        X-Altcha."""
        response = jsonify(current_app.extensions["altcha"].challenge())
        response.headers["Cache-Control"] = "no-store"
        return response
