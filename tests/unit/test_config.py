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
