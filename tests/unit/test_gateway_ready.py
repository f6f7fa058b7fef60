"""/ready in-process: one client address may ask it only so often, and it answers only which
service is not ready, never an error's text. (tests/integration/test_gateway_outages.py checks
its time bound against hung services on the real broker.)"""
import pytest

from gateway.app import create_app
from gateway.rpc import RemoteFailure
from services.common.config import SERVICES
from services.common.errors import Unavailable
from tests.keys import PUBLIC_KEYS_FILE

SECRET = "mongodb://bkpm:kata-sandi@db-internal:27017"


class FakeRpc:
    """Services that answer a ping at once: `failures` maps a service to what it raises."""

    def __init__(self, failures=None):
        self.failures = failures or {}

    def call(self, service, method, *args, **kwargs):
        if service in self.failures:
            raise self.failures[service]
        return {"status": "ok"}


@pytest.fixture
def app(monkeypatch):
    for name, value in {"JWT_PUBLIC_KEYS_FILE": str(PUBLIC_KEYS_FILE), "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                        "RPC_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    app.extensions["rpc"] = FakeRpc()
    return app


def test_ready_is_rate_limited_per_client_address(app):
    client = app.test_client()
    answers = [client.get("/ready", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for _ in range(30)]
    assert answers[0] == 200 and 429 in answers
    other = app.test_client().get("/ready", environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 200


def test_ready_names_the_service_not_what_failed_in_it(app):
    app.extensions["rpc"] = FakeRpc({
        "bantuan": RemoteFailure("bantuan", {"exc_type": "ServerSelectionTimeoutError", "value": SECRET}),
        "akun": Unavailable(f"Basis data tidak menjawab: {SECRET}")})
    response = app.test_client().get("/ready", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert response.status_code == 503
    assert "kata-sandi" not in response.get_data(as_text=True)
    assert response.get_json()["checks"] == {service: "tidak_siap" if service in ("bantuan", "akun") else "ok"
                                             for service in SERVICES}
