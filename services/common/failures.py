"""One table of what a failure means, by the name of its exception: a refusal the caller must
mend (a domain error), an outage to wait out (a service or its database down), an upgrade under
way (the callee does not know the method yet), or, for any name not in the table, a bug.

Framework-free core, read by the three places that must agree: the gateway's RPC client
(gateway/rpc.py: 4xx, 503 or 500), a service asking another (`ask` in services.common.messaging:
the callee's refusal, or 503) and the event handlers (services.common.consumer: wait out an
outage, spend a try on anything else). Names, not classes, because that is what crosses RPC
(Nameko sends the exception's class name), and because this module must not import pymongo."""
from dataclasses import dataclass

from services.common.errors import ERRORS_BY_NAME, Unavailable

REFUSED, OUTAGE, UPGRADE, BUG = "refused", "outage", "upgrade", "bug"


@dataclass(frozen=True)
class Failure:
    kind: str
    # For an outage or an upgrade: what a person is told, of the service named `service`.
    detail: str | None = None

    def unavailable(self, service):
        return Unavailable(f"{self.detail.format(service=service)}; coba lagi sebentar lagi.")


REFUSAL = Failure(REFUSED)
UNKNOWN = Failure(BUG)
DATABASE_DOWN = Failure(OUTAGE, "Basis data layanan {service} tidak menjawab")

FAILURES = {
    **dict.fromkeys(("InvalidInput", "Conflict", "NotFound", "PreconditionFailed", "Unauthorized", "Forbidden",
                     "TooManyAttempts", "TooLarge", "Unprocessable"), REFUSAL),
    # Raised by a service when something it needs did not answer in time.
    "Unavailable": Failure(OUTAGE, "Layanan {service} sedang tidak tersedia"),
    # pymongo's errors when the database does not answer (the subclasses of ConnectionFailure,
    # and the timeouts): an outage, not a bug.
    **dict.fromkeys(("AutoReconnect", "ConnectionFailure", "ExecutionTimeout", "NetworkTimeout",
                     "NotPrimaryError", "ServerSelectionTimeoutError", "WaitQueueTimeoutError",
                     "WTimeoutError"), DATABASE_DOWN),
    # Nameko's error for a method the service does not have: during an upgrade, a caller newer
    # than what it calls.
    "MethodNotFound": Failure(UPGRADE, "Layanan {service} sedang diperbarui"),
}


def failure_named(name):
    """The failure an exception of this class name is."""
    return FAILURES.get(name, UNKNOWN)


def failure_of(exc):
    """The failure a raised exception is: by its class's name or, failing that, the nearest
    base class's (a pymongo ServerSelectionTimeoutError is a ConnectionFailure); any other
    error of pymongo's that says it was a timeout (an operation past its time limit) is the
    database not answering."""
    for cls in type(exc).__mro__:
        if cls.__name__ in FAILURES:
            return FAILURES[cls.__name__]
    if type(exc).__module__.startswith("pymongo") and getattr(exc, "timeout", False) is True:
        return DATABASE_DOWN
    return UNKNOWN


def as_named(exc, service):
    """`exc` as it may cross RPC, where only its class name travels: itself, unless its name
    alone would tell another kind (a pymongo OperationFailure that was a timeout), then the
    Unavailable it stands for."""
    failure = failure_of(exc)
    if failure_named(type(exc).__name__) == failure:
        return exc
    return failure.unavailable(service)


def remote_error(service, name, args):
    """The error a caller raises for what `service` raised (its class name and arguments, as
    they crossed RPC): the domain error itself, in the callee's own words; Unavailable for an
    outage or an upgrade
    (what is down, by the table); None for a bug, which the caller reports as its own."""
    error_class = ERRORS_BY_NAME.get(name)
    if error_class and args:
        return error_class.from_payload(args[0])
    failure = failure_named(name)
    return failure.unavailable(service) if failure.kind in (OUTAGE, UPGRADE) else None
