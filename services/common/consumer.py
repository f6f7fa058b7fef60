"""Event handlers that lose nothing: `@event_handler(source_service, event_type)`.

Nameko's own event handler acks a message whose handler raised, so the event is gone; and a
message kombu cannot decode stops the consumer. This entrypoint replaces both behaviours:

- a body that is not a CloudEvent (undecodable, not JSON, no envelope) goes at once to the
  queue's dead-letter queue `<queue>.dlq`, with the reason in the `x-bkpm-error` header, and
  the consumer keeps going;
- a handler that raises is retried after a pause that doubles each time (through the queues
  `<queue>.retry.<pause>ms`, which hand the message back when its time is up), and after
  EVENT_MAX_ATTEMPTS tries it is dead-lettered with the error;
- a handler that fails because something it needs is down (another service that does not
  answer, the database) spends none of its tries: the event goes back to its queue after a
  pause and waits out the outage, however long, instead of being dead-lettered as if it were bad;
- an event already handled (same queue, same event id) is acknowledged without running the
  handler again, so duplicates from the outbox relay or redeliveries are harmless; a handler
  whose every write is keyed by the event (`@event_handler(..., keyed_by_event=True)`) does not
  need that record of handled events, so it costs two database round trips less per event;
- when the broker or the database fails while a message is being dispatched or settled, the
  message goes back to its queue after a pause; the service keeps running.

The handler is called with the validated envelope; its `data` is the payload.

Adapter (Nameko, kombu, pymongo): imported by services' entrypoints.
"""
import logging
import socket
import time
from datetime import datetime, timezone
from functools import partial

import kombu
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher
from nameko.containers import ContainerBeingKilled
from nameko.events import EventHandler
from pymongo.errors import DuplicateKeyError

from services.common.config import HANDLED_EVENTS_KEEP_DAYS, settings
from services.common.deadletters import (ATTEMPT_HEADER, DEAD_LETTERED_AT_HEADER, DEAD_LETTERED_BY_HEADER,
                                         ERROR_HEADER, ORIGINAL_ROUTING_KEY_HEADER, dead_letter_queue)
from services.common.events import PUBLIC_EXCHANGE, exchange_of, parse_event
from services.common.extensions import MongoDatabase
from services.common.failures import OUTAGE, failure_of
from services.common.messaging import QueueConsumer
from services.common.metrics import EVENTS_DEAD_LETTERED, EVENTS_RETRIED
from services.common.outbox import topic_exchange

log = logging.getLogger(__name__)

PROCESSED = "processed_events"
PROCESSED_KEEP_SECONDS = HANDLED_EVENTS_KEEP_DAYS * 24 * 3600
GIVE_BACK_PAUSE_SECONDS = 1


class DeadLetteringQueueConsumer(QueueConsumer):
    """Nameko's queue consumer, accepting CloudEvents and dead-lettering what it cannot decode."""

    @property
    def accept(self):
        return ["json", "cloudevents"]

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = provider.on_decode_error
        return consumers


