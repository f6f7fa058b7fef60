"""A Nameko RPC client built on pika, safe under gunicorn's threaded workers.

It speaks Nameko's RPC protocol: a request is published on the `nameko-rpc` exchange with the
routing key `<service>.<method>` and a JSON body `{"args", "kwargs"}`; the reply comes back to
the caller's own queue, matched by correlation id. pika's BlockingConnection is not
thread-safe, so each thread keeps its own connection and reply queue.

Every call has a deadline. A request nobody can receive (the service never started: the
message is unroutable) fails at once; one nobody answers in time fails at the deadline and,
because the request carries that deadline as its AMQP expiration, it is dropped from the queue
rather than executed later by a service that comes back: a caller told 503 never finds that
its write happened after all.
"""
import json
import logging
import threading
import time
import uuid
from datetime import date, datetime

import pika
from pika.exceptions import AMQPError, UnroutableError

from services.common.failures import UPGRADE, failure_named, remote_error
from services.common.idempotency import FINGERPRINT_HEADER, KEY_HEADER

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"


def _iso_format(value):
    """Bodies the gateway validated carry dates and times as Python objects; they travel as
    ISO 8601 text, which the service's schema reads back."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ServiceUnavailable(Exception):
    """The broker or the service did not answer in time."""

    def __init__(self, service, reason):
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class RemoteFailure(Exception):
    """The service raised something that is not a domain error: a bug or an outage behind it."""

    def __init__(self, service, error):
        super().__init__(f"{service}: {error.get('exc_type')}: {error.get('value')}")
        self.service = service
        self.error = error


class _Connection:
    """One thread's connection, channel and reply queue."""

    def __init__(self, parameters):
        self.connection = pika.BlockingConnection(parameters)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.channel.exchange_declare(RPC_EXCHANGE, exchange_type="topic", durable=True)
        self.reply_queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(self.reply_queue, RPC_EXCHANGE, routing_key=self.reply_queue)
        self.channel.basic_consume(self.reply_queue, self._on_reply, auto_ack=True)
        self.awaiting = None
        self.reply = None

    def _on_reply(self, channel, method, properties, body):
        # A late reply to a call that already timed out is dropped.
        if properties.correlation_id == self.awaiting:
            self.reply = json.loads(body)

    def publish(self, service, method, payload, headers, timeout):
        self.awaiting, self.reply = str(uuid.uuid4()), None
        self.channel.basic_publish(
            RPC_EXCHANGE, f"{service}.{method}", payload,
            pika.BasicProperties(reply_to=self.reply_queue, correlation_id=self.awaiting,
                                 content_type="application/json", headers=headers,
                                 expiration=str(max(1, int(timeout * 1000)))),
            mandatory=True)

    def wait_reply(self, deadline):
        while self.reply is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.awaiting = None
                return None
            self.connection.process_data_events(time_limit=remaining)
        return self.reply

    def close(self):
        try:
            self.connection.close()
        except AMQPError:
            pass


class RpcClient:
    def __init__(self, amqp_uri, timeout):
        self.parameters = pika.URLParameters(amqp_uri)
        self.parameters.connection_attempts = 1
        self.parameters.socket_timeout = timeout
        self.parameters.blocked_connection_timeout = timeout
        self.timeout = timeout
        self._local = threading.local()

    def call(self, service, method, *args, correlation_id=None, timeout=None, idempotency=None, **kwargs):
        """Call `service.method(*args, **kwargs)`; returns its result or raises the domain
        error it raised (services.common.errors), ServiceUnavailable or RemoteFailure.

        The deadline goes with the request (`nameko.deadline`, epoch milliseconds): the service
        commits nothing after it, so a caller told 503 does not find the write done later.
        `idempotency`, (scoped key, fingerprint), makes the call one the service does once per
        key (services/common/idempotency.py)."""
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        payload = json.dumps({"args": args, "kwargs": kwargs}, default=_iso_format)
        headers = {"nameko.deadline": int((time.time() + timeout) * 1000)}
        if correlation_id:
            headers["nameko.correlation_id"] = correlation_id
        if idempotency:
            headers[KEY_HEADER], headers[FINGERPRINT_HEADER] = idempotency
        connection = self._publish(service, method, payload, headers, timeout)
        try:
            reply = connection.wait_reply(deadline)
        except (AMQPError, OSError) as exc:
            # Not retried: the request went out and may be running; sending it again could
            # do the work twice.
            self._drop_connection()
            log.warning("lost the broker waiting for %s.%s: %r", service, method, exc)
            raise ServiceUnavailable(service, "koneksi ke broker terputus") from None
        if reply is None:
            raise ServiceUnavailable(service, f"tidak menjawab dalam {timeout:g} detik")
        return self._result(service, reply)

    def _publish(self, service, method, payload, headers, timeout):
        # One retry on a fresh connection: the thread's old one may have died while idle.
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.publish(service, method, payload, headers, timeout)
                return connection
            except UnroutableError:
                raise ServiceUnavailable(service, "layanan belum pernah dijalankan") from None
            except (AMQPError, OSError) as exc:
                self._drop_connection()
                if attempt == 2:
                    log.warning("broker unreachable calling %s.%s: %r", service, method, exc)
                    raise ServiceUnavailable(service, "broker tidak dapat dihubungi") from None

    @staticmethod
    def _result(service, reply):
        error = reply.get("error")
        if error is None:
            return reply.get("result")
        exc_type = error.get("exc_type")
        if failure_named(exc_type).kind == UPGRADE:
            log.warning("%s does not know %s yet: an older version still runs", service, error.get("value"))
        known = remote_error(service, exc_type, error.get("exc_args"))
        if known is None:
            raise RemoteFailure(service, error)
        raise known

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = _Connection(self.parameters)
        return connection

    def _drop_connection(self):
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()
