"""Token signing keys for tests that run the gateway or a service in-process: one key the
platform under test signs with, one it knew before (both in the bundle it verifies with while
the key changes) and one it never knew."""
import tempfile
import time
from pathlib import Path

from services.common.tokens import MAX_TTL_SECONDS, Audience, SigningKey, new_private_pem, public_pem

AUDIENCE = Audience("bkpm", "bkpm-api")
CURRENT, PREVIOUS, STRANGER = (new_private_pem() for _ in range(3))
KEY, PREVIOUS_KEY, STRANGER_KEY = (SigningKey(pem, AUDIENCE) for pem in (CURRENT, PREVIOUS, STRANGER))

_folder = Path(tempfile.mkdtemp(prefix="bkpm-test-keys-"))
PUBLIC_KEYS_FILE = _folder / "jwt-public.pem"
PUBLIC_KEYS_FILE.write_bytes(public_pem(CURRENT))
ROTATING_KEYS_FILE = _folder / "jwt-public-rotating.pem"
ROTATING_KEYS_FILE.write_bytes(public_pem(CURRENT) + public_pem(PREVIOUS))


def token(sub="penguji", role="admin", wilayah=None, key=KEY, expired=False, issued_ago=0, **claims):
    issued = time.time() - (MAX_TTL_SECONDS + 60 if expired else issued_ago)
    return key.issue(sub, [role], wilayah=wilayah, now=issued, **claims)
