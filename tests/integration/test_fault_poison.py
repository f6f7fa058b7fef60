"""Fault suite: a poison message on every consumer queue of the platform is dead-lettered with
its reason, and every consumer goes on consuming. The queues are found from the services' own
handlers, so a handler added later is covered without touching this test."""
import inspect
import json
import subprocess
import time
import uuid

import pika
import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.consumer import ReliableEventHandler
from services.common.deadletters import ERROR_HEADER
from services.common.events import new_event
from services.notifikasi.service import NotifikasiService
from tests.support import form_units

SERVICE_CLASSES = (NotifikasiService,)  # the services that consume events


def consumer_queues():
    """`evt-<source>-<type>--<service>.<method>` of every reliable event handler."""
    queues = []
    for service in SERVICE_CLASSES:
        for method, member in inspect.getmembers(service):
            for extension in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(extension, ReliableEventHandler):
                    queues.append(f"evt-{extension.source_service}-{extension.event_type}--{service.name}.{method}")
    return sorted(queues)


POISONS = {
    "not-json": (b"\xff\xfe ini bukan JSON {", "application/json"),
    "not-an-event": (json.dumps({"halo": "dunia"}).encode(), "application/json"),
    # A valid envelope whose data no handler can use: the handler fails on every try.
    "wrong-data": (None, "application/cloudevents+json"),
}


def queue_stats(env, vhost):
    listing = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost.name, "name", "messages", "consumers"],
                             capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in listing.strip().splitlines()[1:]]
    return {name: (int(messages), int(consumers)) for name, messages, consumers in rows}


@pytest.fixture(scope="module")
def poisoned(env, vhost, gateway):
    """Every poison into every consumer queue, straight through the default exchange."""
    marker = uuid.uuid4().hex[:8]
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    channel = connection.channel()
    channel.confirm_delivery()
    for queue in consumer_queues():
        for kind, (body, content_type) in POISONS.items():
            if body is None:
                event = new_event("uji", queue.split("--")[0].split("-", 2)[2].replace("#", "x.y"), "racun", {})
                body = json.dumps(event).encode()
            channel.basic_publish("", queue, body, pika.BasicProperties(
                content_type=content_type, delivery_mode=2, message_id=f"racun-{marker}-{kind}"))
    connection.close()
    return marker


def dead_letters(env, queue, marker):
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    channel = connection.channel()
    found, kept = {}, []
    while True:
        method, properties, body = channel.basic_get(f"{queue}.dlq")
        if method is None:
            break
        if (properties.message_id or "").startswith(f"racun-{marker}-"):
            found[properties.message_id.removeprefix(f"racun-{marker}-")] = properties.headers[ERROR_HEADER]
            channel.basic_ack(method.delivery_tag)
        else:
            kept.append(method.delivery_tag)
    for tag in kept:
        channel.basic_nack(tag, requeue=True)  # other tests' dead letters stay
    connection.close()
    return found


def test_every_consumer_queue_exists(env, vhost, gateway):
    queues = queue_stats(env, vhost)
    assert consumer_queues() and all(queue in queues for queue in consumer_queues()), consumer_queues()


@pytest.mark.parametrize("queue", consumer_queues())
def test_poison_is_dead_lettered_with_its_reason(env, poisoned, queue):
    # A handler of every event ('#', the webhooks' forwarder) takes any valid event: only what
    # is no event at all is poison to it.
    expected = {"not-json", "not-an-event"} if "-#--" in queue else set(POISONS)
    deadline, found = time.monotonic() + 30, {}
    while time.monotonic() < deadline and set(found) != expected:
        found.update(dead_letters(env, queue, poisoned))
        time.sleep(0.3)
    assert set(found) == expected, found
    assert "tidak dapat dibaca" in found["not-json"]
    assert "bukan CloudEvent" in found["not-an-event"]
    if "wrong-data" in expected:
        assert "KeyError" in found["wrong-data"]  # the handler's own error, after its retries


def test_every_consumer_goes_on_consuming(api, env, vhost, poisoned, national_unit):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stats = queue_stats(env, vhost)
        if all(stats[queue] == (0, 1) for queue in consumer_queues()):
            break
        time.sleep(0.5)
    assert all(stats[queue] == (0, 1) for queue in consumer_queues()), {q: stats[q] for q in consumer_queues()}
    # And still does its work: an appointment after the poison is told (logged) as before.
    unit = form_units(api, "61", "61.71")["61.71"]
    appointed = api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": "wakil_ketua", "nama": "Pak Setelah Racun", "mulai": "2026-01-02", "email": "racun@contoh.id"})
    assert appointed.status_code == 201, appointed.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log = api.get("/notifikasi", params={"per_page": 200}).json()["items"]
        if any(entry["nama"] == "Pak Setelah Racun" for entry in log):
            break
        time.sleep(0.3)
    assert any(entry["nama"] == "Pak Setelah Racun" for entry in log)
