"""A thread that hears events of some services' exchanges from a queue of its own, for as long
as the process lives: the read caches forget answers with it, and the checks of access tokens
hear that an account was disabled. A gateway worker starts it after gunicorn forked it (a
thread does not survive a fork); in a service (eventlet) it is a green thread.

The queue is exclusive and goes with the connection: what is published while the listener is
not connected (first start, broker restart) is not heard, which `on_hearing(False)` tells, so
that a cache can stop serving from memory meanwhile.

Adapter (pika): imported by services.common.cache, services.common.extensions and the gateway."""
import json
import logging
import threading
import time

import pika
from pika.exceptions import AMQPError

from services.common.identity import revocation_bindings

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 1
HEARTBEAT_SECONDS = 10


class EventListener:
    """Calls `on_event(exchange, routing_key, event)` for every event published on the
    exchanges of `bindings` ({exchange: [routing key pattern, ...]}) with a matching key."""

    def __init__(self, amqp_uri, bindings, on_event, name, on_hearing=lambda heard: None, enabled=True):
        self.parameters = pika.URLParameters(amqp_uri)
        self.parameters.connection_attempts = 1
        # A broker gone without closing the connection is noticed within this, not a minute.
        self.parameters.heartbeat = HEARTBEAT_SECONDS
        self.bindings = bindings
        self.on_event = on_event
        self.on_hearing = on_hearing
        self.name = name
        self.enabled = enabled
        self._thread = None

    def start(self):
        if self._thread is None and self.enabled:
            self._thread = threading.Thread(target=self._listen, name=self.name, daemon=True)
            self._thread.start()

    def _listen(self):
        while True:
            try:
                connection = pika.BlockingConnection(self.parameters)
                try:
                    channel = connection.channel()
                    queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                    for exchange, keys in self.bindings.items():
                        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
                        for key in keys:
                            channel.queue_bind(queue, exchange, routing_key=key)
                    channel.basic_consume(queue, self._deliver, auto_ack=True)
                    self.on_hearing(True)
                    channel.start_consuming()
                finally:
                    self.on_hearing(False)
                    if connection.is_open:
                        connection.close()
            except (AMQPError, OSError) as exc:
                log.warning("%s: no events from the broker (%r); retrying", self.name, exc)
            except Exception:  # the thread must outlive anything
                log.exception("%s failed; retrying", self.name)
            time.sleep(RECONNECT_SECONDS)

    def _deliver(self, channel, method, properties, body):
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        self.on_event(method.exchange, method.routing_key, event)


def revocation_listener(amqp_uri, identities):
    """The listener through which `identities` (services.common.identity) hears of accounts
    disabled or changed, in a gateway worker or a service."""
    bindings, on_event = revocation_bindings(identities)
    return EventListener(amqp_uri, bindings, on_event, "revocation-listener")
