"""Answers of another service kept in this process's memory until that service changes something.

Calls that cross the broker and the database cost several times the work around them, and most
of them ask again what nothing has changed since. So a caller (a gateway worker, a service
asking organisasi) keeps the answers of the calls it marks as cacheable, keyed by the call and
its arguments (the gateway's include the caller: the services decide what a caller sees).

What forgets them: every service publishes an event on its exchange after each committed
change (the outbox relay), and a listener thread consumes those events from a queue of its own;
any event of a service forgets all of that service's answers. While the listener is not
connected (first start, broker restart) nothing is kept or served from memory, since an event
could go unheard; and an answer is kept at most `seconds` whatever happens.

Each service's answers carry a generation, which an event moves on: an answer read while an
event arrived is not kept, because it may have been read before the change.

Adapter (through services.common.listener): imported by the gateway and by
services.common.messaging.
"""
import json
import threading
import time
from collections import OrderedDict

from services.common.events import exchange_of
from services.common.listener import EventListener


def call_key(service, method, args):
    """One key per call: the same method with the same arguments for the same caller."""
    return service, method, json.dumps(args, sort_keys=True, default=str)


class ReadCache:
    """Each service's answers, their generation, and whether the events that forget them are
    heard. At most `max_entries` answers a service, the least recently used going first;
    `counter` (a prometheus Counter labelled service and outcome) counts how calls were answered."""

    def __init__(self, services, seconds, counter, max_entries=4096):
        self.seconds = seconds
        self.counter = counter
        self.max_entries = max_entries
        # service -> {key: (expires, answer)}, least recently used first; all of the service's
        # current generation, since moving it on empties them
        self._entries = {service: OrderedDict() for service in services}
        self._generations = dict.fromkeys(services, 0)
        self._lock = threading.Lock()
        self._hearing = False

    @property
    def enabled(self):
        return self.seconds > 0 and bool(self._generations)

    @property
    def services(self):
        return tuple(self._generations)

    def read(self, service, method, args, call):
        """The answer of `call()` for `service.method(*args)`: from memory while nothing has
        changed in the service, else from the call (and kept). Answers are shared: read-only."""
        if not self.enabled or service not in self._generations:
            return call()
        if not self._hearing:
            self.counter.labels(service, "bypass").inc()
            return call()
        key = call_key(service, method, args)
        now = time.monotonic()
        with self._lock:
            generation, entries = self._generations[service], self._entries[service]
            entry = entries.get(key)
            if entry is not None and entry[0] > now:
                entries.move_to_end(key)
                self.counter.labels(service, "hit").inc()
                return entry[1]
        self.counter.labels(service, "miss").inc()
        answer = call()
        with self._lock:
            if self._hearing and self._generations[service] == generation:
                entries = self._entries[service]
                entries[key] = (now + self.seconds, answer)
                entries.move_to_end(key)
                while len(entries) > self.max_entries:
                    entries.popitem(last=False)
        return answer

    def forget(self, service):
        """Something changed in `service`: none of its answers held so far is served again,
        nor kept if read before now."""
        with self._lock:
            if service in self._generations:
                self._move_on(service)

    def hearing(self, heard):
        """The events are heard from now on (True), or no longer (False). Either way what is
        held goes: changes made while nobody listened went unheard."""
        with self._lock:
            self._hearing = heard
            for service in self._generations:
                self._move_on(service)

    def _move_on(self, service):
        """A new generation of `service`'s answers, none held yet (called under the lock)."""
        self._generations[service] += 1
        self._entries[service] = OrderedDict()


def ChangeListener(amqp_uri, cache):
    """The listener that tells `cache` of every event of its services (forgetting their
    answers), and whether events are heard at all."""
    service_of = {exchange_of(service): service for service in cache.services}
    return EventListener(amqp_uri, {exchange: ["#"] for exchange in service_of},
                         lambda exchange, key, event: cache.forget(service_of.get(exchange)),
                         "read-cache-listener", on_hearing=cache.hearing, enabled=cache.enabled)
