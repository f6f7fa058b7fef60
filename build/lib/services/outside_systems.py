"""An outside system's own RabbitMQ user, as the deployment's definitions give it
(`bkpm outside-system NAME`): it may declare, bind and read its own queues, named `<NAME>.*`,
and read from the public feed `bkpm.publik`; it cannot publish to the feed, to the platform's
exchanges or through the default exchange (only to exchanges of its own name, which reach
nothing but its own queues), nor bind to the platform's internal exchanges, which carry data
the public projection leaves out."""
import base64
import hashlib
import os
import re

from services.common.events import PUBLIC_EXCHANGE

SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9-]{2,40}\Z")


def permissions(system):
    """The configure, write and read patterns of the system's user (RabbitMQ regexes)."""
    own = rf"^{re.escape(system)}\..+$"
    return {"configure": own, "write": own, "read": rf"^({re.escape(PUBLIC_EXCHANGE)}|{re.escape(system)}\..+)$"}


def password_hash(password, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(system, password, vhost):
    """A definitions fragment (for `rabbitmqctl import_definitions` or the management UI) with
    the system's user and its permissions on the platform's vhost."""
    if not SYSTEM_NAME.match(system):
        raise ValueError("the name is 3-41 lowercase letters, digits or '-', starting with a letter")
    return {
        "users": [{"name": system, "password_hash": password_hash(password), "tags": [],
                   "hashing_algorithm": "rabbit_password_hashing_sha256"}],
        "permissions": [{"user": system, "vhost": vhost, **permissions(system)}],
    }
