"""Configuration from the environment."""
import pytest

from services.common.config import MIN_JWT_SECRET_LENGTH, Settings


def test_defaults_point_at_a_local_platform(monkeypatch):
    for name in ("AMQP_URI", "MONGO_URI", "BKPM_DB_PORT", "BKPM_DB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    config = Settings()
    assert config.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"
    assert config.effective_mongo_uri == "mongodb://127.0.0.1:27017/?retryWrites=false"
    assert config.database_name("organisasi") == "bkpm_organisasi"


def test_a_short_jwt_secret_is_refused(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "x" * (MIN_JWT_SECRET_LENGTH - 1))
    with pytest.raises(RuntimeError, match="shorter than"):
        _ = Settings().jwt_secret


def test_the_previous_jwt_secret_is_accepted_after_the_current_one_and_must_be_long_too(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "n" * MIN_JWT_SECRET_LENGTH)
    monkeypatch.delenv("JWT_SECRET_PREVIOUS", raising=False)
    assert Settings().jwt_secrets == ("n" * MIN_JWT_SECRET_LENGTH,)
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", "p" * MIN_JWT_SECRET_LENGTH)
    assert Settings().jwt_secrets == ("n" * MIN_JWT_SECRET_LENGTH, "p" * MIN_JWT_SECRET_LENGTH)
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", "p" * (MIN_JWT_SECRET_LENGTH - 1))
    with pytest.raises(RuntimeError, match="JWT_SECRET_PREVIOUS is shorter"):
        _ = Settings().jwt_secrets


def test_the_generated_secret_is_used_when_none_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="make run"):
        _ = Settings().jwt_secret
    (tmp_path / "jwt-secret").write_text("s" * 64 + "\n")
    assert Settings().jwt_secret == "s" * 64
