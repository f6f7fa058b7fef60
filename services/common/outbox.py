"""Reliable publishing: the transactional outbox and its relay.

A change and the events it causes are written in one MongoDB transaction: the events go to the
service's `outbox` collection. The relay, running inside every service process, publishes
pending entries in order with publisher confirms and only then marks them published. So an
event is published if and only if its write committed; a process killed after the commit and
before the publish publishes on its next start. A crash between the broker's confirm and the
marking publishes an event twice: consumers are idempotent by event id. Published entries are
kept: the outbox is also the service's event log.

Adapter (pymongo, kombu, Nameko): imported by services.common.store and the other adapters.
"""
import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import kombu
from amqp.exceptions import MessageNacked
from bson import ObjectId
from kombu.serialization import register
from nameko.extensions import SharedExtension
import pymongo
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from services.common.config import settings
from services.common.errors import DomainError, Unavailable
from services.common.events import INTERNAL, PUBLIC_EXCHANGE, exchange_of, new_event, public_event, public_routing_key
from services.common.logs import correlation_id
from services.common.extensions import MongoDatabase
from services.common.idempotency import KEEP_SECONDS, WAIT_SECONDS, KeyClaimed, answer_of, pending, replay
from services.common.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING
from services.common.mongo import utcnow
from services.common.schema import instance
from services.common import unit_of_work

log = logging.getLogger(__name__)

OUTBOX = "outbox"
LEASES = "leases"
COUNTERS = "counters"
OUTBOX_INDEXES = {
    OUTBOX: [
        IndexModel([("event.id", ASCENDING)], unique=True, name="event_id"),
        IndexModel([("published", ASCENDING), ("_id", ASCENDING)], name="pending"),
        IndexModel([("seq", ASCENDING)], name="event_log"),
    ],
}
BATCH_SIZE = 200
# A broker that does not confirm within this is treated as gone: well inside the lease, so a
# stalled relay gives up before another instance may take over.
BROKER_TIMEOUT_SECONDS = 5
# A crashed instance's lease blocks the others this long at most; a stopped one releases it.
LEASE_SECONDS = 10
# The holder renews it once this much of it has passed: 8 s of it are left when a batch starts.
LEASE_RENEW_AFTER_SECONDS = 2
# A batch is marked published only this long before the lease ends at the latest, by this
# process's clock (a margin for the hosts' clocks): after that another instance may have taken
# over, and two relays giving places at once could give a place behind a reader's cursor.
LEASE_MARGIN_SECONDS = 1
# How often the relay looks for events past EVENT_LOG_RETENTION_DAYS (sooner for a shorter one).
FORGET_EVERY_SECONDS = 300

# Structured-mode CloudEvents over AMQP carry this content type; the body is plain JSON.
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
register("cloudevents", kombu.utils.json.dumps, kombu.utils.json.loads,
         content_type=CLOUDEVENTS_CONTENT_TYPE, content_encoding="utf-8")


def crash_if(point):
    """Fault injection for the crash tests: die here, as kill -9 would, when asked to."""
    if settings().fault_crash_point == point:
        log.warning("fault injection: exiting at %s", point)
        os._exit(17)


def topic_exchange(name):
    return kombu.Exchange(name, type="topic", durable=True)


def event_schemas(data_schemas, public_schemas):
    """{event type: (schema of its data, schema of its public projection)} of a service, from
    its two maps; an event type without both is refused (ValueError), as is a projection naming
    a field its data schema lacks (at once, not at the first event). A projection of None makes
    the event type internal (services.common.events.INTERNAL)."""
    if set(data_schemas) != set(public_schemas):
        raise ValueError(f"event types without a public projection, or the other way round: "
                         f"{sorted(set(data_schemas) ^ set(public_schemas))}")
    for public_schema in public_schemas.values():
        if public_schema is not INTERNAL:
            public_schema()
    return {event_type: (schema, public_schemas[event_type]) for event_type, schema in data_schemas.items()}


