"""Makes the signing keys: `python -m services.common.keys FOLDER` writes FOLDER/jwt-private.pem
(access tokens; for akun and `bkpm token` only, mode 0600) and FOLDER/jwt-public.pem (the
bundle every verifier reads); and for the tokens services show each other, FOLDER/layanan/
<service>.pem (each service's own, mode 0600) and FOLDER/layanan-publik.json (every service's
public key by name, which every service reads); whatever exists already is kept. `make run`
calls it for BKPM_DATA_DIR; a deployment runs it once and hands the files to its containers as secrets
(docs/operations.md, "Signing keys").

Framework-free core: imported by services.stack and run by operators."""
import json
import logging
import os
import secrets
import sys
from pathlib import Path

from services.common.config import PRIVATE_KEY, PUBLIC_KEYS, SERVICE_KEYS, SERVICE_PUBLIC_KEYS, SERVICES
from services.common.tokens import new_private_pem, public_pem

log = logging.getLogger(__name__)


def write_atomically(path, content, mode):
    draft = path.with_suffix(".tmp")
    draft.touch(mode=mode)
    draft.write_bytes(content)
    draft.replace(path)  # whole or not at all


def kept_secret(configured, path, setting):
    """`configured` (the value of the setting named `setting`), or else the random key kept at
    `path`, made by the first worker that starts without one (`make run`). Processes on other
    machines would each make their own and refuse each other's work, so a deployment sets it."""
    if configured:
        return configured
    try:
        if not path.exists():
            _make_secret_file(path)
        return path.read_text().strip()
    except OSError as error:
        raise RuntimeError(f"{setting} is not set and {path} cannot be made ({error.strerror}): set {setting}, "
                           "the same for every process of the deployment") from None


def _make_secret_file(path):
    """A random key at `path`, unless another worker makes one first: written aside, then linked
    into place, so that no worker reads half a key."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{os.getpid()}")
    draft.touch(mode=0o600)
    try:
        draft.write_text(secrets.token_hex(32))
        os.link(draft, path)
        log.info("made the key %s", path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def ensure_key_pair(private_path, public_path):
    """Generate a signing key and its public bundle where there is none yet; True if it did."""
    if private_path.exists():
        return False
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    private = new_private_pem()
    write_atomically(private_path, private, 0o600)
    write_atomically(public_path, public_pem(private), 0o644)
    log.info("generated the token signing key %s and its public half %s", private_path, public_path)
    return True


def ensure_service_keys(private_folder, public_file, services):
    """A private key for each service that has none in `private_folder` (`<name>.pem`), and
    `public_file` naming every one's public key, written again when a key was made."""
    made = False
    for name in services:
        path = private_folder / f"{name}.pem"
        if not path.exists():
            private_folder.mkdir(parents=True, exist_ok=True)
            write_atomically(path, new_private_pem(), 0o600)
            made = True
    if made or not public_file.exists():
        public = {path.stem: public_pem(path.read_bytes()).decode() for path in sorted(private_folder.glob("*.pem"))}
        write_atomically(public_file, json.dumps(public, indent=2).encode(), 0o644)
        log.info("service keys in %s, their public keys in %s", private_folder, public_file)


def ensure_keys(folder, services=SERVICES):
    """Every key of a deployment in `folder`, as the module's docstring lays them out; True if
    the token signing key was made now."""
    made = ensure_key_pair(folder / PRIVATE_KEY, folder / PUBLIC_KEYS)
    ensure_service_keys(folder / SERVICE_KEYS, folder / SERVICE_PUBLIC_KEYS, services)
    return made


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m services.common.keys FOLDER")
    folder = Path(args[0])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not ensure_keys(folder):
        sys.exit(f"{folder / PRIVATE_KEY} exists already; to change keys follow docs/operations.md, 'Signing keys'")


if __name__ == "__main__":
    main()
