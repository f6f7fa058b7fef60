"""Event handlers that lose nothing: `@event_handler(source_service, event_type)`.

Nameko's own event handler acks a message whose handler raised, so the event is gone; and a
message kombu cannot decode stops the consumer. This entrypoint replaces both behaviours:

- a body that is not a CloudEvent (undecodable, not JSON, no envelope) goes at once to the
  queue's dead-letter queue `<queue>.dlq`, with the reason in the `x-bkpm-error` header, and
  the consumer keeps going;
- a handler that raises is retried after a pause that doubles each time (through the queues
  `<queue>.retry.<n>`, which hand the message back when its time is up), and after
  EVENT_MAX_ATTEMPTS tries it is dead-lettered with the error;
- an event already handled (same queue, same event id) is acknowledged without running the
  handler again, so duplicates from the outbox relay or redeliveries are harmless.

The handler is called with the validated envelope; its `data` is the payload.
"""
import logging
import socket
from datetime import datetime, timezone
from functools import partial

import kombu
from marshmallow import ValidationError
from nameko.amqp.publish import Publisher
from nameko.containers import ContainerBeingKilled
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer
from pymongo.errors import DuplicateKeyError

from services.common.config import settings
from services.common.events import exchange_of, parse_event
from services.common.extensions import MongoDatabase
from services.common.outbox import topic_exchange

log = logging.getLogger(__name__)

PROCESSED = "processed_events"
ATTEMPT_HEADER = "x-bkpm-attempt"
ERROR_HEADER = "x-bkpm-error"


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

    def setup(self):
        super().setup()
        config = settings()
        self.max_attempts = max(1, config.event_max_attempts)
        self.retry_delay_ms = config.event_retry_delay_ms
        self.amqp_uri = config.amqp_uri
        # The same declaration as the outbox relay's, so either may create the exchange first.
        self.queue.exchange = topic_exchange(exchange_of(self.source_service))
        self.publisher = Publisher(self.amqp_uri, use_confirms=True, delivery_mode=2)
        self.dead_letter_queue = kombu.Queue(f"{self.queue.name}.dlq", durable=True)
        self.retry_queues = [
            kombu.Queue(
                f"{self.queue.name}.retry.{attempt}", durable=True,
                queue_arguments={
                    "x-message-ttl": self.retry_delay_ms * 2 ** (attempt - 1),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue.name,
                })
            for attempt in range(1, self.max_attempts)
        ]

    def start(self):
        with kombu.Connection(self.amqp_uri) as connection:
            channel = connection.default_channel
            for queue in [self.dead_letter_queue, *self.retry_queues]:
                queue(channel).declare()
        super().start()

    def handle_message(self, body, message):
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
        if exc_info is None:
            self._mark_processed(event)
            self.queue_consumer.ack_message(message)
            return result, exc_info
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        if attempt < self.max_attempts:
            log.warning("handler %s failed on event %s (try %d of %d): %s", self.queue.name,
                        event["id"], attempt, self.max_attempts, error)
            self._republish(message, self.retry_queues[attempt - 1].name,
                            {ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error})
            self.queue_consumer.ack_message(message)
        else:
            self._dead_letter(message, error)
        return result, exc_info

    def on_decode_error(self, message, exc):
        self._dead_letter(message, f"pesan tidak dapat dibaca: {exc}")

    def _dead_letter(self, message, reason):
        log.error("dead-lettering message from %s: %s", self.queue.name, reason)
        self._republish(message, self.dead_letter_queue.name, {
            ERROR_HEADER: reason[:1000],
            "x-bkpm-dead-lettered-at": datetime.now(timezone.utc).isoformat(),
            "x-bkpm-dead-lettered-by": socket.gethostname(),
        })
        self.queue_consumer.ack_message(message)

    def _republish(self, message, queue_name, extra_headers):
        """Copy the raw message, byte for byte, to one of this handler's own queues. If the
        broker refuses, the error propagates and the original stays unacknowledged, so the
        broker delivers it again."""
        properties = message.properties or {}
        self.publisher.publish(
            message.body, exchange="", routing_key=queue_name,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            headers={**(message.headers or {}), **extra_headers,
                     "x-bkpm-original-routing-key": message.delivery_info.get("routing_key")},
            message_id=properties.get("message_id"),
        )

    def _processed_key(self, event):
        return f"{self.queue.name}:{event['id']}"

    def _already_processed(self, event):
        return self.database.db[PROCESSED].count_documents(
            {"_id": self._processed_key(event)}, limit=1) > 0

    def _mark_processed(self, event):
        try:
            self.database.db[PROCESSED].insert_one(
                {"_id": self._processed_key(event), "type": event["type"],
                 "handled": datetime.now(timezone.utc)})
        except DuplicateKeyError:
            pass  # a concurrent redelivery got there first; both outcomes mean "handled"


event_handler = ReliableEventHandler.decorator
