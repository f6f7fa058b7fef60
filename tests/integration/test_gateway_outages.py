"""When a service is down the gateway answers 503 problem+json in time, and a write it refused
is not carried out later by a service that comes back."""
import json
import time

import pika
import pytest

from gateway.app import create_app
from services.common.config import SERVICES, embedded_mongo_uri
from services.stack import start_database, stop, wait_for
from tests.support import restartable_port, start_service, token_for


@pytest.fixture
def client(isolated, monkeypatch):
    env, db = isolated
    for name in ("AMQP_URI", "MONGO_URI", "JWT_PUBLIC_KEYS_FILE", "BKPM_DB_PREFIX"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("RPC_TIMEOUT", "1")
    app = create_app()
    headers = {"Authorization": f"Bearer {token_for(env)}"}
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


def test_hung_services_keep_ready_within_its_bound_and_it_names_no_failure(client, isolated):
    """Three services take their calls and never answer (a queue bound to their RPC routing keys
    that nobody reads); asked one after the other, they held /ready for three timeouts."""
    env, _ = isolated
    http, _ = client
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    try:
        channel = connection.channel()
        channel.exchange_declare("nameko-rpc", exchange_type="topic", durable=True)
        hung = channel.queue_declare("", exclusive=True).method.queue
        for service in ("organisasi", "kegiatan", "akun"):
            channel.queue_bind(hung, "nameko-rpc", routing_key=f"{service}.*")
        started = time.monotonic()
        ready = http.get("/ready")
        assert time.monotonic() - started < 3  # the bound is 2 s for all of them together
    finally:
        connection.close()
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {service: "tidak_menjawab" for service in SERVICES}


def test_a_stopped_service_is_503_and_the_refused_write_never_happens(client, isolated, logs):
    env, db = isolated
    http, headers = client
    service = start_service("organisasi", env, logs)
    assert http.get("/api/v1/units", headers=headers).status_code == 200
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


def test_a_write_that_arrives_after_its_deadline_changes_nothing(isolated, logs):
    """A request can sit in the queue or be redelivered after a crash; the service must not
    commit it once the caller has stopped waiting."""
    env, db = isolated
    service = start_service("organisasi", env, logs)
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    try:
        channel = connection.channel()
        reply_queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(reply_queue, "nameko-rpc", routing_key=reply_queue)
        body = json.dumps({"args": [token_for(env), {"tingkat": "nasional"}], "kwargs": {}})
        channel.basic_publish("nameko-rpc", "organisasi.bentuk_unit", body, pika.BasicProperties(
            reply_to=reply_queue, correlation_id="c1", content_type="application/json",
            headers={"nameko.deadline": int((time.time() - 1) * 1000)}))
        _, _, payload = next(channel.consume(reply_queue, auto_ack=True, inactivity_timeout=10))
        reply = json.loads(payload) if payload else None
        assert reply is not None and reply["error"]["exc_type"] == "Unavailable"
        assert db.units.count_documents({}) == 0 and db.outbox.count_documents({"event.type": "unit.dibentuk"}) == 0
    finally:
        connection.close()
        service.stop()


def test_a_database_outage_is_503_and_recovers_without_restarts(isolated, logs, tmp_path, monkeypatch):
    env, _ = isolated
    port = restartable_port()
    database = start_database(tmp_path / "db", port)
    env = {**env, "MONGO_URI": embedded_mongo_uri(port)}
    for name in ("AMQP_URI", "MONGO_URI", "JWT_PUBLIC_KEYS_FILE", "BKPM_DB_PREFIX"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("RPC_TIMEOUT", "8")
    http = create_app().test_client()
    headers = {"Authorization": f"Bearer {token_for(env)}"}
    service = start_service("organisasi", env, logs)
    try:
        assert http.get("/api/v1/units", headers=headers).status_code == 200
        stop([database])
        down = http.get("/api/v1/units", headers=headers)
        assert down.status_code == 503, down.get_data(as_text=True)
        assert "basis data" in down.get_json()["detail"].lower()
        database = start_database(tmp_path / "db", port)
        wait_for(lambda: http.get("/api/v1/units", headers=headers).status_code == 200, "recovery", 30)
    finally:
        service.stop()
        stop([database])
