"""Dead letters, for operators: what an event handler's `<queue>.dlq` holds, and putting it back
on `<queue>` once the cause is mended (`bkpm dead-letters list|replay QUEUE`). The headers are
those services.common.consumer writes when it dead-letters a message. Plain pika: no Nameko.

Adapter (pika): imported by the consumer and the `bkpm` command."""
import json

import pika

ATTEMPT_HEADER = "x-bkpm-attempt"
ERROR_HEADER = "x-bkpm-error"
ORIGINAL_ROUTING_KEY_HEADER = "x-bkpm-original-routing-key"
DEAD_LETTERED_AT_HEADER = "x-bkpm-dead-lettered-at"
DEAD_LETTERED_BY_HEADER = "x-bkpm-dead-lettered-by"
# What a replayed message no longer carries: it starts its tries afresh.
DEAD_LETTER_HEADERS = (ATTEMPT_HEADER, ERROR_HEADER, DEAD_LETTERED_AT_HEADER, DEAD_LETTERED_BY_HEADER)


def dead_letter_queue(queue):
    return f"{queue}.dlq"


def describe(properties, body):
    """One dead letter as an operator reads it: why, when, and which event (when it is one)."""
    headers = properties.headers or {}
    try:
        event = json.loads(body)
        what = {"id": event.get("id"), "type": event.get("type"), "subject": event.get("subject")}
    except (ValueError, AttributeError):
        what = {"id": None, "type": None, "subject": None}  # not even JSON: the reason says so
    return {**what, "alasan": headers.get(ERROR_HEADER), "waktu": headers.get(DEAD_LETTERED_AT_HEADER),
            "oleh": headers.get(DEAD_LETTERED_BY_HEADER), "routing_key": headers.get(ORIGINAL_ROUTING_KEY_HEADER)}


def channel_to(connection, queue):
    """A channel on which `queue`'s dead letters can be read. A queue that does not exist is an
    error (a typo must not look like "no dead letters"); its `.dlq` is declared as the handler
    declares it on its first dead letter, so a handler that never needed one has an empty one."""
    channel = connection.channel()
    channel.queue_declare(queue, passive=True)
    channel.queue_declare(dead_letter_queue(queue), durable=True)
    return channel


def taken(channel, queue, limit):
    """Up to `limit` of `queue`'s dead letters, oldest first, each (method, properties, body)
    and unacknowledged until the caller says otherwise."""
    for _ in range(limit):
        method, properties, body = channel.basic_get(dead_letter_queue(queue))
        if method is None:
            return
        yield method, properties, body


def list_dead_letters(amqp_uri, queue, limit):
    """Up to `limit` of `queue`'s dead letters, described, oldest first; they stay where they are."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        channel = channel_to(connection, queue)
        # Unacknowledged: closing the connection puts them all back.
        return [describe(properties, body) for _, properties, body in taken(channel, queue, limit)]
    finally:
        connection.close()


def replay_dead_letters(amqp_uri, queue, limit):
    """Move up to `limit` dead letters back to `queue`, each body and property as it was but
    the dead-letter headers, so its handler tries it afresh; a letter leaves the `.dlq` only once
    the broker has confirmed its copy. How many were moved."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    try:
        channel = channel_to(connection, queue)
        channel.confirm_delivery()
        moved = 0
        for method, properties, body in taken(channel, queue, limit):
            properties.headers = {k: v for k, v in (properties.headers or {}).items() if k not in DEAD_LETTER_HEADERS}
            channel.basic_publish("", queue, body, properties, mandatory=True)  # waits for the broker's confirm
            channel.basic_ack(method.delivery_tag)
            moved += 1
        return moved
    finally:
        connection.close()
