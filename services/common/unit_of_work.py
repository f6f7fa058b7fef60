"""What a use case needs to change data, as an interface: the unit of work that runs a change
and its events as one, and the transaction it hands to the change.

Framework-free core: use cases (services/<name>/usecases.py) import this; the MongoDB outbox
(services.common.outbox) implements it, and the tests' in-memory fake (tests/unit/fakes.py)
too. It imports nothing but the standard library."""
from abc import ABC, abstractmethod


class DuplicateKey(Exception):
    """A write broke a unique rule the store keeps (one unit per area, one active holder per
    position, one NIK): `fields` names the rule's key, so a use case can tell which it was."""

    def __init__(self, fields=()):
        super().__init__(f"duplicate key on {', '.join(fields) or 'a unique index'}")
        self.fields = tuple(fields)


class Transaction(ABC):
    """What a change is given: pass it to every write of the repository, and `emit` the events
    the change causes (published if and only if the writes commit)."""

    @abstractmethod
    def emit(self, event_type, subject, record, wilayah=None):
        """Record an event of `event_type` about `subject`, whose data is `record` as the
        event type's schema shows it, concerning the area `wilayah` (None: national)."""


class UnitOfWork(ABC):
    @abstractmethod
    def commit(self, work):
        """Run `work(tx)` as one transaction with the events it emits and return its result;
        DuplicateKey when it broke a unique rule, and nothing of it is kept when it raises.
        `work` may be run more than once (a transient conflict is retried), so it changes
        nothing but through the repository with `tx`."""
