"""Where the officers' console keeps a login's tokens: on the server, never in the browser. The
browser's (signed, not encrypted) Flask cookie carries only a random id; the record it names, the
access and refresh tokens among it, lives in a store every worker and replica of the web app
reads:

- WEB_SESSION_STORAGE_URI (valkey://, redis://): a Valkey shared by the replicas, each record
  expiring by itself;
- unset: a SQLite file in BKPM_DATA_DIR, shared by one machine's gunicorn workers (`make run`).

A record is kept under the SHA-256 of its id and encrypted with Fernet under a key derived from
the web app's secret key: a copy of the store (a backup, a Valkey dump) holds neither the ids
the cookies carry nor a token. A record expires after WEB_SESSION_IDLE_MINUTES untouched; each
request of the console touches it again (a sliding expiry).

Refreshing a login's tokens happens under a lock of its record (`locked`): the refresh token is
good once, and two requests of one person (two tabs, two workers) presenting it together would
look like a stolen copy to akun, which then ends the login."""
import base64
import contextlib
import fcntl
import hashlib
import json
import secrets
import sqlite3
import time

from cryptography.fernet import Fernet, InvalidToken

from web.gateway import Unavailable

# How long a refresh may hold a record's lock: the gateway answers or gives up well before.
LOCK_SECONDS = 30


class StoreUnavailable(Unavailable):
    """The shared store of logins (Valkey) did not answer."""


def fernet_for(secret):
    digest = hashlib.sha256(b"bkpm-konsol-sesi\0" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SqliteBackend:
    """One machine's store: a SQLite file (WAL, so readers never wait for a writer) and a lock
    file for refreshes; a new connection per call keeps the threads of a worker apart."""

    def __init__(self, path):
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS sesi (kunci TEXT PRIMARY KEY, isi BLOB NOT NULL, "
                       "sampai REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS sesi_sampai ON sesi (sampai)")

    def _connect(self):
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def get(self, key):
        with contextlib.closing(self._connect()) as db:
            row = db.execute("SELECT isi FROM sesi WHERE kunci = ? AND sampai > ?", (key, time.time())).fetchone()
        return row[0] if row else None

    def set(self, key, value, seconds):
        now = time.time()
        with contextlib.closing(self._connect()) as db:
            db.execute("INSERT OR REPLACE INTO sesi (kunci, isi, sampai) VALUES (?, ?, ?)", (key, value, now + seconds))
            db.execute("DELETE FROM sesi WHERE sampai <= ?", (now,))  # what expired leaves as others write

    def delete(self, key):
        with contextlib.closing(self._connect()) as db:
            db.execute("DELETE FROM sesi WHERE kunci = ?", (key,))

    @contextlib.contextmanager
    def lock(self, key):
        # One lock for the machine: a refresh is one request every few minutes per person. Each
        # open() is a lock of its own, so it keeps a worker's threads apart too.
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class ValkeyBackend:
    """The replicas' shared store: records expire in Valkey by themselves. While it does not
    answer, a console page is the "sedang gangguan" page (503), as when the gateway is away."""

    def __init__(self, uri):
        import valkey  # only a deployment that names one needs the client connected

        self.client = valkey.Valkey.from_url(uri, socket_timeout=5, socket_connect_timeout=3)
        self.failures = (valkey.exceptions.ConnectionError, valkey.exceptions.TimeoutError)

    @contextlib.contextmanager
    def answering(self):
        try:
            yield
        except self.failures as error:
            raise StoreUnavailable(type(error).__name__) from None

    def get(self, key):
        with self.answering():
            return self.client.get(f"konsol:sesi:{key}")

    def set(self, key, value, seconds):
        with self.answering():
            self.client.set(f"konsol:sesi:{key}", value, px=max(1, int(seconds * 1000)))

    def delete(self, key):
        with self.answering():
            self.client.delete(f"konsol:sesi:{key}")

    @contextlib.contextmanager
    def lock(self, key):
        with self.answering():
            with self.client.lock(f"konsol:kunci:{key}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS):
                yield


class Sessions:
    """Records (dicts of JSON) by random ids, encrypted at rest, expiring `idle_seconds` after
    they were last written unless written with a `seconds` of their own."""

    def __init__(self, backend, secret, idle_seconds):
        self.backend = backend
        self.fernet = fernet_for(secret)
        self.idle_seconds = idle_seconds

    @staticmethod
    def _key(sid):
        return hashlib.sha256(sid.encode()).hexdigest()

    def new(self, record, seconds=None):
        sid = secrets.token_urlsafe(32)
        self.put(sid, record, seconds)
        return sid

    def get(self, sid):
        if not sid or not isinstance(sid, str):
            return None
        stored = self.backend.get(self._key(sid))
        if stored is None:
            return None
        try:
            return json.loads(self.fernet.decrypt(stored))
        except (InvalidToken, ValueError):
            return None  # written under another key (WEB_SECRET_KEY changed): as good as gone

    def put(self, sid, record, seconds=None):
        self.backend.set(self._key(sid), self.fernet.encrypt(json.dumps(record).encode()),
                         self.idle_seconds if seconds is None else seconds)

    def delete(self, sid):
        if sid and isinstance(sid, str):
            self.backend.delete(self._key(sid))

    def locked(self, sid):
        return self.backend.lock(self._key(sid))


def open_sessions(config, secret):
    backend = (ValkeyBackend(config.web_session_storage_uri) if config.web_session_storage_uri
               else SqliteBackend(config.web_session_file))
    return Sessions(backend, secret, config.web_session_idle_minutes * 60)
