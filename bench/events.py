"""Events at an outside subscriber of the public feed (`bkpm.publik`, bound with '#', as other
government systems subscribe), beside bare pika publish-with-confirm -> consume in the same
vhost, with messages of the same size:
- latency from a write's request to its event's arrival, writes at a steady rate (goal: p99 at
  most 50 ms);
- events/s arriving while writes stream at 32 connections (goal: at least 0.50x bare pika's,
  publishing as fast as its confirms come back)."""
import json
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pika
import requests

from bench import wrk
from bench.report import bound, compare
from bench.runs import alternate, median
from bench.stack import ROOT
from services.common.events import PUBLIC_EXCHANGE

BASELINE_EXCHANGE = "bench.pika"
# How long the last events may take to arrive after the last write before they count as missing.
DRAIN_SECONDS = 10
# Writers of the steady rate: enough that a slow answer never holds up the next write.
WRITERS = 16


@dataclass
class Delivery:
    p50_ms: float
    p99_ms: float
    missing: int  # sent (or written) and never arrived
    failed: int = 0  # writes the gateway refused


@dataclass
class Flow:
    per_second: float
    writes: wrk.Load | None = None  # of the platform: the events' upper bound


class Subscriber:
    """An outside system's subscriber: an exclusive queue bound with '#'. It only notes when
    each message arrives; the bodies are read after the run, so that the consumer keeps up."""

    def __init__(self, amqp_uri, exchange):
        self.arrivals = []  # (time.monotonic(), body)
        self._connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        channel = self._connection.channel()
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, exchange, routing_key="#")
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self._running = True
        self._thread = threading.Thread(target=self._consume)
        self._thread.start()

    def _on_message(self, channel, method, properties, body):
        self.arrivals.append((time.monotonic(), body))

    def _consume(self):
        while self._running:
            self._connection.process_data_events(time_limit=0.1)

    def wait_for(self, count, timeout):
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def arrived_between(self, start, end):
        return sum(start <= arrival <= end for arrival, _ in self.arrivals)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._running = False
        self._thread.join()
        self._connection.close()


def delivery(latencies, missing, failed=0):
    centiles = statistics.quantiles(latencies, n=100)
    return Delivery(p50_ms=centiles[49] * 1000, p99_ms=centiles[98] * 1000, missing=missing, failed=failed)


def write_steadily(platform, body, rate, seconds):
    """POST an activity every 1/rate s whatever the answers take (an open model: a slow answer
    does not delay the next write and so cannot hide latency): {kegiatan id: when its request
    was sent} of the writes answered 201, and how many were not."""
    sessions = threading.local()

    def write():
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
            sessions.session.headers.update({**platform.headers, "Content-Type": "application/json"})
        sent = time.monotonic()
        try:
            response = sessions.session.post(f"{platform.base}/api/v1/kegiatan", data=body, timeout=30)
        except requests.RequestException:
            return None
        return (response.json()["id"], sent) if response.status_code == 201 else None

    with ThreadPoolExecutor(WRITERS) as pool:
        start = time.monotonic()
        writes = []
        for n in range(int(rate * seconds)):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            writes.append(pool.submit(write))
    answered = [write.result() for write in writes]
    return dict(filter(None, answered)), answered.count(None)


def platform_delivery(platform, settings, body):
    with Subscriber(platform.amqp_uri, PUBLIC_EXCHANGE) as subscriber:
        sent, failed = write_steadily(platform, body, settings.rate, settings.seconds)
        subscriber.wait_for(len(sent), DRAIN_SECONDS)
    arrived = {}
    for arrival, raw in subscriber.arrivals:
        event = json.loads(raw)
        if event["type"] == "kegiatan.dijadwalkan":
            arrived.setdefault(event["subject"].removeprefix("kegiatan/"), arrival)
    latencies = [arrived[kegiatan_id] - at for kegiatan_id, at in sent.items() if kegiatan_id in arrived]
    return delivery(latencies, missing=len(sent) - len(latencies), failed=failed)


def platform_flow(platform, settings, body):
    with Subscriber(platform.amqp_uri, PUBLIC_EXCHANGE) as subscriber:
        start = time.monotonic()
        writes = wrk.run(f"{platform.base}/api/v1/kegiatan", settings.seconds, settings.connections,
                         headers=platform.headers, body=body)
        end = time.monotonic()
    return Flow(subscriber.arrived_between(start, end) / (end - start), writes)


def publish(platform, seconds, rate, size):
    """The bare pika publisher, in its own process: the window it published in."""
    out = subprocess.run([sys.executable, "-m", "bench.pika_publisher", platform.amqp_uri, BASELINE_EXCHANGE,
                          str(seconds), str(rate), str(size)], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=seconds + 60).stdout
    return json.loads(out)


def pika_delivery(platform, settings, size):
    with Subscriber(platform.amqp_uri, BASELINE_EXCHANGE) as subscriber:
        window = publish(platform, settings.seconds, settings.rate, size)
        subscriber.wait_for(window["published"], DRAIN_SECONDS)
    latencies = [arrival - json.loads(raw)["sent"] for arrival, raw in subscriber.arrivals]
    return delivery(latencies, missing=window["published"] - len(latencies))


def pika_flow(platform, settings, size):
    with Subscriber(platform.amqp_uri, BASELINE_EXCHANGE) as subscriber:
        window = publish(platform, settings.seconds, 0, size)
        subscriber.wait_for(window["published"], DRAIN_SECONDS)
    return Flow(subscriber.arrived_between(window["start"], window["end"]) / (window["end"] - window["start"]))


def public_event_size(platform, body):
    """The size of one public kegiatan event, from a first write (which also warms the path)."""
    with Subscriber(platform.amqp_uri, PUBLIC_EXCHANGE) as subscriber:
        platform.api("POST", "/kegiatan", json=json.loads(body))
        subscriber.wait_for(1, DRAIN_SECONDS)
    return len(subscriber.arrivals[0][1])


def measure(platform, settings):
    body = platform.kegiatan_body()
    size = public_event_size(platform, body)
    pika_deliveries, deliveries = alternate(
        "write -> subscriber latency", settings.runs,
        lambda: pika_delivery(platform, settings, size), lambda: platform_delivery(platform, settings, body))
    pika_flows, flows = alternate(
        "events/s at the subscriber", settings.runs,
        lambda: pika_flow(platform, settings, size), lambda: platform_flow(platform, settings, body))
    missing, failed = sum(d.missing for d in deliveries), sum(d.failed for d in deliveries)
    notes = []
    if missing:
        notes.append(f"{missing} events missing")
    if failed:
        notes.append(f"{failed} writes failed")
    return [
        bound(f"write -> `bkpm.publik` subscriber latency, {settings.rate} writes/s: p50 / p99",
              f"{median(deliveries, 'p50_ms'):.1f} / {median(deliveries, 'p99_ms'):.1f} ms"
              + (f" ({', '.join(notes)})" if notes else ""), median(deliveries, "p99_ms"), 50, "ms",
              f"pika publish-confirm -> consume: {median(pika_deliveries, 'p50_ms'):.1f} / "
              f"{median(pika_deliveries, 'p99_ms'):.1f} ms", what="p99"),
        compare(f"events/s at the subscriber, writes at {settings.connections} connections",
                median(flows, "per_second"), median(pika_flows, "per_second"), "events/s",
                "pika publish-confirm -> consume", at_least=0.50,
                note=f" (writes answered: {statistics.median(flow.writes.rps for flow in flows):.1f}/s"
                     f"{wrk.failures([flow.writes for flow in flows])})"),
    ]
