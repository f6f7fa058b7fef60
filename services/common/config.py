"""Configuration from environment variables: the one place that reads them (12-factor).

Framework-free core: every part of the platform may import it."""
import functools
import ipaddress
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


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


@dataclass(frozen=True)
class Settings:
    amqp_uri: str = field(default_factory=lambda: _env("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    # Unset means "use the embedded SecantusDB that `make run` starts".
    mongo_uri: str | None = field(default_factory=lambda: _env("MONGO_URI"))
    data_dir: Path = field(default_factory=lambda: Path(_env("BKPM_DATA_DIR", "./var")).resolve())
    embedded_db_port: int = field(default_factory=lambda: int(_env("BKPM_DB_PORT", "27017")))
    db_prefix: str = field(default_factory=lambda: _env("BKPM_DB_PREFIX", "bkpm"))
    gateway_port: int = field(default_factory=lambda: int(_env("GATEWAY_PORT", "8000")))
    gateway_workers: int = field(default_factory=lambda: int(_env("GATEWAY_WORKERS", "2")))
    gateway_threads: int = field(default_factory=lambda: int(_env("GATEWAY_THREADS", "8")))
    rpc_timeout: float = field(default_factory=lambda: float(_env("RPC_TIMEOUT", "5")))
    # How long a gateway worker keeps a read's answer, and a service another service's answer to
    # a lookup, at most (services/common/cache.py: any change in the owning service forgets it
    # sooner); 0 turns that cache off.
    gateway_cache_seconds: float = field(default_factory=lambda: float(_env("GATEWAY_CACHE_SECONDS", "30")))
    service_cache_seconds: float = field(default_factory=lambda: float(_env("SERVICE_CACHE_SECONDS", "30")))
    # Anonymous aspirations per client address (flask-limiter notation); counters live in
    # memory per gateway worker unless RATE_LIMIT_STORAGE_URI points at shared storage.
    aspirasi_rate_limit: str = field(default_factory=lambda: _env("ASPIRASI_RATE_LIMIT", "10 per minute"))
    # Survey answers need a code each already; the limit only slows guessing.
    survei_rate_limit: str = field(default_factory=lambda: _env("SURVEI_RATE_LIMIT", "60 per minute"))
    # Logins per client address, on top of akun's lockout per username: it slows one address
    # trying many usernames.
    login_rate_limit: str = field(default_factory=lambda: _env("LOGIN_RATE_LIMIT", "30 per minute"))
    rate_limit_storage_uri: str = field(default_factory=lambda: _env("RATE_LIMIT_STORAGE_URI", "memory://"))
    # Reverse proxies in front of the gateway whose X-Forwarded-For is trusted.
    trusted_proxies: int = field(default_factory=lambda: int(_env("TRUSTED_PROXIES", "0")))
    # Access tokens (services/common/tokens.py): ES256, signed with the private key only akun
    # and `bkpm token` read; verified by the gateway and every service with the bundle of public
    # keys (one or more PEM keys in one file: the current one and, while the key changes, the
    # previous one). `make run` generates both under BKPM_DATA_DIR.
    jwt_private_key_file_env: str | None = field(default_factory=lambda: _env("JWT_PRIVATE_KEY_FILE"))
    jwt_public_keys_file_env: str | None = field(default_factory=lambda: _env("JWT_PUBLIC_KEYS_FILE"))
    # The keys services sign the tokens they show each other with: SERVICE_PUBLIC_KEYS_FILE maps
    # each service's name to its public key (JSON); a service's own private key is
    # SERVICE_KEY_FILE. `make run` generates them under BKPM_DATA_DIR.
    service_public_keys_file_env: str | None = field(default_factory=lambda: _env("SERVICE_PUBLIC_KEYS_FILE"))
    service_key_file_env: str | None = field(default_factory=lambda: _env("SERVICE_KEY_FILE"))
    jwt_issuer: str = field(default_factory=lambda: _env("JWT_ISSUER", "bkpm"))
    jwt_audience: str = field(default_factory=lambda: _env("JWT_AUDIENCE", "bkpm-api"))
    # A region's own OpenID Connect provider whose tokens are accepted beside the platform's
    # (services/common/identity.py, docs/operations.md "Connecting an identity provider"); unset
    # OIDC_ISSUER: none. Its keys come from OIDC_JWKS_URL, or from the `jwks_uri` of its discovery
    # document; roles and area are read at dotted paths into its claims, roles renamed by
    # OIDC_ROLE_MAP (`theirs=ours,...`).
    oidc_issuer: str | None = field(default_factory=lambda: _env("OIDC_ISSUER"))
    oidc_audience: str | None = field(default_factory=lambda: _env("OIDC_AUDIENCE"))
    oidc_jwks_url: str | None = field(default_factory=lambda: _env("OIDC_JWKS_URL"))
    oidc_roles_claim: str = field(default_factory=lambda: _env("OIDC_ROLES_CLAIM", "roles"))
    oidc_role_map: str | None = field(default_factory=lambda: _env("OIDC_ROLE_MAP"))
    oidc_wilayah_claim: str = field(default_factory=lambda: _env("OIDC_WILAYAH_CLAIM", "wilayah"))
    # The region a provider serves (a kode wilayah): its tokens act within it only. Unset: national.
    oidc_wilayah: str | None = field(default_factory=lambda: _env("OIDC_WILAYAH"))
    oidc_algorithms: tuple = field(default_factory=lambda: tuple(
        name.strip() for name in _env("OIDC_ALGORITHMS", "RS256,ES256").split(",") if name.strip()))
    # Accounts and logins (akun): how long an access token and a login (its refresh tokens) live,
    # how many failed logins of one username within LOGIN_LOCK_MINUTES lock it for the rest of
    # that time, and the roles that log in with a one-time code too.
    access_token_minutes: int = field(default_factory=lambda: int(_env("ACCESS_TOKEN_MINUTES", "15")))
    refresh_token_days: int = field(default_factory=lambda: int(_env("REFRESH_TOKEN_DAYS", "14")))
    login_max_failures: int = field(default_factory=lambda: int(_env("LOGIN_MAX_FAILURES", "5")))
    login_lock_minutes: int = field(default_factory=lambda: int(_env("LOGIN_LOCK_MINUTES", "15")))
    otp_roles: tuple = field(default_factory=lambda: tuple(
        role.strip() for role in _env("OTP_ROLES", "admin").split(",") if role.strip()))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    # Event handler failures: how often a message is retried, and the first pause between
    # tries (doubling): six tries from one second ride out a service's restart (~30 s).
    event_max_attempts: int = field(default_factory=lambda: int(_env("EVENT_MAX_ATTEMPTS", "6")))
    event_retry_delay_ms: int = field(default_factory=lambda: int(_env("EVENT_RETRY_DELAY_MS", "1000")))
    outbox_poll_seconds: float = field(default_factory=lambda: float(_env("OUTBOX_POLL_SECONDS", "1")))
    # How long published events stay in the event log late subscribers catch up from; unset
    # keeps them forever.
    event_log_retention_days: float | None = field(default_factory=lambda: (
        float(_env("EVENT_LOG_RETENTION_DAYS")) if _env("EVENT_LOG_RETENTION_DAYS") else None))
    # kegiatan: how often late aspirations are looked for; public holidays (ISO dates, comma
    # separated) that are not working days for the SP4N-LAPOR! deadlines.
    aspirasi_check_seconds: float = field(default_factory=lambda: float(_env("ASPIRASI_CHECK_SECONDS", "60")))
    hari_libur: str = field(default_factory=lambda: _env("HARI_LIBUR", ""))
    # notifikasi: the SMTP server email goes out through, and where operators keep their own
    # wording of the templates (files there take precedence over the built-in ones).
    smtp_host: str = field(default_factory=lambda: _env("SMTP_HOST", "127.0.0.1"))
    smtp_port: int = field(default_factory=lambda: int(_env("SMTP_PORT", "25")))
    smtp_user: str | None = field(default_factory=lambda: _env("SMTP_USER"))
    smtp_password: str | None = field(default_factory=lambda: _env("SMTP_PASSWORD"))
    smtp_from: str = field(default_factory=lambda: _env("SMTP_FROM", "BKPM <noreply@bkpm.localhost>"))
    smtp_tls: bool = field(default_factory=lambda: _env("SMTP_TLS", "false").lower() in ("1", "true", "yes"))
    template_dir: str | None = field(default_factory=lambda: _env("NOTIFIKASI_TEMPLATE_DIR"))
    # The gateway's address as people reach it (behind the proxy), for the links in messages
    # (an email's opt-out link); unset: messages carry none.
    public_url: str | None = field(default_factory=lambda: (_env("PUBLIC_URL") or "").rstrip("/") or None)
    # SMS and WhatsApp go through HTTP providers speaking the generic JSON webhook of
    # docs/notifikasi-providers.md; a channel without a URL is not used.
    sms_provider_url: str | None = field(default_factory=lambda: _env("SMS_PROVIDER_URL"))
    sms_provider_token: str | None = field(default_factory=lambda: _env("SMS_PROVIDER_TOKEN"))
    whatsapp_provider_url: str | None = field(default_factory=lambda: _env("WHATSAPP_PROVIDER_URL"))
    whatsapp_provider_token: str | None = field(default_factory=lambda: _env("WHATSAPP_PROVIDER_TOKEN"))
    # notifikasi retries each message on its own: a temporary failure waits BASE seconds, then
    # twice as long each time up to CAP, and after MAX_ATTEMPTS tries the next channel takes
    # over. Due retries are looked for every POLL seconds; a message being sent is held for
    # LEASE seconds (a send times out well within it), after which a crashed sender's message
    # is taken up again.
    notifikasi_retry_base_seconds: float = field(
        default_factory=lambda: float(_env("NOTIFIKASI_RETRY_BASE_SECONDS", "30")))
    notifikasi_retry_cap_seconds: float = field(
        default_factory=lambda: float(_env("NOTIFIKASI_RETRY_CAP_SECONDS", "3600")))
    notifikasi_max_attempts: int = field(default_factory=lambda: int(_env("NOTIFIKASI_MAX_ATTEMPTS", "8")))
    notifikasi_poll_seconds: float = field(default_factory=lambda: float(_env("NOTIFIKASI_POLL_SECONDS", "1")))
    notifikasi_lease_seconds: float = field(default_factory=lambda: float(_env("NOTIFIKASI_LEASE_SECONDS", "60")))
    # How long notifikasi keeps a message: settled deliveries (they hold people's addresses) and
    # inbox messages older than this are forgotten (docs/operations.md, "Retention").
    notifikasi_retention_days: float = field(
        default_factory=lambda: float(_env("NOTIFIKASI_RETENTION_DAYS", "365")))
    # Networks webhooks may not point into (comma separated): loopback, link-local (cloud
    # metadata) and the private ranges the platform's own containers live in. A region whose
    # receiving systems are on its intranet lists just the ranges to keep out.
    webhook_blocked_networks: tuple = field(default_factory=lambda: tuple(
        ipaddress.ip_network(network.strip()) for network in _env(
            "WEBHOOK_BLOCKED_NETWORKS", "127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,10.0.0.0/8,"
                                        "172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7").split(",")
        if network.strip()))
    # Where a service process, or the gateway's metrics process, serves Prometheus metrics; unset: none.
    metrics_port: int | None = field(
        default_factory=lambda: int(_env("METRICS_PORT")) if _env("METRICS_PORT") else None)
    # Calls from one service to another give up after this many seconds.
    service_call_timeout: float = field(default_factory=lambda: float(_env("SERVICE_CALL_TIMEOUT", "3")))
    # Fault injection for the crash tests only: the named point makes the process exit at once.
    fault_crash_point: str | None = field(default_factory=lambda: _env("BKPM_FAULT_CRASH"))

    @property
    def notifikasi_retention(self):
        """NOTIFIKASI_RETENTION_DAYS as a timedelta; refused when shorter than the time a delivery
        must be remembered so that the same event, delivered again, is not sent twice."""
        if self.notifikasi_retention_days < HANDLED_EVENTS_KEEP_DAYS:
            raise RuntimeError(f"NOTIFIKASI_RETENTION_DAYS is {self.notifikasi_retention_days:g}; it must be at "
                               f"least {HANDLED_EVENTS_KEEP_DAYS} (handled events are remembered that long)")
        return timedelta(days=self.notifikasi_retention_days)

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
        if self.oidc_wilayah is not None and not re.match(KODE_WILAYAH_PATTERN, self.oidc_wilayah):
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