class Transaction(unit_of_work.Transaction):
    """What the unit of work hands to the code that changes data: the session the repository
    passes to every write, and `emit` to record an event published if and only if the writes
    commit."""

    def __init__(self, service, session, event_schemas):
        self.service = service
        self.session = session
        self.event_schemas = event_schemas
        self.entries = []

    def emit(self, event_type, subject, record, wilayah=None):
        """Record an event whose data is `record` as the event type's data schema shows it
        (only the fields the schema lists leave the service), with its public projection."""
        data_schema, public_schema = self.event_schemas[event_type]
        event = new_event(self.service, event_type, subject, instance(data_schema).dump(record), wilayah=wilayah,
                          correlation_id=correlation_id.get())
        public_data = None if public_schema is INTERNAL else instance(public_schema).dump(record)
        self.entries.append(outbox_entry(self.service, event, public_data))
        return event


def emit_after(db, service, schemas, event_type, subject, record, wilayah=None):
    """Put one event in the service's outbox on its own, for a job whose writes are not one
    transaction (the area import writes in bulk): written after them, it is published by the
    service's relay like any other. A job that dies before writing it must see to it the next
    time it runs (the area import leaves a note of what it has not announced)."""
    tx = Transaction(service, None, schemas)
    event = tx.emit(event_type, subject, record, wilayah)
    db[OUTBOX].insert_many(tx.entries)
    return event


IDEMPOTENSI = "idempotensi"
# The idempotency keys of the calls that changed something, each with the first call's answer
# (services/common/idempotency.py), forgotten by the database a day later.
IDEMPOTENCY_INDEXES = {
    IDEMPOTENSI: [IndexModel([("dibuat", ASCENDING)], expireAfterSeconds=KEEP_SECONDS, name="kedaluwarsa")],
}
# A claimed key whose call has not kept its answer this long after the call's deadline never will:
# its call failed, or its process died, after the change.
ANSWER_MARGIN_SECONDS = 5
# The deadline given a claiming call that brought none (every call from the gateway brings one).
DEFAULT_ANSWER_SECONDS = 60
REPLAY_POLL_SECONDS = 0.05


