"""Makes the signing keys: `python -m services.common.keys FOLDER` writes FOLDER/jwt-private.pem
(access tokens; for akun and `bkpm token` only, mode 0600) and FOLDER/jwt-public.pem (the
bundle every verifier reads), and FOLDER/layanan/<service>.pem and <service>.pub.pem for each
service (the tokens services show each other), unless they exist. `make run` calls it for
BKPM_DATA_DIR; a deployment runs it once and hands the files to its containers as secrets
(docs/operations.md, "Signing keys").

Framework-free core: imported by services.stack and run by operators."""
import logging
import sys
from pathlib import Path

from services.common.config import SERVICES
from services.common.tokens import new_private_pem, public_pem

log = logging.getLogger(__name__)
PRIVATE, PUBLIC, SERVICE_KEYS = "jwt-private.pem", "jwt-public.pem", "layanan"


def write_atomically(path, content, mode):
    draft = path.with_suffix(".tmp")
    draft.touch(mode=mode)
    draft.write_bytes(content)
    draft.replace(path)  # whole or not at all


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


def ensure_service_keys(folder, services):
    """A key pair for each service that has none in `folder` (`<name>.pem`, `<name>.pub.pem`)."""
    for name in services:
        ensure_key_pair(folder / f"{name}.pem", folder / f"{name}.pub.pem")


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m services.common.keys FOLDER")
    folder = Path(args[0])
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    made = ensure_key_pair(folder / PRIVATE, folder / PUBLIC)
    ensure_service_keys(folder / SERVICE_KEYS, SERVICES)
    if not made:
        sys.exit(f"{folder / PRIVATE} exists already; to change keys follow docs/operations.md, 'Signing keys'")


if __name__ == "__main__":
    main()
