"""Configuration from environment variables: the one place that reads them (12-factor).

Each variable is read with environs: a value not of its variable's form stops the process as it
starts (services and the gateway build the settings at import), with an error naming the
variable and the form expected. An empty variable counts as unset (compose passes the ones left
blank in .env). Secrets may come from a file instead, `<NAME>_FILE`, as Docker and Kubernetes
mount them; one that is still the placeholder of .env.example, too short, or missing where it is
needed is refused at start (`_check_secrets`).

Framework-free core: every part of the platform may import it."""
import functools
import ipaddress
import logging
import os
import re
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from environs import Env, EnvError, FileAwareEnv, validate

_ENV = Env()
# A secret's file often ends in a newline (`echo secret > file`): surrounding whitespace is not
# part of the secret.
_SECRET_FILES = FileAwareEnv(strip_whitespace=True)


def _given(name):
    return os.environ.get(name, "") != ""


def _read(parse, name, default, expected, **options):
    """`name` as environs' `parse` (_ENV.int, _ENV.float, ...) reads it, or `default` when it is
    unset; a value not of the `expected` form stops the process, naming the variable."""
    if not _given(name):
        return default
    try:
        return parse(name, **options)
    except EnvError:
        raise _not_of_form(name, expected, os.environ[name]) from None


def _not_of_form(name, expected, value):
    return RuntimeError(f"{name} must be {expected} (was {value!r})")


def _text(name, default=None):
    return _read(_ENV.str, name, default, "text")


def _integer(name, default, least=0):
    return _read(_ENV.int, name, default, f"an integer of {least} or more", validate=validate.Range(min=least))


def _port(name, default):
    return _read(_ENV.int, name, default, "an integer from 1 to 65535", validate=validate.Range(min=1, max=65535))


def _number(name, default):
    """A number of seconds or days: never negative."""
    return _read(_ENV.float, name, default, "a number of 0 or more", validate=validate.Range(min=0))


def _choice(name, spellings, default, expected):
    """What the value stands for in `spellings` ({spelling in lower case: meaning}), in any case."""
    value = _text(name)
    if value is None:
        return default
    if value.lower() not in spellings:
        raise _not_of_form(name, expected, value)
    return spellings[value.lower()]


def _list(name, default, item=str, expected="a comma-separated list"):
    """A comma-separated list (`default` is one too) of `item`s; blanks between commas are ignored."""
    text = _text(name, default)
    try:
        return tuple(item(part.strip()) for part in text.split(",") if part.strip())
    except ValueError:
        raise _not_of_form(name, expected, text) from None


def _origin(text):
    """A browser origin as an Origin header carries it: scheme, host and port, nothing else (no
    path, no login, no wildcard: the answers allow credentials, so `*` would let every site in).
    Reading a port that is not a number raises ValueError too."""
    address = urlsplit(text.lower())
    if (address.scheme not in ("http", "https") or not address.hostname or address.port == 0
            or "@" in address.netloc or "*" in address.netloc
            or text.lower() != f"{address.scheme}://{address.netloc}"):
        raise ValueError(text)
    return text.lower()


def _secret(name):
    """A secret from `name`, or from the file `<name>_FILE` names; None when neither is set."""
    if _given(name) and _given(f"{name}_FILE"):
        raise RuntimeError(f"{name} and {name}_FILE are both set: set only one of them")
    try:
        return _SECRET_FILES.str(name, None) or None
    except ValueError:  # FileAwareEnv could not read the file
        raise RuntimeError(f"{name}_FILE names {os.environ[f'{name}_FILE']!r}, which is not a readable file") from None


# The placeholders of .env.example (tests/unit/test_secrets.py checks this list has them all): a
# deployment copied from it without editing must not start with secrets anyone can read.
PLACEHOLDERS = frozenset({"ganti-kata-sandi-rabbitmq", "ganti-kata-sandi-mongodb",
                          "ganti-kunci-replika-minimal-enam-karakter", "ganti-kata-sandi-valkey",
                          "ganti-kunci-altcha-minimal-dua-belas-karakter",
                          "ganti-kata-sandi-mongodb-organisasi", "ganti-kata-sandi-mongodb-kegiatan",
                          "ganti-kata-sandi-mongodb-bantuan", "ganti-kata-sandi-mongodb-notifikasi",
                          "ganti-kata-sandi-mongodb-akun", "ganti-kunci-sesi-web-minimal-dua-belas-karakter"})
MIN_SECRET_LENGTH = 12
# MongoDB logins that prove who the platform is without a password (a client certificate, a
# cloud role, a Kerberos ticket).
PASSWORDLESS_MECHANISMS = frozenset({"MONGODB-X509", "MONGODB-AWS", "MONGODB-OIDC", "GSSAPI"})