class ReliableEventHandler(EventHandler):
    queue_consumer = DeadLetteringQueueConsumer()
    database = MongoDatabase()

    def __init__(self, source_service, event_type, keyed_by_event=False, **kwargs):
        super().__init__(source_service, event_type, **kwargs)
        self.keyed_by_event = keyed_by_event

    def setup(self):
        super().setup()
        config = settings()
        self.max_attempts = max(1, config.event_max_attempts)
        self.amqp_uri = config.amqp_uri
        # The same declaration as the outbox relay's, so either may create the exchange first.
        # `@event_handler(PUBLIC_EXCHANGE, pattern)` listens to the public feed instead of one
        # service's own exchange.
        exchange = PUBLIC_EXCHANGE if self.source_service == PUBLIC_EXCHANGE else exchange_of(self.source_service)
        self.queue.exchange = topic_exchange(exchange)
        self.publisher = Publisher(self.amqp_uri, use_confirms=True, delivery_mode=2, mandatory=True)
        self.dead_letter_queue = kombu.Queue(dead_letter_queue(self.queue.name), durable=True)
        # The pause is in the queue's name: a changed EVENT_RETRY_DELAY_MS makes new queues
        # instead of clashing with the arguments of the old ones.
        delays = [config.event_retry_delay_ms * 2 ** n for n in range(self.max_attempts - 1)]
        self.retry_queues = [
            kombu.Queue(f"{self.queue.name}.retry.{delay}ms", durable=True, queue_arguments={
                "x-message-ttl": delay, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": self.queue.name})
            for delay in delays
        ]

    def start(self):
        # Handled-event records are kept long enough to catch any redelivery, then expire.
        self.database.db[PROCESSED].create_index("handled", expireAfterSeconds=PROCESSED_KEEP_SECONDS,
                                                 name="handled_ttl")
        super().start()

    def handle_message(self, body, message):
        try:
            self._dispatch(body, message)
        except Exception:
            self._give_back(message, "could not dispatch a message")

    def _dispatch(self, body, message):
        try:
            event = parse_event(body)
        except ValidationError as exc:
            self._dead_letter(message, f"bukan CloudEvent yang valid: {exc.messages}")
            return
        if self._already_processed(event):
            log.info("event %s already handled by %s; skipped", event["id"], self.queue.name)
            self.queue_consumer.ack_message(message)
            return
        context_data = self.unpack_message_headers(message)
        context_data["correlation_id"] = event.get("correlationid") or context_data.get("correlation_id")
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data=context_data,
                handle_result=partial(self.handle_result, message, event))
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, event, worker_ctx, result=None, exc_info=None):
        try:
            self._settle(message, event, exc_info)
        except Exception:
            self._give_back(message, f"could not settle event {event['id']}")
        return result, exc_info

    def _settle(self, message, event, exc_info):
        if exc_info is None:
            self._mark_processed(event)
            self.queue_consumer.ack_message(message)
            return
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        if is_outage(exc_info[1]):
            log.warning("handler %s could not handle event %s for now (%s); it waits", self.queue.name,
                        event["id"], error)
            self._requeue_after_pause(message)
            return
        attempt = attempt_of(message)
        if attempt >= self.max_attempts:
            self._dead_letter(message, error)
            return
        log.warning("handler %s failed on event %s (try %d of %d): %s", self.queue.name,
                    event["id"], attempt, self.max_attempts, error)
        self._copy(message, self.retry_queues[attempt - 1], {ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error})
        EVENTS_RETRIED.labels(self.queue.name).inc()
        self.queue_consumer.ack_message(message)

    def on_decode_error(self, message, exc):
        try:
            self._dead_letter(message, f"pesan tidak dapat dibaca: {exc}")
        except Exception:
            self._give_back(message, "could not dead-letter an unreadable message")

    def _give_back(self, message, what):
        """The broker or the database failed mid-way: hand the message back to the broker after
        a pause, rather than lose it or let the error stop the service."""
        log.exception("%s in %s; the message goes back to its queue", what, self.queue.name)
        self._requeue_after_pause(message)

    def _requeue_after_pause(self, message):
        time.sleep(GIVE_BACK_PAUSE_SECONDS)  # green under eventlet: only this message waits
        self.queue_consumer.requeue_message(message)

    def _dead_letter(self, message, reason):
        log.error("dead-lettering message from %s: %s", self.queue.name, reason)
        EVENTS_DEAD_LETTERED.labels(self.queue.name).inc()
        self._copy(message, self.dead_letter_queue, {
            ERROR_HEADER: reason[:1000],
            DEAD_LETTERED_AT_HEADER: datetime.now(timezone.utc).isoformat(),
            DEAD_LETTERED_BY_HEADER: socket.gethostname(),
        })
        self.queue_consumer.ack_message(message)

    def _copy(self, message, queue, extra_headers):
        """Copy the raw message, byte for byte, to one of this handler's own queues (declared
        on the way, so a deleted queue comes back). If the broker refuses, the error
        propagates and the original goes back to its queue."""
        headers = dict(message.headers or {})
        headers.setdefault(ORIGINAL_ROUTING_KEY_HEADER, message.delivery_info.get("routing_key"))
        self.publisher.publish(
            message.body, exchange="", routing_key=queue.name, declare=[queue],
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            headers={**headers, **extra_headers},
            message_id=(message.properties or {}).get("message_id"),
        )

    def _processed_key(self, event):
        return f"{self.queue.name}:{event['id']}"

    def _already_processed(self, event):
        if self.keyed_by_event:
            return False  # running it again changes nothing
        # A lookup by _id; count_documents would run an aggregation for the same answer.
        return self.database.db[PROCESSED].find_one({"_id": self._processed_key(event)}, {"_id": 1}) is not None

    def _mark_processed(self, event):
        if self.keyed_by_event:
            return
        try:
            self.database.db[PROCESSED].insert_one(
                {"_id": self._processed_key(event), "type": event["type"],
                 "handled": datetime.now(timezone.utc)})
        except DuplicateKeyError:
            pass  # a concurrent redelivery got there first; both outcomes mean "handled"


def is_outage(exc):
    """An error that says something the handler needs is down (another service, asked through
    `ask`, or the database), not that the event is bad (services.common.failures)."""
    return failure_of(exc).kind == OUTAGE


def attempt_of(message):
    """Which try this delivery is; a header someone mangled counts as the first."""
    try:
        return max(1, int((message.headers or {}).get(ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1


event_handler = ReliableEventHandler.decorator
