"""Who is calling, from an access token: the gateway and every service check the token
themselves, so reaching the broker makes no one anybody. A token is believed when one of the
platform's public keys verifies it (services/common/tokens.py) and its `roles` and `wilayah`
are well formed; the caller is then an Actor.

A token with `hanya` (an admin who must first enrol a one-time code gets one) is good only for
the use cases it names; anything else refuses it.

When an account is disabled, akun publishes `akun.dinonaktifkan` (and `akun.diubah` when its
role or area changes); every process that checks tokens hears it (`revocation_bindings`, a
listener of services.common.listener) and from then on refuses the account's tokens issued
before that moment, though they have not expired yet.
A process that did not hear it (started after, or cut off from the broker at the time) accepts
them until they expire: at most 15 minutes, and their login cannot be renewed.

Framework-free core: imported by the gateway, services.common.extensions and akun."""
import functools
import logging
import re
import time
from datetime import datetime

from services.common.access import KODE_WILAYAH_PATTERN, ROLES, Actor
from services.common.errors import Forbidden, Unauthorized
from services.common.events import exchange_of
from services.common.tokens import InvalidToken

log = logging.getLogger(__name__)

# What makes an account's tokens issued before a change no longer true.
REVOKING_CHANGES = {"role", "wilayah", "aktif"}


# What the gateway asks for: it lets a restricted token through, the service it reaches decides.
ANY_PURPOSE = object()


class Identities:
    """Turns access tokens into callers with the public keys of `keys` (a tokens.KeySet)."""

    def __init__(self, keys):
        self.keys = keys
        # A client sends the same token with every request until it expires, and checking its
        # signature is a good part of the work of a read: each token is checked once. The expiry
        # is checked at each use; a refused token is never kept.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)
        self._revoked = {}  # sub -> epoch seconds: its tokens issued before are refused

    def revoke(self, sub, moment):
        """Refuse `sub`'s tokens issued before `moment` (epoch seconds)."""
        self._revoked[sub] = max(moment, self._revoked.get(sub, moment))

    def actor(self, token, purpose=None):
        """The caller holding `token`; Unauthorized if it is not to be believed, Forbidden if it
        is good only for something else than `purpose`."""
        if not isinstance(token, str) or not token:
            raise Unauthorized("Permintaan ini memerlukan token akses yang sah.")
        actor, issued, expires, only = self._verified(token)
        if expires <= time.time():
            raise Unauthorized("Token sudah kedaluwarsa; masuk kembali.")
        if issued <= self._revoked.get(actor.sub, float("-inf")):
            raise Unauthorized("Token ini tidak berlaku lagi: akunnya diubah atau dinonaktifkan. Perbarui sesi "
                               "atau masuk kembali.", code="token_dicabut")
        if only is not None and purpose is not ANY_PURPOSE and only != purpose:
            raise Forbidden("Token ini hanya untuk mendaftarkan kode sekali pakai; daftarkan dahulu, lalu masuk "
                            "kembali.", code="otp_belum_didaftarkan")
        return actor

    def restriction(self, token):
        """What a token checked by `actor` is good for only (its `hanya`), or None."""
        return self._verified(token)[3]

    def _verify(self, token):
        try:
            claims = self.keys.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        return actor_from_claims(claims), claims["iat"], claims["exp"], claims.get("hanya")


def revocation_bindings(identities):
    """What a listener binds to hear of accounts disabled, or given another role or area, and
    what it does with each: their tokens issued before are refused (a changed account's client
    renews its login, and its new token carries what changed)."""
    def on_event(exchange, routing_key, event):
        try:
            if routing_key == "akun.diubah" and not set(event["data"]["berubah"]) & REVOKING_CHANGES:
                return
            # Never later than now: a time far ahead would shut the account out for good.
            moment = min(datetime.fromisoformat(event["time"]).timestamp(), time.time())
            identities.revoke(event["data"]["id"], moment)
        except (TypeError, KeyError, ValueError):
            log.error("an akun event without an account or a time was ignored")
    return {exchange_of("akun"): ["akun.dinonaktifkan", "akun.diubah"]}, on_event


def actor_from_claims(claims):
    """The Actor a verified token's claims name; Unauthorized when they are not well formed."""
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not any(role in ROLES for role in roles):
        raise Unauthorized(f"Token tidak memiliki peran yang dikenal ({', '.join(ROLES)}).")
    wilayah = claims.get("wilayah")
    if wilayah is not None and not (isinstance(wilayah, str) and re.match(KODE_WILAYAH_PATTERN, wilayah)):
        raise Unauthorized("Klaim wilayah pada token bukan kode wilayah yang valid.")
    return Actor(sub=str(claims["sub"]), roles=tuple(role for role in roles if role in ROLES), wilayah=wilayah)
