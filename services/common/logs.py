"""JSON logs carrying the correlation id of the request or event being handled.

Framework-free core: every process configures its logging with it."""
import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

from services.common.errors import DomainError

correlation_id = contextvars.ContextVar("correlation_id", default=None)


# The HTTP header a request's correlation id comes and goes in (the gateway's and the web's).
CORRELATION_HEADER = "X-Correlation-ID"
# What a caller may send as its own id: anything else is replaced, since it goes into every log line.
CORRELATION_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_correlation_id():
    return uuid.uuid4().hex


def bind_correlation_id(sent):
    """The request's correlation id (the one a caller sent, when it is one; a new one otherwise),
    bound to the context so that every log line of the request carries it."""
    chosen = sent if CORRELATION_PATTERN.match(sent) else new_correlation_id()
    correlation_id.set(chosen)
    return chosen


class _CorrelationFilter(logging.Filter):
    def filter(self, record):
        record.correlation_id = correlation_id.get()
        return True


class _ExpectedErrorFilter(logging.Filter):
    """Nameko logs every exception a worker raises with its traceback. A domain error (invalid
    input, a broken rule) is an answer, not a failure: the per-call line says it already."""

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DomainError)


def configure_logging(component, level="INFO"):
    """Send every log line of this process to stdout as one JSON object."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_CorrelationFilter())
    handler.addFilter(_ExpectedErrorFilter())
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        static_fields={"component": component},
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pika narrates every connection step at INFO.
    logging.getLogger("pika").setLevel(logging.WARNING)
