"""Reliable publishing and handling: an event is published if and only if its write committed,
also when the process dies in between; a handler that raises does not lose its event; a
malformed message is dead-lettered and the consumer keeps going."""
import json
import subprocess
import sys
import time

import pika
import pytest

from gateway.rpc import ServiceUnavailable
from services.common.errors import Conflict
from services.common.events import new_event
from services.common.outbox import LEASE_SECONDS
from tests.integration.probe_service import OUTAGE_CALLS
from tests.support import ROOT, EventCollector, rpc_client, start_service, token_for, wait_until

DLQ = "evt-organisasi-unit.dibentuk--probe.on_unit_dibentuk.dlq"


def unit_events(collector, unit_id=None):
    return [e for e in collector.events("unit.dibentuk") if unit_id in (None, e["data"]["id"])]


def test_event_survives_a_crash_between_commit_and_publish(isolated, logs):
    env, db = isolated
    subscriber = EventCollector(env["AMQP_URI"], "organisasi.events")
    crashing = start_service("organisasi", {**env, "BKPM_FAULT_CRASH": "after_commit"}, logs)
    with pytest.raises(ServiceUnavailable):
        rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    assert crashing.wait_exit(timeout=10) == 17  # died by the fault switch, right after the commit

    unit = db.units.find_one({"tingkat": "nasional"})
    assert unit is not None, "the write committed"
    pending = list(db.outbox.find({"published": None}))
    assert [entry["event"]["data"]["id"] for entry in pending] == [unit["_id"]]
    time.sleep(1)
    assert unit_events(subscriber) == [], "nothing was published before the crash"

    restarted = start_service("organisasi", env, logs)
    try:
        # The crashed instance's relay lease must expire first (LEASE_SECONDS).
        delivered = subscriber.wait_for(lambda e: e["type"] == "unit.dibentuk", timeout=LEASE_SECONDS + 10,
                                        what="the event after restart")
        time.sleep(1.5)  # anything published twice would arrive by now
        assert [e["id"] for e in unit_events(subscriber)] == [pending[0]["event"]["id"]]
        assert delivered[0]["data"]["id"] == unit["_id"]
        assert db.outbox.count_documents({"published": None}) == 0
    finally:
        restarted.stop()
        subscriber.close()


def test_no_event_for_a_write_that_failed(isolated, logs):
    env, db = isolated
    service = start_service("organisasi", env, logs)
    try:
        client = rpc_client(env)
        client.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        with pytest.raises(Conflict):
            client.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        assert db.units.count_documents({}) == 1
        assert db.outbox.count_documents({"event.type": "unit.dibentuk"}) == 1
    finally:
        service.stop()


def test_published_events_leave_the_log_after_the_retention_period(isolated, logs):
    env, db = isolated
    service = start_service("organisasi", {**env, "EVENT_LOG_RETENTION_DAYS": str(3 / 86400)}, logs)
    try:
        rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        wait_until(lambda: db.outbox.count_documents({"published": {"$ne": None}, "seq": 1}) == 1, "the publishing")
        wait_until(lambda: db.outbox.count_documents({}) == 0, "the event to be forgotten", timeout=15)
        assert db.units.count_documents({}) == 1  # only the log forgets
    finally:
        service.stop()


@pytest.fixture
def running(isolated, logs):
    """organisasi plus the probe consumer, both running: (env, probe database, processes)."""
    env, db = isolated
    processes = {"organisasi": start_service("organisasi", env, logs),
                 "probe": start_service("tests.integration.probe_service:ProbeService", env, logs, name="probe")}
    yield env, db.client[f"{env['BKPM_DB_PREFIX']}_probe"], processes
    for process in processes.values():
        process.stop()


@pytest.fixture
def probe(running):
    env, probe_db, _ = running
    return env, probe_db


def dead_letters(env):
    """Everything in the probe handler's dead-letter queue, taken off it."""
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    channel = connection.channel()
    channel.queue_declare(DLQ, durable=True)  # as the handler declares it, in case it has not yet
    found = []
    while True:
        method, properties, body = channel.basic_get(DLQ, auto_ack=True)
        if method is None:
            break
        found.append((properties, body))
    connection.close()
    return found


def queue_exists(env, name):
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    try:
        connection.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def publish_raw(env, body, content_type, headers=None):
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    connection.channel().basic_publish("organisasi.events", "unit.dibentuk", body, pika.BasicProperties(
        content_type=content_type, delivery_mode=2, headers=headers))
    connection.close()


def create_province(env, kode, nama):
    return rpc_client(env).call("organisasi", "bentuk_unit", token_for(env),
                                {"tingkat": "provinsi", "kode_wilayah": kode, "nama": nama})


def test_a_failing_handler_is_retried_then_dead_lettered(probe):
    env, probe_db = probe
    rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    once = create_province(env, "11", "BKPM Aceh GAGAL-SEKALI")
    always = create_province(env, "12", "BKPM Sumut GAGAL-SELALU")

    wait_until(lambda: probe_db.handled.count_documents({"nama": once["nama"]}) == 1, "the retried event")
    # 3 tries with 200 ms and 400 ms pauses, then the dead-letter queue.
    wait_until(lambda: probe_db.calls.count_documents({}) >= 1 + 2 + 3, "every try of the failing event")
    letters = []
    wait_until(lambda: letters.extend(dead_letters(env)) or letters, "the dead letter")
    properties, body = letters[0]
    assert json.loads(body)["data"]["id"] == always["id"]
    assert "gagal disengaja" in properties.headers["x-bkpm-error"]
    assert probe_db.handled.count_documents({"nama": always["nama"]}) == 0


