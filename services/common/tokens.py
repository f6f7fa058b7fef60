"""Access tokens: signed by the platform with an asymmetric key, verified by everyone who
holds its public half (the gateway, each service, an outside system through
/.well-known/jwks.json).

ES256 (ECDSA on P-256): a signing key is one PEM file, only akun (which logs people in) and the
`bkpm token` command read it; verifiers read a bundle of public keys, the current one and,
while a key changes, the previous one, each named by its `kid` (its RFC 7638 thumbprint). A
token names its key in its header and must carry `iss`, `aud`, `sub`, `iat`, `exp` (at most
MAX_TTL_SECONDS after `iat`), `jti`, `roles` and, for a caller scoped to an area, `wilayah`.
HS256, `none` and any other algorithm are refused.

A region that runs an OpenID Connect provider (Keycloak, ...) may have its people come with
the provider's tokens instead (`ProviderKeys`): verified with the public keys the provider
publishes (its JWKS, fetched over HTTPS and kept a while), for the audience it issues for BKPM,
with RS256 or ES256 (never HS* nor none). Their lifetime is the provider's: MAX_TTL_SECONDS
does not bound them.

Services calling each other show a token of their own (`ServiceKeys`): each service signs with a
key of its own, for the one service it calls (audience `bkpm-internal/<callee>`), and the callee
knows each service's public key by the service's name, so one service cannot pass for another
nor replay what it was shown to a third.

Framework-free core (PyJWT and cryptography): imported by the gateway, the services' identity
check, akun and the command line."""
import base64
import hashlib
import ipaddress
import json
import logging
import math
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)

ALGORITHM = "ES256"
MAX_TTL_SECONDS = 15 * 60
# The audience of the tokens services show each other, `bkpm-internal/<callee>`: never
# accepted as a person's, nor by another callee than the one it was made for.
INTERNAL_AUDIENCE = "bkpm-internal"
# Clocks of the hosts differ a little: a token made a moment "in the future" is still good.
LEEWAY_SECONDS = 30


def internal_audience(callee):
    return f"{INTERNAL_AUDIENCE}/{callee}"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti")


class InvalidToken(Exception):
    """A token that is not to be believed; the message says why, in Bahasa Indonesia."""


class ProviderUnavailable(Exception):
    """An identity provider's keys could not be had, so its token could not be checked either
    way: the caller may try again, the token may well be good."""


def _b64(number):
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


def public_jwk(public_key):
    """The key as a JWK, with its `kid`: the RFC 7638 thumbprint of its required members."""
    numbers = public_key.public_numbers()
    members = {"crv": "P-256", "kty": "EC", "x": _b64(numbers.x), "y": _b64(numbers.y)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "use": "sig", "alg": ALGORITHM}


def new_private_pem():
    """A new P-256 signing key, as PKCS #8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(private_pem):
    """The public half of a PEM signing key, as PEM."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Audience:
    """Who issues the platform's tokens and for whom they are meant."""
    issuer: str
    audience: str


class SigningKey:
    def __init__(self, private_pem, audience):
        self._key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(self._key, ec.EllipticCurvePrivateKey) or self._key.curve.name != "secp256r1":
            raise ValueError("the signing key must be an EC P-256 key (ES256)")
        self.kid = public_jwk(self._key.public_key())["kid"]
        self.audience = audience

    def issue(self, sub, roles, wilayah=None, ttl_seconds=MAX_TTL_SECONDS, now=None, **extra):
        """A signed access token for `sub`, valid `ttl_seconds` (at most MAX_TTL_SECONDS)."""
        if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"an access token lives at most {MAX_TTL_SECONDS} seconds")
        # Milliseconds (a NumericDate may have them, RFC 7519 §2): a token renewed just after its
        # account changed is told apart from one issued before the change in the same second.
        # Rounded down, never up: a token is never dated after a change that came after it.
        issued = math.floor((now if now is not None else time.time()) * 1000) / 1000
        claims = {"iss": self.audience.issuer, "aud": self.audience.audience, "sub": sub, "iat": issued,
                  "exp": issued + ttl_seconds, "jti": uuid.uuid4().hex, "roles": list(roles), **extra}
        if wilayah:
            claims["wilayah"] = wilayah
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})


