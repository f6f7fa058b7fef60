"""Bearer access tokens (services/common/tokens.py: ES256, verified with the platform's public
keys; or a region's identity provider's, verified with its keys: services/common/identity.py).
The gateway checks the token before it reads a body, and passes the token itself on to the
services, which check it again and decide what its holder may do where: the gateway is not
trusted to say who is calling. Public keys are served at /.well-known/jwks.json
(gateway/jwks.py)."""
from flask import current_app, g, request

from services.common.errors import Unauthorized
from services.common.identity import ANY_PURPOSE


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Sertakan header Authorization: Bearer <token>.")
    return token.strip()


def current_actor():
    """The caller of this request, from its Authorization header (checked once per request),
    as a dict: what the read cache keys a caller's answers by."""
    if "actor" not in g:
        token = bearer_token()
        identities = current_app.extensions["identities"]
        actor = identities.actor(token, ANY_PURPOSE).to_dict()
        only = identities.restriction(token)
        # A restricted token's answers are kept apart from its holder's full ones.
        g.actor = {**actor, "hanya": only} if only else actor
        g.token = token
    return g.actor


def current_token():
    """The access token of this request's caller, checked: what the services are given."""
    current_actor()
    return g.token