class UnitOfWork(unit_of_work.UnitOfWork):
    """A change and its events in one MongoDB transaction, the events in the outbox; and the
    call's idempotency key, claimed by its first change (`once`)."""

    def __init__(self, client, db, service, event_schemas, on_commit, deadline=None, idempotency=None):
        self.client = client
        self.db = db
        self.service = service
        self.event_schemas = event_schemas
        self.on_commit = on_commit
        self.deadline = deadline  # epoch seconds after which the caller no longer waits
        self.idempotency = idempotency  # the call's Claim (services/common/idempotency.py), or None

    def once(self, run):
        """`run()`, once per idempotency key: a call whose key an earlier change claimed gets that
        call's answer instead (idempotency.replay). The key is claimed in the transaction of the
        call's first commit; a call that commits nothing (a read, a refusal) keeps nothing, so a
        corrected retry under the same key runs."""
        claim = self.idempotency
        if claim is None:
            return run()
        if self._stored(claim) is not None:
            return self._replay(claim)
        try:
            result = run()
        except KeyClaimed:
            return self._replay(claim)
        except DomainError as error:
            if claim.claimed:
                self._keep(claim, answer_of(error=error))
            elif self._stored(claim) is not None:
                # A duplicate sent at the same time made its change first, and the rule that change
                # keeps (one unit per area) refused this one: the first one's answer is the answer.
                return self._replay(claim)
            raise
        if claim.claimed:
            self._keep(claim, answer_of(kombu.utils.json.dumps(result)))
        return result

    def _stored(self, claim):
        """The stored claim of the call's key; one older than a day is gone (the TTL index takes a
        minute or so to remove it)."""
        stored = self.db[IDEMPOTENSI].find_one({"_id": claim.key})
        if stored is not None and stored["dibuat"] < utcnow() - timedelta(seconds=KEEP_SECONDS):
            self.db[IDEMPOTENSI].delete_one({"_id": claim.key, "dibuat": stored["dibuat"]})
            return None
        return stored

    def _replay(self, claim):
        """The answer kept under the call's key, waiting a little for a first call still running
        (WAIT_SECONDS at most, and never past this caller's deadline)."""
        until = time.time() + WAIT_SECONDS
        if self.deadline is not None:
            until = min(until, self.deadline - 2 * REPLAY_POLL_SECONDS)
        stored = self._stored(claim)
        while pending(stored, claim.fingerprint, time.time()) and time.time() < until:
            time.sleep(REPLAY_POLL_SECONDS)
            stored = self._stored(claim)
        return kombu.utils.json.loads(replay(stored, claim.fingerprint, time.time()))

    def _claim(self, claim, session):
        """Store the call's key in the transaction of its first change."""
        deadline = self.deadline if self.deadline is not None else time.time() + DEFAULT_ANSWER_SECONDS
        try:
            self.db[IDEMPOTENSI].insert_one({"_id": claim.key, "sidik": claim.fingerprint, "dibuat": utcnow(),
                                             "batas": deadline + ANSWER_MARGIN_SECONDS}, session=session)
        except DuplicateKeyError:
            raise KeyClaimed() from None

    def _keep(self, claim, answer):
        """Keep the call's answer beside its claimed key: after the change's transaction (the
        answer exists only once it committed). Failing here costs only the answer: a repeat is
        told so (409) rather than given it."""
        try:
            self.db[IDEMPOTENSI].update_one({"_id": claim.key}, {"$set": {"jawaban": answer}})
        except PyMongoError as exc:
            log.warning("could not keep the answer of a call with an idempotency key: %r", exc)

    def commit(self, work):
        """Run `work(tx)` in one transaction that also stores its events in the outbox (and, for
        the call's first change, its idempotency key).

        The driver retries the whole callback on transient errors, so `work` must write only
        through `tx.session` and have no other side effects."""
        claim = self.idempotency if self.idempotency is not None and not self.idempotency.claimed else None

        def attempt(session):
            if claim is not None:
                self._claim(claim, session)
            tx = Transaction(self.service, session, self.event_schemas)
            result = work(tx)
            if tx.entries:
                self.db[OUTBOX].insert_many(tx.entries, session=session)
            return result, tx.entries

        # Nothing is committed after the caller's deadline: a caller told "unavailable" must
        # not find the change made later.
        remaining = None if self.deadline is None else self.deadline - time.time()
        if remaining is not None and remaining <= 0:
            raise Unavailable("Batas waktu permintaan sudah lewat; tidak ada perubahan yang disimpan.")
        try:
            with pymongo.timeout(remaining), self.client.start_session() as session:
                result, events = session.with_transaction(attempt)
        except DuplicateKeyError as exc:
            raise unit_of_work.DuplicateKey(tuple((exc.details or {}).get("keyPattern", {}))) from None
        except PyMongoError as exc:
            if exc.timeout:
                raise Unavailable("Basis data tidak menjawab tepat waktu; tidak ada perubahan yang disimpan.") from None
            raise
        if claim is not None:
            claim.claimed = True
        crash_if("after_commit")
        if events:
            self.on_commit()
        return result


def outbox_entry(service, event, public_data):
    """An event waiting for the relay: for the service's own exchange, and in its public form
    for the public feed, unless it is internal (`public_data` None: no public form, so neither
    the feed nor the event log ever has it). `seq` is its place in the service's event log,
    given when published."""
    public = None if public_data is None else {
        "routing_key": public_routing_key(service, event), "event": public_event(event, public_data)}
    return {
        "_id": ObjectId(),  # grows with time within a process: the relay's order
        "exchange": exchange_of(service),
        "routing_key": event["type"],
        "event": event,
        "public": public,
        "created": utcnow(),
        "published": None,
        "seq": None,
    }