class KeySet:
    """The public keys tokens may be signed with, by `kid`."""

    def __init__(self, public_pems, audience):
        self.audience = audience
        self._keys = {}
        for pem in public_pems:
            key = _load_public(pem)
            self._keys[public_jwk(key)["kid"]] = key
        if not self._keys:
            raise ValueError("no public key to verify tokens with")

    @classmethod
    def from_bundle(cls, text, audience):
        """The keys of a file holding one or more PEM public keys one after another."""
        marker = b"-----END PUBLIC KEY-----"
        pems = [part.strip() + b"\n" + marker + b"\n" for part in text.split(marker) if part.strip()]
        return cls(pems, audience)

    def jwks(self):
        """The document served at /.well-known/jwks.json."""
        return {"keys": [public_jwk(key) for key in self._keys.values()]}

    def verify(self, token):
        """The claims of a token signed with one of these keys, for this audience, from this
        issuer, not expired and not living longer than MAX_TTL_SECONDS; InvalidToken otherwise."""
        return _claims(token, lambda kid: kid in self._keys and (self._keys[kid], self.audience.issuer),
                       self.audience.audience)


def _load_public(pem):
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("a verification key must be an EC P-256 public key (ES256)")
    return key


class ServiceKeys:
    """The public keys of the platform's services, each bound to its service's name."""

    def __init__(self, public_pems_by_service):
        self._keys = {}  # kid -> (key, the name of the service it is: the issuer of its tokens)
        for name, pem in public_pems_by_service.items():
            key = _load_public(pem)
            self._keys[public_jwk(key)["kid"]] = (key, name)

    @classmethod
    def from_json(cls, text):
        """The keys of a JSON document {service name: its public key as PEM}."""
        return cls({name: pem.encode() for name, pem in json.loads(text).items()})

    @staticmethod
    def signing_key(name, private_pem):
        """The key service `name` signs its own tokens with."""
        return SigningKey(private_pem, Audience(issuer=name, audience=INTERNAL_AUDIENCE))

    def verify(self, token, callee):
        """The name of the service that signed `token` with its own key, for `callee`,
        unexpired; InvalidToken otherwise."""
        claims = _claims(token, self._keys.get, internal_audience(callee))
        if claims["sub"] != claims["iss"]:
            raise InvalidToken("Token layanan tidak valid.")
        return claims["iss"]


