"""Configuration from the environment."""
import pytest

from services.common.config import Settings
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