def check_secret(what, secret, required=True):
    """Refuse a secret that is a placeholder, too short, or missing where `required`: the process
    does not start. `what` names it in the error, which never shows its value (errors are logged)."""
    if not secret:
        if required:
            raise RuntimeError(f"{what} is not set")
        return
    if secret in PLACEHOLDERS:
        raise RuntimeError(f"{what} is still the placeholder of .env.example: set a secret of your own")
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"{what} has {len(secret)} characters; a secret needs at least {MIN_SECRET_LENGTH}")


def _on_this_machine(host):
    """Whether `host` (none: the client's default, localhost) is this machine."""
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hosts(address):
    """The host names of a URI's address (a MongoDB URI may list several, `h1:27017,h2:27017`)."""
    return [host[1:host.find("]")] if host.startswith("[") else host.partition(":")[0]
            for host in address.netloc.rpartition("@")[2].split(",")]


def _check_broker(uri):
    """The platform's broker login: RabbitMQ's guest user (the client's default, guest:guest) only
    to a broker on this machine, which is the only place RabbitMQ lets guest in from and what
    `make run` uses; any other user with a password of its own."""
    address = urlsplit(uri)
    if unquote(address.username or "guest") == "guest":
        if not all(_on_this_machine(host) for host in _hosts(address)):
            raise RuntimeError("AMQP_URI logs in as RabbitMQ's guest user to another machine: give the platform "
                               "a user of its own (RABBITMQ_USER and RABBITMQ_PASSWORD in .env)")
        return
    check_secret("the password in AMQP_URI", unquote(address.password or ""))


def _check_database(uri):
    """A MongoDB elsewhere needs a login: a user with a password (or a password-less mechanism);
    one on this machine (a SecantusDB of one's own) may have none."""
    address = urlsplit(uri)
    mechanism = parse_qs(address.query).get("authMechanism", [""])[0].upper()
    if mechanism in PASSWORDLESS_MECHANISMS:
        return
    if address.username is None:
        if all(_on_this_machine(host) for host in _hosts(address)):
            return
        raise RuntimeError("MONGO_URI names no user for a database on another machine: connect as the "
                           "platform's own user (mongodb://user:password@host/...)")
    check_secret("the password in MONGO_URI", unquote(address.password or ""))


# SMTP_TLS: how email reaches the SMTP server. Its old boolean spellings keep their meaning (true:
# STARTTLS, now with the server verified; false: none).
SMTP_TLS_SPELLINGS = {"starttls": "starttls", "tls": "tls", "none": "none", "true": "starttls", "yes": "starttls",
                      "1": "starttls", "false": "none", "no": "none", "0": "none"}
