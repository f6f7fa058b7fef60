"""Bearer JWT authentication. Claims: `sub`, `roles`, `wilayah` (absent for national staff),
`exp`. The gateway checks the token and passes the caller on to the services as `actor`;
the services decide what that caller may do where."""
import functools
import re
import time

import jwt
from flask import current_app, g, request

from services.common.errors import DomainError
from services.common.access import KODE_WILAYAH_PATTERN, ROLES

ALGORITHM = "HS256"


class Unauthorized(DomainError):
    status = 401
    code = "tidak_terautentikasi"


def issue_token(secret, sub, roles, wilayah=None, ttl_seconds=8 * 3600):
    claims = {"sub": sub, "roles": list(roles), "exp": int(time.time()) + ttl_seconds}
    if wilayah:
        claims["wilayah"] = wilayah
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secrets, token):
    """The actor dict of a token signed with one of `secrets` (a tuple) and still valid; raises
    Unauthorized with the reason otherwise."""
    actor, expires = _verified(secrets, token)
    if expires <= time.time():
        raise Unauthorized("Token sudah kedaluwarsa; masuk kembali.")
    return dict(actor)


@functools.lru_cache(maxsize=4096)
def _verified(secrets, token):
    """A token's actor and expiry, checked once: a client sends the same token with every request
    until it expires, and checking its signature is a good part of the gateway's work on a read.
    The expiry is checked again at each use (above); a refused token is never kept."""
    claims = _claims(secrets, token)
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not any(role in ROLES for role in roles):
        raise Unauthorized(f"Token tidak memiliki peran yang dikenal ({', '.join(ROLES)}).")
    wilayah = claims.get("wilayah")
    if wilayah is not None and not (isinstance(wilayah, str) and re.match(KODE_WILAYAH_PATTERN, wilayah)):
        raise Unauthorized("Klaim wilayah pada token bukan kode wilayah yang valid.")
    # A tuple: the cached actor is handed to every request with this token, none may change it.
    return {"sub": str(claims["sub"]), "roles": tuple(roles), "wilayah": wilayah}, claims["exp"]


def _claims(secrets, token):
    """The claims of `token` if one of `secrets` makes its signature good (PyJWT checks the
    signature before the expiry)."""
    for secret in secrets:
        try:
            return jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
        except jwt.InvalidSignatureError:
            continue  # perhaps signed with the previous secret, during a change of secret
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token sudah kedaluwarsa; masuk kembali.") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("Token tidak valid.") from None
    raise Unauthorized("Token tidak valid.")


def current_actor():
    """The caller of this request, from its Authorization header (checked once per request)."""
    if "actor" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Sertakan header Authorization: Bearer <token>.")
        g.actor = verify_token(current_app.config["JWT_SECRETS"], token.strip())
    return g.actor
