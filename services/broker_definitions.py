"""The deployment's RabbitMQ definitions (`bkpm rabbitmq-definitions`), loaded by the broker at
start: the platform's vhost, where queues are quorum queues unless they are exclusive; its user;
the services' exchanges and the public feed; a dead-letter exchange for messages the broker
itself gives up on; and one user per outside system (`bkpm outside-system NAME` prints just one).

An outside system's user may declare, bind and read its own queues, named `<NAME>.*`, and read
from the public feed `bkpm.publik`; it cannot publish to the feed, to the platform's exchanges or
through the default exchange (only to exchanges of its own name, which reach nothing but its own
queues), nor bind to the platform's internal exchanges, which carry data the public projection
leaves out."""
import base64
import hashlib
import os
import re

from services.common.config import SERVICES
from services.common.events import PUBLIC_EXCHANGE, exchange_of

# Where the broker puts what it gives up on (a message redelivered too often, or rejected): the
# services dead-letter malformed and failing events to their own `<queue>.dlq` themselves.
DEAD_LETTERS = "bkpm.mati"
# How often the broker hands a message of the platform's queues out before it gives the message
# to DEAD_LETTERS. RabbitMQ 4 gives up after 20 unless told (3.x never), and every requeue
# counts: a handler waiting out an outage hands its event back about once a second
# (services/common/consumer.py), so 20 would lose it after some 20 s; this lets it wait more than
# a day. A listing of a `.dlq` (`bkpm dead-letters list`), which gives its letters back, counts too.
DELIVERY_LIMIT = 100_000
SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9-]{2,40}\Z")
# An outside system's name prefixes what it may touch: never the name of something the platform
# owns (its exchanges `<service>.events`, `bkpm.*`, Nameko's `rpc.*` replies, AMQP's `amq.*`).
RESERVED_NAMES = {*SERVICES, "bkpm", "rpc", "evt", "amq"}


def permissions(system):
    """The configure, write and read patterns of the system's user (RabbitMQ regexes)."""
    own = rf"^{re.escape(system)}\..+$"
    return {"configure": own, "write": own, "read": rf"^({re.escape(PUBLIC_EXCHANGE)}|{re.escape(system)}\..+)$"}


def password_hash(password, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(system, password, vhost):
    """A definitions fragment with one outside system's user and its permissions."""
    if not SYSTEM_NAME.match(system):
        raise ValueError("the name is 3-41 lowercase letters, digits or '-', starting with a letter")
    if system in RESERVED_NAMES:
        raise ValueError(f"{system} names something of the platform's; choose another")
    return {"users": [user(system, password)], "permissions": [{"user": system, "vhost": vhost, **permissions(system)}]}


def user(name, password, tags=()):
    return {"name": name, "password_hash": password_hash(password), "tags": list(tags),
            "hashing_algorithm": "rabbit_password_hashing_sha256"}


def platform(vhost, platform_user, platform_password, outside_systems=()):
    """Everything the broker needs for the platform; `outside_systems` is [(name, password)]."""
    if platform_user in {system for system, _ in outside_systems}:
        raise ValueError(f"{platform_user} is the platform's own user")
    outside = [definitions(system, password, vhost) for system, password in outside_systems]
    exchanges = [exchange_of(service) for service in SERVICES] + [PUBLIC_EXCHANGE]
    return {
        "vhosts": [{"name": vhost, "metadata": {"default_queue_type": "quorum",
                                                "description": "BKPM platform"}}],
        "users": [user(platform_user, platform_password, ["monitoring"])] + [o["users"][0] for o in outside],
        "permissions": [{"user": platform_user, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}]
                       + [o["permissions"][0] for o in outside],
        "exchanges": [{"name": name, "vhost": vhost, "type": "topic", "durable": True, "auto_delete": False,
                       "internal": False, "arguments": {}} for name in [*exchanges, DEAD_LETTERS]],
        "queues": [{"name": DEAD_LETTERS, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": {"x-queue-type": "quorum"}}],
        "bindings": [{"source": DEAD_LETTERS, "vhost": vhost, "destination": DEAD_LETTERS,
                      "destination_type": "queue", "routing_key": "#", "arguments": {}}],
        "policies": [{"vhost": vhost, "name": "dead-letters", "pattern": "^(rpc-|evt-).*", "apply-to": "queues",
                      "priority": 0,
                      "definition": {"dead-letter-exchange": DEAD_LETTERS, "delivery-limit": DELIVERY_LIMIT}}],
    }