class Confirms:
    """Publisher confirms on one channel (py-amqp's, under kombu), waited for once per batch:
    a batch's messages all go out, then the relay waits until the broker has confirmed every
    one, instead of a round trip per message (two per event)."""

    def __init__(self, channel):
        channel.confirm_select()
        self.channel = channel
        self.published = 0  # the broker numbers the channel's messages 1, 2, ... as published
        self.unconfirmed = set()
        self.refused = False
        channel.events["basic_ack"].add(self._confirmed)
        channel.events["basic_nack"].add(self._refused)

    def sent(self):
        self.published += 1
        self.unconfirmed.add(self.published)

    def wait(self, connection, timeout):
        """Until the broker has confirmed everything sent; raises if it refused any (so the
        batch stays pending and is published again) or did not answer within `timeout`."""
        deadline = time.monotonic() + timeout
        while self.unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the broker did not confirm {len(self.unconfirmed)} messages in {timeout} s")
            connection.drain_events(timeout=remaining)
        if self.refused:
            self.refused = False
            raise MessageNacked("the broker refused a message of the batch")

    def _confirmed(self, tag, multiple):
        self.unconfirmed = {t for t in self.unconfirmed if t > tag} if multiple else self.unconfirmed - {tag}

    def _refused(self, tag, multiple):
        self.refused = True
        self._confirmed(tag, multiple)


