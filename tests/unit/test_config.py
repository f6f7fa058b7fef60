"""Configuration from the environment."""
import pytest

from services.common.config import Settings, settings
from services.common.keys import ensure_key_pair


def test_defaults_point_at_a_local_platform(monkeypatch):
    for name in ("AMQP_URI", "MONGO_URI", "BKPM_DB_PORT", "BKPM_DB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    config = Settings()
    assert config.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"
    assert config.effective_mongo_uri == "mongodb://127.0.0.1:27017/?retryWrites=false"
    assert config.database_name("organisasi") == "bkpm_organisasi"


def test_the_keys_make_run_generates_are_used_when_none_are_named(monkeypatch, tmp_path):
    for name in ("JWT_PRIVATE_KEY_FILE", "JWT_PUBLIC_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="make run"):
        Settings().signing_key()
    assert ensure_key_pair(tmp_path / "jwt-private.pem", tmp_path / "jwt-public.pem")
    assert not ensure_key_pair(tmp_path / "jwt-private.pem", tmp_path / "jwt-public.pem")  # kept, not replaced
    assert (tmp_path / "jwt-private.pem").stat().st_mode & 0o077 == 0
    config = Settings()
    token = config.signing_key().issue("penguji", ["admin"])
    assert config.verification_keys().verify(token)["sub"] == "penguji"


def test_an_access_token_lives_at_most_15_minutes(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "16")
    with pytest.raises(RuntimeError, match="ACCESS_TOKEN_MINUTES"):
        _ = Settings().access_token_seconds
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "5")
    assert Settings().access_token_seconds == 300


OIDC = ("OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL", "OIDC_ROLES_CLAIM", "OIDC_ROLE_MAP", "OIDC_WILAYAH_CLAIM",
        "OIDC_ALGORITHMS", "OIDC_WILAYAH")


@pytest.fixture
def oidc(monkeypatch):
    """A region's identity provider, configured as the operations guide says."""
    for name in OIDC:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OIDC_ISSUER", "https://sso.jateng.go.id/realms/polri")
    monkeypatch.setenv("OIDC_AUDIENCE", "bkpm")
    return monkeypatch


def test_no_identity_provider_unless_oidc_issuer_is_set(oidc):
    oidc.delenv("OIDC_ISSUER")
    assert Settings().identity_provider() is None


def test_an_identity_provider_as_configured(oidc):
    oidc.setenv("OIDC_ROLES_CLAIM", "realm_access.roles")
    oidc.setenv("OIDC_ROLE_MAP", "bkpm-admin=admin, bkpm-petugas=petugas")
    provider = Settings().identity_provider()
    assert (provider.issuer, provider.keys.audience, provider.keys.algorithms) == (
        "https://sso.jateng.go.id/realms/polri", "bkpm", ("RS256", "ES256"))
    assert (provider.roles_claim, provider.wilayah_claim) == ("realm_access.roles", "wilayah")
    assert provider.role_map == {"bkpm-admin": "admin", "bkpm-petugas": "petugas"}
    assert provider.area is None
    oidc.setenv("OIDC_WILAYAH", "33")
    assert Settings().identity_provider().area == "33"


def test_an_identity_provider_without_its_audience_is_refused(oidc):
    oidc.delenv("OIDC_AUDIENCE")
    with pytest.raises(RuntimeError, match="OIDC_AUDIENCE"):
        Settings().identity_provider()


@pytest.mark.parametrize("algorithms", ["RS256,HS256", "none", "ES256,HS512"])
def test_an_identity_provider_verified_with_a_secret_or_nothing_is_refused(oidc, algorithms):
    oidc.setenv("OIDC_ALGORITHMS", algorithms)
    with pytest.raises(RuntimeError, match="OIDC_ALGORITHMS names (HS256|none|HS512)"):
        Settings().identity_provider()


@pytest.mark.parametrize("variable,value", [
    ("OIDC_ROLE_MAP", "bkpm-admin=superuser"), ("OIDC_ROLE_MAP", "bkpm-admin"), ("OIDC_ROLE_MAP", " , "),
    ("OIDC_ISSUER", "http://sso.jateng.go.id/realms/polri"), ("OIDC_JWKS_URL", "http://10.0.0.5/certs"),
    ("OIDC_ISSUER", "bkpm"), ("OIDC_WILAYAH", "Jawa Tengah")])
def test_an_identity_provider_configured_wrongly_is_refused_naming_the_variable(oidc, variable, value):
    oidc.setenv(variable, value)
    with pytest.raises(RuntimeError, match=variable):
        Settings().identity_provider()


@pytest.mark.parametrize("variable,value,expected", [
    ("GATEWAY_PORT", "abc", "GATEWAY_PORT must be an integer from 1 to 65535 (was 'abc')"),
    ("METRICS_PORT", "70000", "METRICS_PORT must be an integer from 1 to 65535 (was '70000')"),
    ("GATEWAY_WORKERS", "0", "GATEWAY_WORKERS must be an integer of 1 or more (was '0')"),
    ("RPC_TIMEOUT", "lima", "RPC_TIMEOUT must be a number of 0 or more (was 'lima')"),
    ("NOTIFIKASI_RETENTION_DAYS", "-1", "NOTIFIKASI_RETENTION_DAYS must be a number of 0 or more (was '-1')"),
    ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (was 'verbose')"),
    ("WEBHOOK_BLOCKED_NETWORKS", "10.0.0.0/33", "WEBHOOK_BLOCKED_NETWORKS must be comma-separated networks"),
    ("SMTP_TLS", "on", "SMTP_TLS must be starttls, tls or none"),
])
def test_a_value_not_of_its_form_stops_the_start_naming_the_variable_and_the_form(monkeypatch, variable, value,
                                                                                 expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(RuntimeError) as refused:
        settings()
    assert str(refused.value).startswith(expected)


def test_an_empty_variable_is_unset_as_compose_passes_one_left_blank(monkeypatch):
    for name in ("GATEWAY_PORT", "SMTP_USER", "LOG_LEVEL"):
        monkeypatch.setenv(name, "")
    config = Settings()
    assert (config.gateway_port, config.smtp_user, config.log_level) == (8000, None, "INFO")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings().log_level == "DEBUG"


@pytest.mark.parametrize("value,meaning", [
    ("starttls", "starttls"), ("TLS", "tls"), ("none", "none"),
    # Its old boolean spellings keep what they meant, now with the server verified.
    ("true", "starttls"), ("Yes", "starttls"), ("1", "starttls"), ("FALSE", "none"), ("no", "none"), ("0", "none")])
def test_smtp_tls_names_how_email_reaches_the_server(monkeypatch, value, meaning):
    monkeypatch.setenv("SMTP_HOST", "smtp.contoh.go.id")
    monkeypatch.setenv("SMTP_TLS", value)
    assert Settings().smtp_tls == meaning


@pytest.mark.parametrize("host,meaning", [("smtp.contoh.go.id", "starttls"), ("10.0.0.5", "starttls"),
                                          ("127.0.0.1", "none"), ("localhost", "none"), ("::1", "none")])
def test_unset_smtp_tls_verifies_a_server_elsewhere_and_spares_one_on_this_machine(monkeypatch, host, meaning):
    monkeypatch.delenv("SMTP_TLS", raising=False)
    monkeypatch.setenv("SMTP_HOST", host)
    assert Settings().smtp_tls == meaning


def test_unencrypted_email_to_another_machine_is_warned_about_at_start(monkeypatch, caplog):
    monkeypatch.setenv("SMTP_TLS", "none")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    Settings()
    assert not caplog.records
    monkeypatch.setenv("SMTP_HOST", "smtp.contoh.go.id")
    Settings()
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "SMTP_TLS is none" in caplog.records[0].getMessage()


def test_a_ca_file_that_cannot_be_read_stops_the_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SMTP_CA_FILE", str(tmp_path / "tidak-ada.pem"))
    with pytest.raises(RuntimeError, match="SMTP_CA_FILE names"):
        Settings()
    (tmp_path / "bukan.pem").write_text("bukan sertifikat\n")
    monkeypatch.setenv("SMTP_CA_FILE", str(tmp_path / "bukan.pem"))
    with pytest.raises(RuntimeError, match="SMTP_CA_FILE names"):
        Settings()
