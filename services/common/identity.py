"""Who is calling, from an access token: the gateway and every service check the token
themselves, so reaching the broker makes no one anybody. A token is believed when one of the
platform's public keys verifies it (services/common/tokens.py) and its `roles` and `wilayah`
are well formed; the caller is then an Actor.

A token with `hanya` is good only for the use cases it names (RESTRICTIONS); anything else
refuses it: an admin who must first enrol a one-time code, a person who must first replace a
password someone else set, another system that may only read the event log.

When an account is disabled, akun publishes `akun.dinonaktifkan` (and `akun.diubah` when its
role or area changes); every process that checks tokens hears it (`revocation_bindings`, a
listener of services.common.listener) and from then on refuses the account's tokens issued
before that moment, though they have not expired yet.
A process that did not hear it (started after, or cut off from the broker at the time) accepts
them until they expire: at most 15 minutes, and their login cannot be renewed.

A region that runs an OpenID Connect provider may have its people come with its tokens too
(`IdentityProvider`, configured by OIDC_*): a token whose `iss` is the provider's is verified
with the provider's keys, its roles and area are read from claims of the provider's choosing
(roles renamed to ours by a map), and its holder is `oidc:<sub>`, never one of our accounts.
Such a token lives as long as the provider says, is never restricted (`hanya` is ours) and is
not refused by akun's events (no account of ours is its holder): disabling that person is done
in the provider. When the provider's keys cannot be fetched, its tokens are answered with
Unavailable (503), not 401: they may well be good.

Framework-free core: imported by the gateway, services.common.extensions and akun."""
import functools
import logging
import re
import time
from datetime import datetime

import jwt

from services.common.access import KODE_WILAYAH_PATTERN, ROLES, Actor, within
from services.common.errors import Forbidden, Unauthorized, Unavailable
from services.common.events import exchange_of
from services.common.tokens import InvalidToken, ProviderUnavailable

log = logging.getLogger(__name__)

# Who holds a provider's token: never one of our accounts' ids, so nothing of an account (its
# revocations, its place in akun) is ever taken for theirs.
PROVIDER_SUB_PREFIX = "oidc:"

# What makes an account's tokens issued before a change no longer true: a role, an area, its
# state, its one-time code removed by an admin.
REVOKING_CHANGES = {"role", "wilayah", "aktif", "otp_aktif"}
# What its holder changed (a password, a code enrolled), getting a new token pair in the same
# request: tokens issued more than RENEWAL_GRACE_SECONDS before are refused. The new pair's `iat`
# is taken when the request began, before the change's moment.
RENEWING_CHANGES = {"password", "otp"}
RENEWAL_GRACE_SECONDS = 5


# What the gateway asks for: it lets a restricted token through, the service it reaches decides.
ANY_PURPOSE = object()
# The purposes a token may be restricted to (its `hanya` claim), and how a use case refuses it.
OTP_ENROLMENT = "daftar_otp"
PASSWORD_CHANGE = "ganti_password"
EVENT_LOG = "log_peristiwa"
RESTRICTIONS = {
    OTP_ENROLMENT: ("Token ini hanya untuk mendaftarkan kode sekali pakai; daftarkan dahulu, lalu masuk kembali.",
                    "otp_belum_didaftarkan"),
    PASSWORD_CHANGE: ("Ganti kata sandi Anda dahulu: kata sandi ini diberikan orang lain.", "ganti_password_wajib"),
    EVENT_LOG: ("Token klien ini hanya untuk membaca log event wilayahnya.", "hanya_log_peristiwa"),
}


class Identities:
    """Turns access tokens into callers with the public keys of `keys` (a tokens.KeySet) and,
    for the tokens of a region's identity provider, `provider` (an IdentityProvider, or None)."""

    def __init__(self, keys, provider=None):
        self.keys = keys
        self.provider = provider
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
        if only is not None and purpose is not ANY_PURPOSE and only not in purposes(purpose):
            message, code = RESTRICTIONS.get(only, ("Token ini tidak untuk permintaan ini.", "token_terbatas"))
            raise Forbidden(message, code=code)
        return actor

    def restriction(self, token):
        """What a token checked by `actor` is good for only (its `hanya`), or None."""
        return self._verified(token)[3]

    def _verify(self, token):
        if self.provider is not None and self.provider.issued(token):
            return self._verify_provided(token)
        try:
            claims = self.keys.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        return actor_from_claims(claims), claims["iat"], claims["exp"], claims.get("hanya")

    def _verify_provided(self, token):
        try:
            claims = self.provider.keys.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        except ProviderUnavailable:
            raise Unavailable("Penyedia identitas wilayah tidak dapat dihubungi untuk memeriksa token; coba lagi "
                              "sebentar lagi.", code="penyedia_identitas_tidak_tersedia") from None
        # Never restricted: `hanya` is a claim of ours, whatever the provider means by one.
        return self.provider.actor(claims), claims["iat"], claims["exp"], None


