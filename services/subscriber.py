"""A subscriber of the public feed, written as another government system would write one with
pika, and the `bkpm subscribe` command. docs/public-events.md walks through it.

The feed is the topic exchange `bkpm.publik`; routing keys are
`<service>.<entity>.<verb>.<area code parts>`. A subscriber binds its own durable queue with
the patterns it wants, takes a few messages at a time (prefetch), acknowledges each only after
handling it, and reconnects with growing pauses when the broker goes away.

Joining late, it first catches up from the event log (GET /api/v1/events) and then listens:
1. bind the queue first, so every event published from now on waits in it;
2. read the log from `since` until the log holds everything published before the binding
   (`pending_since`, the oldest event not yet published, is later than that moment);
3. consume the queue, skipping the events the log already gave.
So nothing falls between the two (an event is in the log before it is published), nothing
comes twice (events are told apart by their CloudEvents id), and the log's events come first.
"""
import json
import logging
import sys
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone

import pika
import requests

from services.common.events import PUBLIC_EXCHANGE, public_routing_key

log = logging.getLogger("bkpm.subscriber")

# How far the platform's clocks may be from this machine's: the catch-up waits this much longer
# than strictly needed, rather than miss an event stamped by a clock running behind.
CLOCK_MARGIN = timedelta(seconds=5)
MAX_PAUSE_SECONDS = 30
# Each event travels whole, as one JSON document: CloudEvents' structured mode, over AMQP and HTTP.
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"


def binding_keys(events, wilayah):
    """Routing-key patterns for event patterns over `<service>.<entity>.<verb>` ('bantuan.*'
    is every bantuan event; '#' everything) within an area ('31.71': the city and below)."""
    keys = []
    for pattern in events or ["#"]:
        words = pattern.split(".")
        if words == ["#"]:
            words = ["*", "*", "*"]
        words += ["*"] * (3 - len(words))
        keys.append(".".join(words + (wilayah.split(".") if wilayah else []) + ["#"]))
    return keys


def topic_matches(pattern, routing_key):
    """AMQP topic matching: `*` is one word, `#` zero or more."""
    def match(words, key):
        if not words:
            return not key
        if words[0] == "#":
            return any(match(words[1:], key[start:]) for start in range(len(key) + 1))
        return bool(key) and words[0] in ("*", key[0]) and match(words[1:], key[1:])
    return match(pattern.split("."), routing_key.split("."))


def routing_key_of(event):
    return public_routing_key(event["source"].rsplit("/", 1)[1], event)


def backlog(api_url, token, keys, since, wilayah, started):
    """The log's events matching `keys` from `since`, oldest first, until it holds everything
    published before `started` (the moment the queue was bound)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    params = {"since": since, "limit": 1000, **({"wilayah": wilayah} if wilayah else {})}
    while True:
        response = session.get(f"{api_url}/api/v1/events", params=params, timeout=30)
        response.raise_for_status()
        page = response.json()
        for event in page["items"]:
            if any(topic_matches(key, routing_key_of(event)) for key in keys):
                yield event
        params["cursor"] = page["next_cursor"]
        if not page["items"]:
            pending = page["pending_since"] and datetime.fromisoformat(page["pending_since"])
            if not pending or pending > started + CLOCK_MARGIN:
                return
            time.sleep(0.5)  # an event from before the binding is not published yet


class Subscriber:
    """Consumes `queue` (declared durable, bound to `keys` on bkpm.publik), handing each event
    to `handle` once and acknowledging it after."""

    def __init__(self, amqp_url, queue, keys, handle, prefetch=50):
        self.parameters = pika.URLParameters(amqp_url)
        self.queue, self.keys, self.handle, self.prefetch = queue, keys, handle, prefetch
        self.seen = RecentIds()

    def bind(self):
        """Declare and bind the queue; returns the moment after which every event waits in it."""
        started = datetime.now(timezone.utc)
        connection = pika.BlockingConnection(self.parameters)
        try:
            channel = connection.channel()
            channel.queue_declare(self.queue, durable=True)
            for key in self.keys:
                channel.queue_bind(self.queue, PUBLIC_EXCHANGE, routing_key=key)
        finally:
            connection.close()
        return started

    def catch_up(self, events):
        """Hand on the log's events; returns how many there were."""
        count = 0
        for event in events:
            self._handle_once(event)
            count += 1
        return count

    def run(self):
        """Consume until interrupted, reconnecting with growing pauses."""
        pause = 1
        while True:
            connection = None
            try:
                connection = pika.BlockingConnection(self.parameters)
                channel = connection.channel()
                channel.basic_qos(prefetch_count=self.prefetch)
                channel.basic_consume(self.queue, self._on_message)
                pause = 1
                channel.start_consuming()
            except pika.exceptions.AMQPError as exc:  # unreachable, dropped, or a channel closed
                log.warning("broker connection lost (%r); trying again in %ss", exc, pause)
            finally:
                if connection is not None and connection.is_open:
                    connection.close()  # hands unacknowledged messages back to the queue
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)

    def _on_message(self, channel, method, properties, body):
        try:
            event = json.loads(body)
        except ValueError:
            log.error("not JSON, dropped: %r", body[:200])
            channel.basic_reject(method.delivery_tag, requeue=False)
            return
        self._handle_once(event)
        channel.basic_ack(method.delivery_tag)

    def _handle_once(self, event):
        if event["id"] not in self.seen:
            self.handle(event)
            self.seen.add(event["id"])