def _decoded(token, key, algorithms, audience, issuer, required):
    """The claims of `token` signed with `key`, for `audience`, by `issuer`, carrying `required`
    and unexpired; InvalidToken, saying why in words people read, otherwise."""
    try:
        return jwt.decode(token, key, algorithms=list(algorithms), audience=audience, issuer=issuer,
                          options={"require": list(required)}, leeway=LEEWAY_SECONDS)
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token sudah kedaluwarsa; masuk kembali.") from None
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
        raise InvalidToken("Token ini tidak diterbitkan untuk platform ini.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("Token tidak valid.") from None


def _claims(token, key_of, audience):
    """The claims of an ES256 `token` whose `kid` names a key (`key_of(kid)` gives it with the
    issuer it must come from, or nothing), for `audience`, unexpired and living at most
    MAX_TTL_SECONDS; InvalidToken, saying why, otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidToken("Token tidak valid.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"Token harus ditandatangani dengan {ALGORITHM}.")
    found = key_of(header.get("kid"))
    if not found:
        raise InvalidToken("Token ditandatangani dengan kunci yang tidak dikenal.")
    key, issuer = found
    claims = _decoded(token, key, [ALGORITHM], audience, issuer, REQUIRED_CLAIMS)
    if claims["exp"] - claims["iat"] > MAX_TTL_SECONDS:
        raise InvalidToken("Masa berlaku token terlalu panjang.")
    return claims


# What an identity provider's tokens may be signed with: public-key algorithms only. With HS*
# the key that verifies also signs (whoever can read it can pass for anyone), `none` is no
# signature at all.
PROVIDER_ALGORITHMS = ("RS256", "ES256")
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
PROVIDER_REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp")
# How long the provider's keys are kept before they are fetched again (a key it withdraws is
# refused at most this long after), and how long a fetch may take.
PROVIDER_KEYS_SECONDS = 600
PROVIDER_TIMEOUT_SECONDS = 5
# After the provider failed to answer, its tokens get 503 at once for this long: a stream of
# requests while it is down does not become a stream of fetches, each waiting out the timeout.
PROVIDER_RETRY_SECONDS = 30
DISCOVERY_PATH = "/.well-known/openid-configuration"
# A discovery document is a few kilobytes; more is not one.
DISCOVERY_MAX_BYTES = 1024 * 1024


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead from the provider's HTTPS address to anyone's: none is followed."""

    def redirect_request(self, *args, **kwargs):
        return None


NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def secure_url(url):
    """Is `url` one keys may be fetched from: HTTPS, or HTTP to this very machine (tests, a
    provider beside the gateway)? Keys fetched over plain HTTP across a network could be
    anyone's, and so could the tokens they verify."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class ProviderKeys:
    """The public keys of a region's own OpenID Connect provider, which tokens issued by `issuer`
    for `audience` must be signed with. They are fetched from `jwks_url`, or from the `jwks_uri`
    its discovery document names, at the first of its tokens (so a process starts without it),
    kept PROVIDER_KEYS_SECONDS, and fetched again when a token names a key not among them (the
    provider has changed its key), unless they were fetched in the last 30 seconds (PyJWKClient's
    cooldown): a stream of made-up `kid`s does not become a stream of requests to the provider."""

    def __init__(self, issuer, audience, jwks_url=None, algorithms=PROVIDER_ALGORITHMS,
                 timeout=PROVIDER_TIMEOUT_SECONDS, keys_seconds=PROVIDER_KEYS_SECONDS,
                 retry_seconds=PROVIDER_RETRY_SECONDS):
        refused = [name for name in algorithms if name not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"{', '.join(refused) or 'nothing'}; a provider's tokens are verified with public-key "
                             f"algorithms only ({', '.join(ASYMMETRIC_ALGORITHMS)}), never HS* (whoever verifies "
                             "could sign) nor none")
        self.issuer, self.audience, self.jwks_url = issuer, audience, jwks_url
        self.algorithms = tuple(algorithms)
        self.timeout, self.keys_seconds, self.retry_seconds = timeout, keys_seconds, retry_seconds
        self._client = None
        self._lock = threading.Lock()
        self._unreachable_until = float("-inf")

    def verify(self, token):
        """The claims of a token signed with one of the provider's keys, by this issuer, for this
        audience, unexpired; InvalidToken otherwise, ProviderUnavailable when the keys could not
        be fetched."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("Token tidak valid.") from None
        if header.get("alg") not in self.algorithms:
            raise InvalidToken(f"Token harus ditandatangani dengan {' atau '.join(self.algorithms)}.")
        key = self._key(header.get("kid"))
        claims = _decoded(token, key, self.algorithms, self.audience, self.issuer, PROVIDER_REQUIRED_CLAIMS)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise InvalidToken("Token tidak valid.")
        return claims

    def _key(self, kid):
        if time.monotonic() < self._unreachable_until:
            raise ProviderUnavailable()
        try:
            return self._fetched_key(kid)
        except ProviderUnavailable:
            self._unreachable_until = time.monotonic() + self.retry_seconds
            raise

    def _fetched_key(self, kid):
        client = self._jwks()
        try:
            # The set as kept, fetched if it is not (yet, or any more): a failure here is the
            # provider's, not the token's.
            client.get_signing_keys()
        except (jwt.PyJWTError, OSError, ValueError) as exc:
            log.warning("the identity provider's keys could not be fetched from %s: %s", client.uri, exc)
            raise ProviderUnavailable() from None
        try:
            return client.get_signing_key(kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, OSError, ValueError) as exc:
            # Fetched again for a key not among them, and that failed.
            log.warning("the identity provider's keys could not be fetched again from %s: %s", client.uri, exc)
            raise ProviderUnavailable() from None
        except jwt.PyJWTError:
            raise InvalidToken("Token ditandatangani dengan kunci yang tidak dikenal.") from None

    def _jwks(self):
        # Not cache_keys=True: that keeps each key by kid for as long as the process lives, so a
        # key the provider withdraws would stay good; the set is kept `keys_seconds` instead.
        if self._client is None:
            # Discovered outside the lock, so no thread waits on another's request; two threads
            # discovering at once make one request too many, once.
            url = self.jwks_url or self._discovered_jwks_url()
            with self._lock:
                if self._client is None:
                    self._client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=self.keys_seconds,
                                                   timeout=self.timeout)
        return self._client

    def _discovered_jwks_url(self):
        """The `jwks_uri` of the provider's discovery document (OpenID Connect Discovery 1.0), read
        once; ProviderUnavailable if it cannot be, and tried again at the next token."""
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            with NO_REDIRECTS.open(url, timeout=self.timeout) as response:
                document = json.loads(response.read(DISCOVERY_MAX_BYTES))
            issuer, jwks_uri = document["issuer"], document["jwks_uri"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("the identity provider's discovery document could not be read from %s: %s", url, exc)
            raise ProviderUnavailable() from None
        # The document must be the issuer's own (the spec says so), and its keys fetched safely.
        if issuer != self.issuer or not secure_url(jwks_uri):
            log.error("the discovery document at %s names issuer %r and jwks_uri %r: not usable for OIDC_ISSUER %r",
                      url, issuer, jwks_uri, self.issuer)
            raise ProviderUnavailable()
        return jwks_uri
