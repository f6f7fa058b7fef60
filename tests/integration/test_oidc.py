"""A region's identity provider (OIDC) end to end, on the session platform (its OIDC_* settings
are in tests/conftest.py: a provider of Jawa Tengah, 33): a Keycloak-like provider on 127.0.0.1 serves its
discovery document and keys; the gateway and the service behind it both accept its tokens,
scoped to the area they name, and refuse one for another audience."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.errors import Unauthorized
from tests.support import assert_problem, rpc_client

THEIR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    """An OpenID Connect provider at `issuer` (http://127.0.0.1:<port>/realms/<realm>): its
    discovery document and its keys at <issuer>/certs."""

    def __init__(self, issuer):
        self.issuer = issuer
        realm = urlsplit(issuer).path
        jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(THEIR_KEY.public_key(), as_dict=True), "kid": "kunci-1",
               "use": "sig", "alg": "RS256"}
        documents = {f"{realm}/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": f"{issuer}/certs"},
                     f"{realm}/certs": {"keys": [jwk]}}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", urlsplit(issuer).port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, roles=("bkpm-petugas", "offline_access"), wilayah="33.74", aud="bkpm", sub="7d1e0c3a"):
        """A token as Keycloak makes one: realm roles under `realm_access`, the area a user
        attribute mapped into the token."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": aud, "sub": sub, "iat": now, "exp": now + 300,
                  "realm_access": {"roles": list(roles)}, **({"wilayah": wilayah} if wilayah else {})}
        return jwt.encode(claims, THEIR_KEY, algorithm="RS256", headers={"kid": "kunci-1"})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def provider(env):
    started = Provider(env["OIDC_ISSUER"])
    yield started
    started.stop()


def units(gateway, token, kode_prefix):
    return requests.get(f"{gateway}/api/v1/units", params={"kode_prefix": kode_prefix},
                        headers={"Authorization": f"Bearer {token}"}, timeout=15)


def test_a_providers_token_is_believed_by_the_gateway_and_by_the_service_behind_it(gateway, env, provider):
    held = provider.token()
    assert units(gateway, held, "33.74").status_code == 200
    assert_problem(units(gateway, held, "33.75"), 403)  # outside the area the token names
    # The service checks it itself, as it does any token put on the broker.
    page = rpc_client(env).call("organisasi", "list_unit", held, {"kode_prefix": "33.74.01"})
    assert page["page"] == 1


def test_a_providers_token_for_another_audience_or_with_no_role_of_ours_is_401(gateway, env, provider):
    other = provider.token(aud="sistem-lain")
    assert "tidak diterbitkan" in assert_problem(units(gateway, other, "33.74"), 401)["detail"]
    with pytest.raises(Unauthorized):
        rpc_client(env).call("organisasi", "list_unit", other, {"kode_prefix": "33.74"})
    # Not in OIDC_ROLE_MAP, though named as one of ours: only the map counts.
    assert "peran" in assert_problem(units(gateway, provider.token(roles=["admin"]), "33.74"), 401)["detail"]


def test_a_regions_provider_gives_no_access_outside_its_region(gateway, provider):
    elsewhere = provider.token(wilayah="31.71")
    assert "di luar wilayahnya" in assert_problem(units(gateway, elsewhere, "31.71"), 401)["detail"]
    regional = provider.token(wilayah=None, sub="tanpa-atribut")  # a forgotten mapper: the region, not national
    assert units(gateway, regional, "33").status_code == 200
    assert_problem(units(gateway, regional, "31"), 403)