class IdentityProvider:
    """A region's own OpenID Connect provider: its tokens are verified with `keys` (a
    tokens.ProviderKeys); their holder's roles are the list at `roles_claim` and their area the
    code at `wilayah_claim` (dotted paths into the claims: `realm_access.roles` for Keycloak's
    realm roles). With a `role_map` ({theirs: ours}) only the roles it names count; without one
    their names must be ours. Roles of theirs that are none of ours are ignored, and a token left
    with none of ours is refused, as is a malformed area. A provider of one region (`area`, its
    code) speaks for that region only: no area claim means that region, and one outside it is
    refused; a provider without `area` is national, and no area claim means national."""

    def __init__(self, keys, roles_claim="roles", role_map=None, wilayah_claim="wilayah", area=None):
        self.keys = keys
        self.roles_claim, self.wilayah_claim, self.area = roles_claim, wilayah_claim, area
        self.role_map = dict(role_map) if role_map is not None else None

    @property
    def issuer(self):
        return self.keys.issuer

    def issued(self, token):
        """Does `token` say it comes from this provider? Unverified: only which keys check it
        depends on that."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        return isinstance(claims, dict) and claims.get("iss") == self.issuer

    def actor(self, claims):
        """The Actor the verified claims of the provider's token name; Unauthorized when they
        name none of our roles or a malformed area."""
        theirs = claim_at(claims, self.roles_claim)
        theirs = [theirs] if isinstance(theirs, str) else theirs if isinstance(theirs, list) else []
        names = [role for role in theirs if isinstance(role, str)]
        ours = [self.role_map.get(role) for role in names] if self.role_map is not None else names
        wilayah = claim_at(claims, self.wilayah_claim) or self.area
        if isinstance(wilayah, str) and not within(wilayah, self.area):
            raise Unauthorized("Penyedia identitas ini tidak dapat memberi akses di luar wilayahnya.")
        return actor_from_claims({"sub": PROVIDER_SUB_PREFIX + claims["sub"],
                                  "roles": list(dict.fromkeys(role for role in ours if role in ROLES)),
                                  "wilayah": wilayah})


def claim_at(claims, path):
    """The value at a dotted `path` into `claims` ("realm_access.roles"), or None."""
    value = claims
    for name in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def purposes(purpose):
    """A use case names the one restricted purpose it serves, or several (a tuple)."""
    return purpose if isinstance(purpose, tuple) else (purpose,)


def revocation_bindings(identities):
    """What a listener binds to hear of accounts disabled, given another role or area, a new
    password or one-time code, and what it does with each: their tokens issued before are
    refused (a changed account's client renews its login, and its new token carries what
    changed)."""
    def on_event(exchange, routing_key, event):
        try:
            changed = set(event["data"]["berubah"]) if routing_key == "akun.diubah" else REVOKING_CHANGES
            if not changed & (REVOKING_CHANGES | RENEWING_CHANGES):
                return
            # Never later than now: a time far ahead would shut the account out for good.
            moment = min(datetime.fromisoformat(event["time"]).timestamp(), time.time())
            grace = 0 if changed & REVOKING_CHANGES else RENEWAL_GRACE_SECONDS
            identities.revoke(event["data"]["id"], moment - grace)
        except (TypeError, KeyError, ValueError):
            log.error("an akun event without an account or a time was ignored")
    return {exchange_of("akun"): ["akun.dinonaktifkan", "akun.diubah"]}, on_event


def actor_from_claims(claims):
    """The Actor a verified token's claims name; Unauthorized when they are not well formed."""
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not any(role in ROLES for role in roles):
        raise Unauthorized(f"Token tidak memiliki peran yang dikenal ({', '.join(ROLES)}).")
    wilayah = claims.get("wilayah")
    if wilayah is not None and not (isinstance(wilayah, str) and re.fullmatch(KODE_WILAYAH_PATTERN, wilayah)):
        raise Unauthorized("Klaim wilayah pada token bukan kode wilayah yang valid.")
    return Actor(sub=str(claims["sub"]), roles=tuple(role for role in roles if role in ROLES), wilayah=wilayah)
