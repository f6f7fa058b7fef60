"""Secrets: from the environment or a file (<NAME>_FILE), refused at start when they are a
placeholder of .env.example, too short, or missing where needed; the error names the variable
and never shows the secret."""
import re
from pathlib import Path

import pytest

from services.common.config import MIN_SECRET_LENGTH, PLACEHOLDERS, Settings

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("AMQP_URI", "MONGO_URI", "RATE_LIMIT_STORAGE_URI", "SMTP_USER", "SMTP_PASSWORD", "SMS_PROVIDER_URL",
           "SMS_PROVIDER_TOKEN", "WHATSAPP_PROVIDER_URL", "WHATSAPP_PROVIDER_TOKEN")
GOOD = "rahasia-yang-panjang-sekali"


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    return monkeypatch


def refused(match):
    """The platform does not start: the error names what is wrong."""
    with pytest.raises(RuntimeError, match=match) as error:
        Settings()
    return str(error.value)


def test_every_placeholder_of_env_example_is_known():
    placeholders = set(re.findall(r"^#?\s*[A-Z_]+=(ganti-[^\s#]+)", (ROOT / ".env.example").read_text(), re.M))
    assert placeholders and placeholders <= PLACEHOLDERS


def test_a_newcomers_local_broker_and_embedded_database_need_no_secret(no_secrets):
    config = Settings()
    assert (config.amqp_uri, config.mongo_uri) == ("amqp://guest:guest@127.0.0.1:5672/", None)
    for variable, uri in (("AMQP_URI", "amqp://guest:guest@localhost:5672/bkpm"), ("AMQP_URI", "amqp://[::1]/"),
                          ("MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false")):
        no_secrets.setenv(variable, uri)
        assert getattr(Settings(), variable.lower()) == uri


@pytest.mark.parametrize("uri", ["amqp://guest:guest@rabbitmq:5672/bkpm", "amqp://rabbitmq.contoh.go.id/"])
def test_rabbitmqs_guest_user_on_another_machine_is_refused(no_secrets, uri):
    no_secrets.setenv("AMQP_URI", uri)
    refused("AMQP_URI logs in as RabbitMQ's guest user to another machine")


@pytest.mark.parametrize("variable,uri", [
    ("AMQP_URI", "amqp://bkpm:{}@rabbitmq:5672/bkpm"),
    ("MONGO_URI", "mongodb://bkpm:{}@mongodb:27017/?authSource=admin&replicaSet=rs0"),
    ("RATE_LIMIT_STORAGE_URI", "redis://:{}@redis:6379"),
])
@pytest.mark.parametrize("password,why", [
    ("ganti-kata-sandi-rabbitmq", "still the placeholder of .env.example"),
    ("ganti-kata-sandi-mongodb", "still the placeholder of .env.example"),
    ("pendek", f"has 6 characters; a secret needs at least {MIN_SECRET_LENGTH}"),
])
def test_a_password_in_a_uri_that_is_a_placeholder_or_short_is_refused_unshown(no_secrets, variable, uri, password,
                                                                                why):
    no_secrets.setenv(variable, uri.format(password))
    message = refused(f"the password in {variable} (is|has)")
    assert why in message and password not in message
    no_secrets.setenv(variable, uri.format(GOOD))
    assert Settings()


def test_a_broker_user_without_a_password_is_refused(no_secrets):
    no_secrets.setenv("AMQP_URI", "amqp://bkpm@rabbitmq:5672/bkpm")
    refused("the password in AMQP_URI is not set")


def test_a_database_on_another_machine_needs_a_login(no_secrets):
    no_secrets.setenv("MONGO_URI", "mongodb://mongodb:27017/?replicaSet=rs0")
    refused("MONGO_URI names no user for a database on another machine")
    no_secrets.setenv("MONGO_URI", "mongodb://mongodb:27017/?authMechanism=MONGODB-X509&tls=true")
    assert Settings()


@pytest.mark.parametrize("needs,secret", [("SMTP_USER", "SMTP_PASSWORD"), ("SMS_PROVIDER_URL", "SMS_PROVIDER_TOKEN"),
                                          ("WHATSAPP_PROVIDER_URL", "WHATSAPP_PROVIDER_TOKEN")])
def test_a_credential_is_needed_with_what_uses_it_and_must_be_long_enough(no_secrets, needs, secret):
    no_secrets.setenv(needs, "https://penyedia.contoh.id/kirim" if needs.endswith("URL") else "bkpm")
    refused(f"{secret} is not set")
    no_secrets.setenv(secret, "token-uji")
    message = refused(f"{secret} has 9 characters")
    assert "token-uji" not in message
    no_secrets.setenv(secret, GOOD)
    assert getattr(Settings(), secret.lower()) == GOOD


def test_a_secret_comes_from_the_file_its_file_variable_names(no_secrets, tmp_path):
    (tmp_path / "smtp").write_text(f"{GOOD}\n")  # as `echo` and most editors write it
    (tmp_path / "amqp").write_text(f"amqp://bkpm:{GOOD}@rabbitmq:5672/bkpm\n")
    no_secrets.setenv("SMTP_USER", "bkpm")
    no_secrets.setenv("SMTP_PASSWORD_FILE", str(tmp_path / "smtp"))
    no_secrets.setenv("AMQP_URI_FILE", str(tmp_path / "amqp"))
    config = Settings()
    assert (config.smtp_password, config.amqp_uri) == (GOOD, f"amqp://bkpm:{GOOD}@rabbitmq:5672/bkpm")
    (tmp_path / "smtp").write_text("ganti-kata-sandi-rabbitmq\n")
    refused("SMTP_PASSWORD is still the placeholder")


def test_a_secret_set_twice_or_in_a_file_that_cannot_be_read_is_refused(no_secrets, tmp_path):
    no_secrets.setenv("SMS_PROVIDER_TOKEN_FILE", str(tmp_path / "tidak-ada"))
    refused(f"SMS_PROVIDER_TOKEN_FILE names '{tmp_path / 'tidak-ada'}', which is not a readable file")
    no_secrets.setenv("SMS_PROVIDER_TOKEN", GOOD)
    refused("SMS_PROVIDER_TOKEN and SMS_PROVIDER_TOKEN_FILE are both set")