def bkpm(env, *args):
    """The operator's command, as they run it."""
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_dead_letters_are_listed_and_once_the_cause_is_mended_replayed_and_handled(probe):
    env, probe_db = probe
    rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    stuck = create_province(env, "13", "BKPM Sumbar GAGAL-SAMPAI-DIPERBAIKI")
    queue = DLQ.removesuffix(".dlq")

    def listed():
        result = bkpm(env, "dead-letters", "list", queue)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]
    wait_until(lambda: listed(), "the dead letter")
    [letter] = listed()  # listing takes nothing away
    assert letter["type"] == "unit.dibentuk" and letter["subject"] == f"units/{stuck['id']}"
    assert "gagal sampai diperbaiki" in letter["alasan"] and letter["waktu"]

    probe_db.perbaikan.insert_one({"oleh": "operator"})  # the cause, mended
    replayed = bkpm(env, "dead-letters", "replay", queue)
    assert replayed.returncode == 0 and "1 dead letters back" in replayed.stderr, replayed.stderr
    wait_until(lambda: probe_db.handled.count_documents({"nama": stuck["nama"]}) == 1, "the replayed event")
    assert listed() == []
    missing = bkpm(env, "dead-letters", "list", "tidak-ada")
    assert missing.returncode != 0 and "tidak-ada" in missing.stderr


def test_an_event_waits_out_an_outage_without_spending_its_tries(probe):
    """A handler that finds what it needs down (here Unavailable, more times in a row than
    EVENT_MAX_ATTEMPTS) is not dead-lettered: the event waits and is handled once it is back."""
    env, probe_db = probe
    rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    waiting = create_province(env, "11", "BKPM Aceh TIDAK-TERSEDIA")
    wait_until(lambda: probe_db.handled.count_documents({"nama": waiting["nama"]}) == 1, "the event", timeout=30)
    assert probe_db.calls.count_documents({}) == 1 + OUTAGE_CALLS + 1  # the national unit, the outage, the success
    assert dead_letters(env) == []


def test_malformed_messages_are_dead_lettered_and_the_consumer_goes_on(probe):
    env, probe_db = probe
    publish_raw(env, b"{ini bukan json", "application/json")
    publish_raw(env, json.dumps({"hello": "bukan cloudevent"}).encode(), "application/json")
    publish_raw(env, b"\x00\x01biner", "application/x-unknown")
    rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    wait_until(lambda: probe_db.handled.count_documents({}) == 1, "the valid event after the bad ones")

    letters = []
    wait_until(lambda: letters.extend(dead_letters(env)) or len(letters) >= 3, "three dead letters")
    assert sorted(body for _, body in letters) == sorted(
        [b"{ini bukan json", json.dumps({"hello": "bukan cloudevent"}).encode(), b"\x00\x01biner"])
    assert all(properties.headers["x-bkpm-error"] for properties, _ in letters)


def test_a_redelivered_event_is_handled_once(probe, logs):
    env, probe_db = probe
    unit = rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
    wait_until(lambda: probe_db.handled.count_documents({}) == 1, "the event")
    outbox = probe_db.client[f"{env['BKPM_DB_PREFIX']}_organisasi"].outbox
    event = outbox.find_one({"event.type": "unit.dibentuk"})["event"]
    assert event["data"]["id"] == unit["id"]
    publish_raw(env, json.dumps(event).encode(), "application/cloudevents+json")
    later = create_province(env, "13", "BKPM Sumbar")
    wait_until(lambda: probe_db.handled.count_documents({"nama": later["nama"]}) == 1, "the next event")
    assert probe_db.calls.count_documents({"event_id": event["id"]}) == 1


def test_correlation_id_flows_from_the_call_to_the_handler(running):
    env, probe_db, processes = running
    correlation = "korelasi-uji-" + str(int(time.time()))
    unit = rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"},
                                correlation_id=correlation)
    wait_until(lambda: probe_db.handled.count_documents({}) == 1, "the event")
    assert probe_db.calls.find_one()["correlation_id"] == correlation
    def logged_with_it(name):
        lines = [json.loads(line) for line in processes[name].log().splitlines() if line.startswith("{")]
        return any(line.get("correlation_id") == correlation for line in lines)

    for name in ("organisasi", "probe"):  # the line comes as the handler ends, a moment after its write
        wait_until(lambda name=name: logged_with_it(name), f"a line of {name} with the correlation id")
    assert unit["id"]


def test_a_mangled_header_or_a_deleted_dead_letter_queue_loses_nothing(probe):
    env, probe_db = probe
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    connection.channel().queue_delete(DLQ)
    connection.close()
    event = new_event("organisasi", "unit.dibentuk", "units/u-1", {
        "id": "u-1", "tingkat": "provinsi", "kode_wilayah": "12", "nama": "GAGAL-SELALU", "induk_id": None})
    publish_raw(env, json.dumps(event).encode(), "application/cloudevents+json", headers={"x-bkpm-attempt": "abc"})

    wait_until(lambda: probe_db.calls.count_documents({"event_id": event["id"]}) == 3, "three tries")
    wait_until(lambda: queue_exists(env, DLQ), "the handler to re-create its dead-letter queue")
    letters = dead_letters(env)
    assert json.loads(letters[0][1])["id"] == event["id"]
    assert letters[0][0].headers["x-bkpm-original-routing-key"] == "unit.dibentuk"
    assert probe_db.calls.count_documents({"event_id": event["id"]}) == 3  # a bad count starts at 1
    assert rpc_client(env).call("probe", "ping") == {"status": "ok"}  # and the service is still there
