"""A region's own OpenID Connect provider for tests: a local HTTP server standing for a Keycloak
realm (`/realms/polri`), serving its discovery document and keys, and the tokens it issues."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

THEIR_KEY, OTHER_RSA_KEY = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
THEIR_AUDIENCE = "bkpm"


class FakeProvider:
    """An OpenID Connect provider on 127.0.0.1 (a Keycloak realm): its discovery document at
    <issuer>/.well-known/openid-configuration and its keys (JWKS) at <issuer>/certs; counts the
    requests it answers."""

    def __init__(self, port=0):
        self.requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                provider.requests.append(self.path)
                documents = {"/realms/polri/.well-known/openid-configuration": {
                                 "issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/certs"},
                             "/realms/polri/certs": {"keys": [provider.jwk(THEIR_KEY, "kunci-1")]}}
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}/realms/polri"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def jwk(key, kid):
        return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig",
                "alg": "RS256"}

    def token(self, **claims):
        return their_token(self.issuer, **claims)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def their_token(issuer, sub="f3b1c2d4", roles=("bkpm-petugas", "offline_access"), wilayah="33.74", key=THEIR_KEY,
                kid="kunci-1", lives=300, issued_ago=0, **claims):
    """A token of the provider `issuer`, as Keycloak makes one: realm roles under `realm_access`."""
    now = int(time.time()) - issued_ago
    payload = {"iss": issuer, "aud": THEIR_AUDIENCE, "sub": sub, "iat": now, "exp": now + lives,
               "realm_access": {"roles": list(roles)}, **claims}
    if wilayah is not None:
        payload["wilayah"] = wilayah
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})
