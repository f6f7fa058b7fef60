"""The baseline of event delivery, as its own process: bare pika publishing persistent messages
with publisher confirms, one at a time as the outbox relay does, to a topic exchange.

    python -m bench.pika_publisher AMQP_URI EXCHANGE SECONDS RATE SIZE

RATE messages a second (0: as fast as the confirms come back) of about SIZE bytes, each
carrying the moment it was sent (time.monotonic, the same clock in every process). Prints the
window it published in as JSON."""
import json
import sys
import time

import pika


def main(amqp_uri, exchange, seconds, rate, size):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    properties = pika.BasicProperties(content_type="application/cloudevents+json", delivery_mode=2)
    padding = "x" * max(0, size - 40)
    start = time.monotonic()
    published = 0
    while time.monotonic() < start + seconds:
        if rate:
            time.sleep(max(0.0, start + published / rate - time.monotonic()))
        body = json.dumps({"sent": time.monotonic(), "data": padding})
        channel.basic_publish(exchange, "bench.event", body, properties)
        published += 1
    end = time.monotonic()
    connection.close()
    print(json.dumps({"start": start, "end": end, "published": published}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