class RecentIds:
    """The ids of the events handled last: enough to drop a repeat (the overlap at the switch
    from the log to the queue, a redelivery after a reconnection), bounded for a bridge that
    runs for months."""

    def __init__(self, size=200_000):
        self.size, self.ids = size, OrderedDict()

    def __contains__(self, event_id):
        return event_id in self.ids

    def __len__(self):
        return len(self.ids)

    def add(self, event_id):
        self.ids[event_id] = None
        if len(self.ids) > self.size:
            self.ids.popitem(last=False)


def print_line(event):
    print(json.dumps(event, ensure_ascii=False), flush=True)


def forward_to(url):
    """Hand each event to a webhook, trying again with growing pauses until it takes it."""
    def forward(event):
        pause = 1
        while True:
            try:
                if requests.post(url, data=json.dumps(event, ensure_ascii=False).encode(), timeout=10,
                                 headers={"Content-Type": CLOUDEVENTS_CONTENT_TYPE}).ok:
                    return
            except requests.RequestException:
                pass
            log.warning("webhook did not take event %s; trying again in %ss", event["id"], pause)
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
    return forward


class IntoQueue:
    """Puts each event into another durable queue, in order, once, confirmed by the broker: for
    a system that consumes with its own AMQP client. It goes through a fanout exchange of the
    same name (an outside system's user may publish only to exchanges of its own name), and
    reconnects once when its connection went idle and was dropped."""

    def __init__(self, amqp_url, queue):
        self.parameters, self.queue, self.channel = pika.URLParameters(amqp_url), queue, None

    def _open(self):
        channel = pika.BlockingConnection(self.parameters).channel()
        channel.queue_declare(self.queue, durable=True)
        channel.exchange_declare(self.queue, exchange_type="fanout", durable=True)
        channel.queue_bind(self.queue, self.queue)
        channel.confirm_delivery()
        return channel

    def __call__(self, event):
        body = json.dumps(event, ensure_ascii=False).encode()
        properties = pika.BasicProperties(content_type=CLOUDEVENTS_CONTENT_TYPE, delivery_mode=2,
                                          message_id=event["id"])
        for last_try in (False, True):
            try:
                if self.channel is None or self.channel.is_closed:
                    self.channel = self._open()
                self.channel.basic_publish(self.queue, "", body, properties)
                return
            except pika.exceptions.AMQPError:
                self.channel = None
                if last_try:
                    raise


def subscribe(args):
    """`bkpm subscribe`: catch up from `--since` if asked, then listen."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    keys = binding_keys(args.events, args.wilayah)
    if args.webhook:
        handle = forward_to(args.webhook)
    elif args.into_queue:
        handle = IntoQueue(args.amqp, args.into_queue)
    else:
        handle = print_line
    subscriber = Subscriber(args.amqp, args.queue, keys, handle, prefetch=args.prefetch)
    started = subscriber.bind()
    if args.since:
        caught_up = subscriber.catch_up(backlog(args.api, args.token, keys, args.since, args.wilayah, started))
        log.info("caught up with %d events from the log; now listening to %s", caught_up, args.queue)
    subscriber.run()