class OutboxRelay(SharedExtension):
    """Publishes the outbox of this service's database, woken at each commit and polling as a
    safety net. Several instances of a service share one database: a lease lets only one of
    them publish at a time, so scaling out does not multiply events."""

    database = MongoDatabase()

    def setup(self):
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.poll_seconds = settings().outbox_poll_seconds
        days = settings().event_log_retention_days
        self.retention = None if days is None else timedelta(days=days)
        self._next_forgetting = 0
        self.amqp_uri = settings().amqp_uri
        self._wakeup = threading.Event()
        self._running = False
        self._connection = None
        self._declared = set()
        self._lease_taken = float("-inf")  # when this process last took or renewed the lease (monotonic)
        self._confirms = None

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier="outbox-relay")

    def stop(self):
        self._running = False
        self._wakeup.set()
        self._thread.wait()
        self._disconnect()
        try:
            with pymongo.timeout(1):  # the database may be gone already; the lease expires anyway
                self.database.db[LEASES].delete_one({"_id": "outbox-relay", "owner": self.owner})
        except PyMongoError:
            log.warning("could not release the outbox relay lease; it expires in %ss", LEASE_SECONDS)

    def kill(self):
        self._running = False
        self._thread.kill()
        self._disconnect()

    def wake(self):
        self._wakeup.set()

    def _run(self):
        while self._running:
            self._wakeup.clear()
            try:
                while self._running and self.relay_batch():
                    pass
                self._forget_old()
            except Exception:
                log.exception("outbox relay failed; will retry")
                self._disconnect()
            self._wakeup.wait(self.poll_seconds)

    def relay_batch(self):
        """Publish one batch of pending events; True when there may be more."""
        if not self._hold_lease():
            return False
        outbox = self.database.db[OUTBOX]
        pending = list(outbox.find({"published": None}).sort("_id", ASCENDING).limit(BATCH_SIZE))
        OUTBOX_PENDING.labels(self.container.service_name).set(
            len(pending) if len(pending) < BATCH_SIZE else outbox.count_documents({"published": None}))
        if not pending:
            return False
        producer = self._producer()
        for entry in pending:
            self._publish(producer, entry["exchange"], entry["routing_key"], entry["event"], entry["created"],
                          {"nameko.correlation_id": entry["event"].get("correlationid")})
            if entry.get("public"):
                self._publish(producer, PUBLIC_EXCHANGE, entry["public"]["routing_key"], entry["public"]["event"],
                              entry["created"])
        self._confirms.wait(self._connection, max(0, min(BROKER_TIMEOUT_SECONDS, self._lease_left())))
        if self._lease_left() <= 0:
            # Too slow a batch: it stays pending, and is published again (consumers skip repeats).
            log.warning("outbox batch outlasted the relay's lease; not marked, published again later")
            self._lease_taken = float("-inf")
            return False
        crash_if("before_mark_published")
        self._mark_published(pending)
        EVENTS_PUBLISHED.labels(self.container.service_name).inc(len(pending))
        OUTBOX_PENDING.labels(self.container.service_name).dec(len(pending))
        log.debug("relayed %d events", len(pending))
        return len(pending) == BATCH_SIZE

    def _publish(self, producer, exchange_name, routing_key, event, created, headers=None):
        exchange = topic_exchange(exchange_name)
        if exchange_name not in self._declared:
            exchange(producer.channel).declare()
            self._declared.add(exchange_name)
        producer.publish(
            event, exchange=exchange, routing_key=routing_key, serializer="cloudevents",
            delivery_mode=2, message_id=event["id"], retry=False, timeout=BROKER_TIMEOUT_SECONDS,
            timestamp=int(created.timestamp()), headers=headers or {},
        )
        self._confirms.sent()

    def _forget_old(self):
        """Events published longer ago than EVENT_LOG_RETENTION_DAYS leave the log (never one
        not yet published); by the lease holder only, once in a while rather than every round."""
        if self.retention is None or time.monotonic() < self._next_forgetting:
            return
        self._next_forgetting = time.monotonic() + min(FORGET_EVERY_SECONDS, self.retention.total_seconds())
        if self._hold_lease():
            self.database.db[OUTBOX].delete_many({"published": {"$lt": datetime.now(timezone.utc) - self.retention}})

    def _mark_published(self, entries):
        """Mark a batch published and give each its place in the event log (`seq`, in the
        order published): the places are taken from the counter at once, then given in order
        (an ordered bulk write), so a reader of the log never sees a later place before an
        earlier one and a cursor that moves past a place never skips an event.

        No multi-document transaction: only the lease holder gives places, and a crash between
        the two steps leaves only unused places (a gap readers step over) and entries still
        pending, published again. A transaction here would also be held open for a minute by
        the database if the process were killed inside it, stalling its successor's relay."""
        counter = self.database.db[COUNTERS].find_one_and_update(
            {"_id": "event-log"}, {"$inc": {"seq": len(entries)}}, upsert=True,
            return_document=pymongo.ReturnDocument.AFTER)
        first = counter["seq"] - len(entries) + 1
        published = datetime.now(timezone.utc)
        self.database.db[OUTBOX].bulk_write(
            [pymongo.UpdateOne({"_id": entry["_id"], "published": None},
                               {"$set": {"published": published, "seq": first + n}})
             for n, entry in enumerate(entries)], ordered=True)

    def _lease_left(self):
        """Seconds this process may still act as the lease holder, by its own clock."""
        return self._lease_taken + LEASE_SECONDS - LEASE_MARGIN_SECONDS - time.monotonic()

    def _hold_lease(self):
        """Take or keep the lease. Renewed only when a good part of it has run out rather than
        for every batch (a write less per event at low load); what is left when a batch starts
        is always well over the broker's timeout, so the batch ends before anyone may take over."""
        if time.monotonic() < self._lease_taken + LEASE_RENEW_AFTER_SECONDS:
            return True
        now = datetime.now(timezone.utc)
        taken = time.monotonic()
        try:
            self.database.db[LEASES].update_one(
                {"_id": "outbox-relay", "$or": [{"owner": self.owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "until": now + timedelta(seconds=LEASE_SECONDS)}},
                upsert=True)
        except DuplicateKeyError:
            return False  # another instance holds it
        self._lease_taken = taken
        return True

    def _producer(self):
        if self._connection is None:
            self._connection = kombu.Connection(
                self.amqp_uri, connect_timeout=BROKER_TIMEOUT_SECONDS,
                transport_options={"read_timeout": BROKER_TIMEOUT_SECONDS, "write_timeout": BROKER_TIMEOUT_SECONDS})
            self._connection.ensure_connection(max_retries=1)
            self._declared = set()
        channel = self._connection.default_channel
        if self._confirms is None or self._confirms.channel is not channel:
            # A new connection, or kombu opened a new channel on its own: confirms on it too.
            self._confirms = Confirms(channel)
        return kombu.Producer(channel)

    def _disconnect(self):
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # already broken; nothing left to release
                pass
            self._connection = None
