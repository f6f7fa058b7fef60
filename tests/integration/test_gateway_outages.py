"""When a service is down the gateway answers 503 problem+json in time, and a write it refused
is not carried out later by a service that comes back."""
import time

import pytest

from gateway.app import create_app
from gateway.auth import issue_token
from tests.support import start_service


@pytest.fixture
def client(isolated, monkeypatch):
    env, db = isolated
    for name in ("AMQP_URI", "MONGO_URI", "JWT_SECRET", "BKPM_DB_PREFIX"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("RPC_TIMEOUT", "1")
    app = create_app()
    headers = {"Authorization": f"Bearer {issue_token(env['JWT_SECRET'], 'penguji', ['admin'])}"}
    return app.test_client(), headers


def test_a_service_never_started_is_503_at_once(client):
    http, headers = client
    started = time.monotonic()
    response = http.get("/api/v1/units", headers=headers)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "layanan_tidak_tersedia"
    assert time.monotonic() - started < 1
    ready = http.get("/ready")
    assert ready.status_code == 503 and ready.get_json()["checks"]["organisasi"] != "ok"


def test_a_stopped_service_is_503_and_the_refused_write_never_happens(client, isolated, logs):
    env, db = isolated
    http, headers = client
    service = start_service("organisasi", env, logs)
    assert http.get("/ready").status_code == 200
    service.stop()

    started = time.monotonic()
    refused = http.post("/api/v1/units", headers=headers, json={"tingkat": "nasional"})
    assert refused.status_code == 503 and refused.get_json()["code"] == "layanan_tidak_tersedia"
    assert time.monotonic() - started < 3  # RPC_TIMEOUT is 1 s: an answer, never a hang

    service = start_service("organisasi", env, logs)
    try:
        time.sleep(1)
        assert db.units.count_documents({}) == 0, "the refused request expired instead of running late"
        created = http.post("/api/v1/units", headers=headers, json={"tingkat": "nasional"})
        assert created.status_code == 201, created.get_data(as_text=True)
    finally:
        service.stop()