LOG_LEVELS = {name.lower(): name for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


# How long event handlers remember the events they handled, so that a redelivery is skipped
# (services/common/consumer.py); notifikasi keeps its deliveries at least as long.
HANDLED_EVENTS_KEEP_DAYS = 30

# The services the platform runs: `make run` starts each, the gateway's /ready asks each.
SERVICES = ("organisasi", "kegiatan", "bantuan", "notifikasi", "akun")

# The signing keys' files in a folder of keys (BKPM_DATA_DIR for `make run`; services/common/keys.py
# makes them): access tokens' private key and public bundle, each service's own private key
# (<folder>/layanan/<service>.pem) and every service's public key by name.
PRIVATE_KEY, PUBLIC_KEYS, SERVICE_KEYS, SERVICE_PUBLIC_KEYS = (
    "jwt-private.pem", "jwt-public.pem", "layanan", "layanan-publik.json")
# The key a gateway signs ALTCHA challenges with when ALTCHA_HMAC_KEY is unset: made in
# BKPM_DATA_DIR the first time (gateway/altcha.py).
ALTCHA_KEY = "altcha-hmac.key"
# The key the web front-end signs its session cookies with when WEB_SECRET_KEY is unset: made in
# BKPM_DATA_DIR the first time, as ALTCHA's is (web/app.py).
WEB_KEY = "web-session.key"
WEB_SESSIONS = "web-sessions.sqlite3"

DEFAULT_BLOCKED_NETWORKS = ("127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,10.0.0.0/8,172.16.0.0/12,"
                            "192.168.0.0/16,100.64.0.0/10,fc00::/7")


@dataclass(frozen=True)
class Settings:
    # The broker and the database: their URIs carry the platform's passwords, so they are secrets
    # (AMQP_URI_FILE, MONGO_URI_FILE). MONGO_URI unset means "use the embedded SecantusDB that
    # `make run` starts".
    amqp_uri: str = field(default_factory=lambda: _secret("AMQP_URI") or "amqp://guest:guest@127.0.0.1:5672/")
    mongo_uri: str | None = field(default_factory=lambda: _secret("MONGO_URI"))
    data_dir: Path = field(default_factory=lambda: Path(_text("BKPM_DATA_DIR", "./var")).resolve())
    embedded_db_port: int = field(default_factory=lambda: _port("BKPM_DB_PORT", 27017))
    db_prefix: str = field(default_factory=lambda: _text("BKPM_DB_PREFIX", "bkpm"))
    gateway_port: int = field(default_factory=lambda: _port("GATEWAY_PORT", 8000))
    gateway_workers: int = field(default_factory=lambda: _integer("GATEWAY_WORKERS", 2, least=1))
    gateway_threads: int = field(default_factory=lambda: _integer("GATEWAY_THREADS", 8, least=1))
    rpc_timeout: float = field(default_factory=lambda: _number("RPC_TIMEOUT", 5.0))
    # How long a gateway worker keeps a read's answer, and a service another service's answer to
    # a lookup, at most (services/common/cache.py: any change in the owning service forgets it
    # sooner); 0 turns that cache off.
    gateway_cache_seconds: float = field(default_factory=lambda: _number("GATEWAY_CACHE_SECONDS", 30.0))
    service_cache_seconds: float = field(default_factory=lambda: _number("SERVICE_CACHE_SECONDS", 30.0))
    # Anonymous aspirations per client address (flask-limiter notation); counters live in
    # memory per gateway worker unless RATE_LIMIT_STORAGE_URI points at shared storage.
    aspirasi_rate_limit: str = field(default_factory=lambda: _text("ASPIRASI_RATE_LIMIT", "10 per minute"))
    # Survey answers need a code each already; the limit only slows guessing.
    survei_rate_limit: str = field(default_factory=lambda: _text("SURVEI_RATE_LIMIT", "60 per minute"))
    # The same routes without a solved ALTCHA challenge (JavaScript off, a plain API client):
    # still accepted, so no citizen is locked out, but a script gets only a few (gateway/altcha.py).
    aspirasi_rate_limit_tanpa_altcha: str = field(
        default_factory=lambda: _text("ASPIRASI_RATE_LIMIT_TANPA_ALTCHA", "3 per hour"))
    survei_rate_limit_tanpa_altcha: str = field(
        default_factory=lambda: _text("SURVEI_RATE_LIMIT_TANPA_ALTCHA", "20 per hour"))
    # The key ALTCHA challenges are signed with, which every gateway of a deployment shares
    # (ALTCHA_HMAC_KEY_FILE too). Unset: a key made in BKPM_DATA_DIR the first time, ALTCHA_KEY.
    altcha_hmac_key: str | None = field(default_factory=lambda: _secret("ALTCHA_HMAC_KEY"))
    # Reads of the citizens' portal data (public activities and index, a ticket's tracking) per
    # client address: plenty for a person, or for the web front-end passing on its visitors'
    # addresses (TRUSTED_PROXIES), not for harvesting or hammering the index's aggregation.
    publik_rate_limit: str = field(default_factory=lambda: _text("PUBLIK_RATE_LIMIT", "120 per minute"))
    # Logins per client address, on top of akun's lockout per username: it slows one address
    # trying many usernames.
    login_rate_limit: str = field(default_factory=lambda: _text("LOGIN_RATE_LIMIT", "30 per minute"))
    # Where every gateway process keeps the rate limits' counters and the spent ALTCHA solutions,
    # in limits' notation (valkey://, redis://, mongodb://); memory:// counts per worker. Its URI
    # may carry a password (valkey://:password@host:6379): a secret.
    rate_limit_storage_uri: str = field(default_factory=lambda: _secret("RATE_LIMIT_STORAGE_URI") or "memory://")
    # The reverse proxies in front of the gateway, by address or network: X-Forwarded-For is
    # believed only from them (gateway/proxies.py). A count of proxies, the old form, is refused.
    trusted_proxies: tuple = field(default_factory=lambda: _list(
        "TRUSTED_PROXIES", "", item=ipaddress.ip_network,
        expected="the comma-separated addresses or networks of the reverse proxies, such as 10.0.0.5,10.1.0.0/16 "
                 "(no longer how many there are)"))
    # The front-ends on other origins whose browsers may call the API with credentials
    # (gateway/app.py); none: browsers on other origins get no CORS answer.
    cors_origins: tuple = field(default_factory=lambda: _list(
        "CORS_ORIGINS", "", item=_origin,
        expected="the comma-separated origins of the front-ends, such as https://portal.bkpm.go.id,"
                 "http://localhost:5173 (scheme, host and port only)"))
    # The web front-end (web/): where it listens, its gunicorn workers and threads, the gateway it
    # calls (its public HTTP API only; default: this machine's, on GATEWAY_PORT), the key its
    # session cookies are signed with (WEB_SECRET_KEY_FILE too; unset: WEB_KEY, made in
    # BKPM_DATA_DIR), whether those cookies are sent over HTTPS only (false only for plain-HTTP
    # development) and the reverse proxies in front of it, whose X-Forwarded-For it believes.
    web_port: int = field(default_factory=lambda: _port("WEB_PORT", 8080))
    web_workers: int = field(default_factory=lambda: _integer("WEB_WORKERS", 2, least=1))
    web_threads: int = field(default_factory=lambda: _integer("WEB_THREADS", 8, least=1))
    web_gateway_url_env: str | None = field(
        default_factory=lambda: (_text("WEB_GATEWAY_URL") or "").rstrip("/") or None)
    web_secret_key: str | None = field(default_factory=lambda: _secret("WEB_SECRET_KEY"))
    web_cookie_secure: bool = field(
        default_factory=lambda: _read(_ENV.bool, "WEB_COOKIE_SECURE", True, "true or false"))
    web_trusted_proxies: tuple = field(default_factory=lambda: _list(
        "WEB_TRUSTED_PROXIES", "", item=ipaddress.ip_network,
        expected="the comma-separated addresses or networks of the reverse proxies, such as 10.0.0.5,10.1.0.0/16"))
    # The officers' console (web/konsol.py): a login ends after WEB_SESSION_IDLE_MINUTES without a
    # request (fractions allowed, for tests); its tokens are kept server-side (web/session.py) in
    # WEB_SESSION_STORAGE_URI (valkey://, redis://: shared by every replica; its URI may carry a
    # password: a secret), or, unset, in a SQLite file in BKPM_DATA_DIR (one machine's workers).
    web_session_idle_minutes: float = field(default_factory=lambda: _number("WEB_SESSION_IDLE_MINUTES", 30.0))
    web_session_storage_uri: str | None = field(default_factory=lambda: _secret("WEB_SESSION_STORAGE_URI"))
    # Access tokens (services/common/tokens.py): ES256, signed with the private key only akun
    # and `bkpm token` read; verified by the gateway and every service with the bundle of public
    # keys (one or more PEM keys in one file: the current one and, while the key changes, the
    # previous one). `make run` generates both under BKPM_DATA_DIR.
    jwt_private_key_file_env: str | None = field(default_factory=lambda: _text("JWT_PRIVATE_KEY_FILE"))
    jwt_public_keys_file_env: str | None = field(default_factory=lambda: _text("JWT_PUBLIC_KEYS_FILE"))
    # The keys services sign the tokens they show each other with: SERVICE_PUBLIC_KEYS_FILE maps
    # each service's name to its public key (JSON); a service's own private key is
    # SERVICE_KEY_FILE. `make run` generates them under BKPM_DATA_DIR.
    service_public_keys_file_env: str | None = field(default_factory=lambda: _text("SERVICE_PUBLIC_KEYS_FILE"))
    service_key_file_env: str | None = field(default_factory=lambda: _text("SERVICE_KEY_FILE"))
    jwt_issuer: str = field(default_factory=lambda: _text("JWT_ISSUER", "bkpm"))
    jwt_audience: str = field(default_factory=lambda: _text("JWT_AUDIENCE", "bkpm-api"))
    # A region's own OpenID Connect provider whose tokens are accepted beside the platform's
    # (services/common/identity.py, docs/operations.md "Connecting an identity provider"); unset
    # OIDC_ISSUER: none. Its keys come from OIDC_JWKS_URL, or from the `jwks_uri` of its discovery
    # document; roles and area are read at dotted paths into its claims, roles renamed by
    # OIDC_ROLE_MAP (`theirs=ours,...`).
    oidc_issuer: str | None = field(default_factory=lambda: _text("OIDC_ISSUER"))
    oidc_audience: str | None = field(default_factory=lambda: _text("OIDC_AUDIENCE"))
    oidc_jwks_url: str | None = field(default_factory=lambda: _text("OIDC_JWKS_URL"))
    oidc_roles_claim: str = field(default_factory=lambda: _text("OIDC_ROLES_CLAIM", "roles"))
    oidc_role_map: str | None = field(default_factory=lambda: _text("OIDC_ROLE_MAP"))
    oidc_wilayah_claim: str = field(default_factory=lambda: _text("OIDC_WILAYAH_CLAIM", "wilayah"))
    # The region a provider serves (a kode wilayah): its tokens act within it only. Unset: national.
    oidc_wilayah: str | None = field(default_factory=lambda: _text("OIDC_WILAYAH"))
    oidc_algorithms: tuple = field(default_factory=lambda: _list("OIDC_ALGORITHMS", "RS256,ES256"))
    # Accounts and logins (akun): how long an access token and a login (its refresh tokens) live,
    # how many failed logins of one username within LOGIN_LOCK_MINUTES lock it for the rest of
    # that time, and the roles that log in with a one-time code too.
    access_token_minutes: int = field(default_factory=lambda: _integer("ACCESS_TOKEN_MINUTES", 15))
    refresh_token_days: int = field(default_factory=lambda: _integer("REFRESH_TOKEN_DAYS", 14))
    login_max_failures: int = field(default_factory=lambda: _integer("LOGIN_MAX_FAILURES", 5, least=1))
    login_lock_minutes: int = field(default_factory=lambda: _integer("LOGIN_LOCK_MINUTES", 15))
    otp_roles: tuple = field(default_factory=lambda: _list("OTP_ROLES", "admin"))
    log_level: str = field(default_factory=lambda: _choice(
        "LOG_LEVEL", LOG_LEVELS, "INFO", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"))
    # Event handler failures: how often a message is retried, and the first pause between
    # tries (doubling): six tries from one second ride out a service's restart (~30 s).
    event_max_attempts: int = field(default_factory=lambda: _integer("EVENT_MAX_ATTEMPTS", 6, least=1))
    event_retry_delay_ms: int = field(default_factory=lambda: _integer("EVENT_RETRY_DELAY_MS", 1000))
    outbox_poll_seconds: float = field(default_factory=lambda: _number("OUTBOX_POLL_SECONDS", 1.0))
    # How long published events stay in the event log late subscribers catch up from; unset
    # keeps them forever.
    event_log_retention_days: float | None = field(default_factory=lambda: _number("EVENT_LOG_RETENTION_DAYS", None))
    # kegiatan: how often late aspirations are looked for; public holidays (ISO dates, comma
    # separated) that are not working days for the SP4N-LAPOR! deadlines.
    aspirasi_check_seconds: float = field(default_factory=lambda: _number("ASPIRASI_CHECK_SECONDS", 60.0))
    hari_libur: str = field(default_factory=lambda: _text("HARI_LIBUR", ""))
    # kegiatan: how long a reporter's name and contacts are kept once their aspiration is closed
    # (selesai or ditolak), for questions about how it was handled; then they are erased
    # (UU No. 27/2022: kept no longer than their purpose needs).
    pelapor_retention_days: float = field(default_factory=lambda: _number("PELAPOR_RETENTION_DAYS", 365.0))
    # bantuan: imports of recipients run in the background. Waiting jobs are looked for every
    # POLL seconds; a job being run is held for LEASE seconds, renewed with each batch of rows,
    # after which a crashed instance's job is taken up again where it stood.
    impor_poll_seconds: float = field(default_factory=lambda: _number("IMPOR_POLL_SECONDS", 1.0))
    impor_lease_seconds: float = field(default_factory=lambda: _number("IMPOR_LEASE_SECONDS", 30.0))
    # notifikasi: the SMTP server email goes out through, and where operators keep their own
    # wording of the templates (files there take precedence over the built-in ones). SMTP_TLS
    # unset: see smtp_tls.
    smtp_host: str = field(default_factory=lambda: _text("SMTP_HOST", "127.0.0.1"))
    smtp_port: int = field(default_factory=lambda: _port("SMTP_PORT", 25))
    smtp_user: str | None = field(default_factory=lambda: _text("SMTP_USER"))
    smtp_password: str | None = field(default_factory=lambda: _secret("SMTP_PASSWORD"))
    smtp_from: str = field(default_factory=lambda: _text("SMTP_FROM", "BKPM <noreply@bkpm.localhost>"))
    smtp_tls_env: str | None = field(default_factory=lambda: _choice(
        "SMTP_TLS", SMTP_TLS_SPELLINGS, None, "starttls, tls or none (true and false, as before: starttls and none)"))
    # The certificates of a private certificate authority the SMTP server's is signed by; unset:
    # the system's.
    smtp_ca_file: str | None = field(default_factory=lambda: _text("SMTP_CA_FILE"))
    template_dir: str | None = field(default_factory=lambda: _text("NOTIFIKASI_TEMPLATE_DIR"))
    # The gateway's address as people reach it (behind the proxy), for the links in messages
    # (an email's opt-out link); unset: messages carry none.
    public_url: str | None = field(default_factory=lambda: (_text("PUBLIC_URL") or "").rstrip("/") or None)
    # The web front-end's address as people reach it, for the links to its pages (a password
    # reset link); unset: PUBLIC_URL, one host serving /api from the gateway and the rest from web.
    portal_url_env: str | None = field(default_factory=lambda: (_text("PORTAL_URL") or "").rstrip("/") or None)
    # SMS and WhatsApp go through HTTP providers speaking the generic JSON webhook of
    # docs/notifikasi-providers.md; a channel without a URL is not used.
    sms_provider_url: str | None = field(default_factory=lambda: _text("SMS_PROVIDER_URL"))
    sms_provider_token: str | None = field(default_factory=lambda: _secret("SMS_PROVIDER_TOKEN"))
    whatsapp_provider_url: str | None = field(default_factory=lambda: _text("WHATSAPP_PROVIDER_URL"))
    whatsapp_provider_token: str | None = field(default_factory=lambda: _secret("WHATSAPP_PROVIDER_TOKEN"))
    # notifikasi retries each message on its own: a temporary failure waits BASE seconds, then
    # twice as long each time up to CAP, and after MAX_ATTEMPTS tries the next channel takes
    # over. Due retries are looked for every POLL seconds; a message being sent is held for
    # LEASE seconds (a send times out well within it), after which a crashed sender's message
    # is taken up again.
    notifikasi_retry_base_seconds: float = field(
        default_factory=lambda: _number("NOTIFIKASI_RETRY_BASE_SECONDS", 30.0))
    notifikasi_retry_cap_seconds: float = field(
        default_factory=lambda: _number("NOTIFIKASI_RETRY_CAP_SECONDS", 3600.0))
    notifikasi_max_attempts: int = field(default_factory=lambda: _integer("NOTIFIKASI_MAX_ATTEMPTS", 8, least=1))
    notifikasi_poll_seconds: float = field(default_factory=lambda: _number("NOTIFIKASI_POLL_SECONDS", 1.0))
    notifikasi_lease_seconds: float = field(default_factory=lambda: _number("NOTIFIKASI_LEASE_SECONDS", 60.0))
    # How long notifikasi keeps a message: settled deliveries (they hold people's addresses) and
    # inbox messages older than this are forgotten (docs/operations.md, "Retention").
    notifikasi_retention_days: float = field(
        default_factory=lambda: _number("NOTIFIKASI_RETENTION_DAYS", 365.0))
    # Networks webhooks may not point into (comma separated): loopback, link-local (cloud
    # metadata) and the private ranges the platform's own containers live in. A region whose
    # receiving systems are on its intranet lists just the ranges to keep out.
    webhook_blocked_networks: tuple = field(default_factory=lambda: _list(
        "WEBHOOK_BLOCKED_NETWORKS", DEFAULT_BLOCKED_NETWORKS, item=ipaddress.ip_network,
        expected="comma-separated networks such as 10.0.0.0/8"))
    # Where a service process, or the gateway's metrics process, serves Prometheus metrics; unset: none.
    metrics_port: int | None = field(default_factory=lambda: _port("METRICS_PORT", None))
    # Calls from one service to another give up after this many seconds.
    service_call_timeout: float = field(default_factory=lambda: _number("SERVICE_CALL_TIMEOUT", 3.0))
    # Fault injection for the crash tests only: the named point makes the process exit at once.
    fault_crash_point: str | None = field(default_factory=lambda: _text("BKPM_FAULT_CRASH"))

    def __post_init__(self):
        self._check_secrets()
        if self.smtp_ca_file:
            try:
                self.smtp_tls_context()
            except OSError as exc:  # ssl.SSLError is one too
                raise RuntimeError(f"SMTP_CA_FILE names {self.smtp_ca_file!r}, which is not a readable file of "
                                   f"PEM certificates ({exc})") from None
        if self.smtp_tls == "none" and not _on_this_machine(self.smtp_host):
            logging.getLogger(__name__).warning(
                "SMTP_TLS is none: email and the SMTP password go to %s unencrypted, readable by anyone on the "
                "way; use starttls or tls", self.smtp_host)

    def _check_secrets(self):
        """Refuse at start what would hand the platform's data to anyone who read .env.example or
        guessed a short secret."""
        _check_broker(self.amqp_uri)
        if self.mongo_uri:
            _check_database(self.mongo_uri)
        check_secret("the password in RATE_LIMIT_STORAGE_URI",
                     unquote(urlsplit(self.rate_limit_storage_uri).password or ""), required=False)
        check_secret("ALTCHA_HMAC_KEY", self.altcha_hmac_key, required=False)
        check_secret("WEB_SECRET_KEY", self.web_secret_key, required=False)
        check_secret("the password in WEB_SESSION_STORAGE_URI",
                     unquote(urlsplit(self.web_session_storage_uri or "").password or ""), required=False)
        check_secret("SMTP_PASSWORD", self.smtp_password, required=bool(self.smtp_user))
        check_secret("SMS_PROVIDER_TOKEN", self.sms_provider_token, required=bool(self.sms_provider_url))
        check_secret("WHATSAPP_PROVIDER_TOKEN", self.whatsapp_provider_token,
                     required=bool(self.whatsapp_provider_url))

    @property
    def smtp_tls(self):
        """How email reaches the SMTP server: `starttls` (port 587 or 25), `tls` (implicit, port
        465), each verifying the server's certificate and name, or `none`. Unset SMTP_TLS: none to
        a server on this machine (what `make run` and the tests stand up), starttls to any other."""
        return self.smtp_tls_env or ("none" if _on_this_machine(self.smtp_host) else "starttls")

    def smtp_tls_context(self):
        """What the SMTP server's certificate is checked against (host name included)."""
        return ssl.create_default_context(cafile=self.smtp_ca_file)

    @property
    def notifikasi_retention(self):
        """NOTIFIKASI_RETENTION_DAYS as a timedelta; refused when shorter than the time a delivery
        must be remembered so that the same event, delivered again, is not sent twice."""
        if self.notifikasi_retention_days < HANDLED_EVENTS_KEEP_DAYS:
            raise RuntimeError(f"NOTIFIKASI_RETENTION_DAYS is {self.notifikasi_retention_days:g}; it must be at "
                               f"least {HANDLED_EVENTS_KEEP_DAYS} (handled events are remembered that long)")
        return timedelta(days=self.notifikasi_retention_days)

    @property
    def pelapor_retention(self):
        return timedelta(days=self.pelapor_retention_days)

    @property
    def send_timeout(self):
        """How long one send may take: a third of the lease, at most 10 seconds."""
        return min(10.0, self.notifikasi_lease_seconds / 3)

    @property
    def effective_mongo_uri(self):
        return self.mongo_uri or embedded_mongo_uri(self.embedded_db_port)

    def database_name(self, service):
        return f"{self.db_prefix}_{service}"

    @property
    def jwt_private_key_file(self):
        return Path(self.jwt_private_key_file_env or self.data_dir / PRIVATE_KEY)

    @property
    def jwt_public_keys_file(self):
        return Path(self.jwt_public_keys_file_env or self.data_dir / PUBLIC_KEYS)

    @property
    def service_public_keys_file(self):
        return Path(self.service_public_keys_file_env or self.data_dir / SERVICE_PUBLIC_KEYS)

    @property
    def service_keys_dir(self):
        """Where `make run` keeps each service's own key."""
        return self.data_dir / SERVICE_KEYS

    @property
    def altcha_key_file(self):
        """Where a gateway keeps the ALTCHA key it made, ALTCHA_HMAC_KEY being unset."""
        return self.data_dir / ALTCHA_KEY

    @property
    def web_key_file(self):
        """Where the web front-end keeps the session key it made, WEB_SECRET_KEY being unset."""
        return self.data_dir / WEB_KEY

    @property
    def web_session_file(self):
        """The console's session store on one machine, WEB_SESSION_STORAGE_URI being unset."""
        return self.data_dir / WEB_SESSIONS

    @property
    def portal_url(self):
        return self.portal_url_env or self.public_url

    @property
    def web_gateway_url(self):
        """The gateway the web front-end calls: WEB_GATEWAY_URL, or this machine's."""
        return self.web_gateway_url_env or f"http://127.0.0.1:{self.gateway_port}"

    def service_key_file(self, service):
        return Path(self.service_key_file_env or self.service_keys_dir / f"{service}.pem")

    def service_signing_key(self, service):
        """The key `service` signs the tokens it shows other services with."""
        from services.common.tokens import ServiceKeys
        return ServiceKeys.signing_key(service, _read_key(self.service_key_file(service), "SERVICE_KEY_FILE"))

    def service_keys(self):
        """The public keys of every service, by its name."""
        from services.common.tokens import ServiceKeys
        return ServiceKeys.from_json(_read_key(self.service_public_keys_file, "SERVICE_PUBLIC_KEYS_FILE"))

    @property
    def token_audience(self):
        from services.common.tokens import Audience
        return Audience(self.jwt_issuer, self.jwt_audience)

    def signing_key(self):
        """The key access tokens are signed with (akun, `bkpm token`)."""
        from services.common.tokens import SigningKey
        return SigningKey(_read_key(self.jwt_private_key_file, "JWT_PRIVATE_KEY_FILE"), self.token_audience)

    def verification_keys(self):
        """The public keys a token may be signed with (the gateway, every service)."""
        from services.common.tokens import KeySet
        return KeySet.from_bundle(_read_key(self.jwt_public_keys_file, "JWT_PUBLIC_KEYS_FILE"), self.token_audience)

    def identity_provider(self):
        """The region's identity provider whose tokens the gateway and every service accept too
        (an identity.IdentityProvider), or None when OIDC_ISSUER is unset; RuntimeError, naming
        the variable, when its settings cannot be right: the process does not start."""
        if not self.oidc_issuer:
            return None
        from services.common.access import KODE_WILAYAH_PATTERN
        from services.common.identity import IdentityProvider
        from services.common.tokens import ProviderKeys, secure_url
        if not self.oidc_audience:
            raise RuntimeError("OIDC_ISSUER is set but OIDC_AUDIENCE is not: set it to the `aud` the provider's "
                               "tokens for BKPM carry")
        if self.oidc_issuer == self.jwt_issuer:
            raise RuntimeError(f"OIDC_ISSUER is {self.oidc_issuer!r}, the platform's own issuer (JWT_ISSUER): "
                               "the provider's tokens must be told apart from the platform's")
        for variable, url in (("OIDC_ISSUER", self.oidc_issuer), ("OIDC_JWKS_URL", self.oidc_jwks_url)):
            if url is not None and not secure_url(url):
                raise RuntimeError(f"{variable} is {url!r}; it must be an https:// URL (http:// only to this machine): "
                                   "keys fetched over plain HTTP could be anyone's")
        if self.oidc_wilayah is not None and not re.fullmatch(KODE_WILAYAH_PATTERN, self.oidc_wilayah):
            raise RuntimeError(f"OIDC_WILAYAH is {self.oidc_wilayah!r}; it must be an area code such as 33 or 33.74")
        try:
            keys = ProviderKeys(self.oidc_issuer, self.oidc_audience, jwks_url=self.oidc_jwks_url,
                                algorithms=self.oidc_algorithms)
        except ValueError as exc:
            raise RuntimeError(f"OIDC_ALGORITHMS names {exc}") from None
        return IdentityProvider(keys, roles_claim=self.oidc_roles_claim, role_map=self.oidc_roles,
                                wilayah_claim=self.oidc_wilayah_claim, area=self.oidc_wilayah)

    @property
    def oidc_roles(self):
        """OIDC_ROLE_MAP as {their role: ours}, or None when unset (their names are ours)."""
        if self.oidc_role_map is None:
            return None
        from services.common.access import ROLES
        mapping = {}
        for pair in self.oidc_role_map.split(","):
            theirs, _, ours = (part.strip() for part in pair.partition("="))
            if not pair.strip():
                continue
            if not theirs or ours not in ROLES or theirs in mapping:
                raise RuntimeError(f"OIDC_ROLE_MAP has {pair.strip()!r}; it is comma-separated theirs=ours pairs, "
                                   f"each of their roles once, ours one of {', '.join(ROLES)}")
            mapping[theirs] = ours
        if not mapping:
            raise RuntimeError("OIDC_ROLE_MAP names no theirs=ours pair; leave it unset if their role names are ours")
        return mapping

    @property
    def access_token_seconds(self):
        from services.common.tokens import MAX_TTL_SECONDS
        seconds = self.access_token_minutes * 60
        if not 0 < seconds <= MAX_TTL_SECONDS:
            raise RuntimeError(f"ACCESS_TOKEN_MINUTES is {self.access_token_minutes}; it must be 1 to "
                               f"{MAX_TTL_SECONDS // 60}")
        return seconds


def _read_key(path, variable):
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RuntimeError(f"{path} does not exist; set {variable} or start the platform once with `make run`, "
                           "which generates the keys") from None


def embedded_mongo_uri(port):
    """How the platform speaks to the embedded SecantusDB on this machine: without retryable
    writes. SecantusDB keeps every retryable write's reply for 30 minutes and goes through all
    of them at each such write (past 10,000, sorting them), so writes grew several times dearer
    after a busy half hour (docs/benchmarks.md); and a single server on the same machine has
    no failover for them to ride out. A MongoDB named by MONGO_URI keeps the driver's default."""
    return f"mongodb://127.0.0.1:{port}/?retryWrites=false"


@functools.lru_cache(maxsize=1)
def _settings(environment):
    return Settings()


def settings():
    """The configuration from the environment. Services read it on hot paths (each commit,
    each call to another service), so it is built again only when the environment changed."""
    return _settings(frozenset(os.environ.items()))
