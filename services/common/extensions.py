"""The small Nameko extensions every service has: its database, the correlation id of the
call or event being handled, and its metrics server."""
import logging
import time
import weakref

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider, SharedExtension
from prometheus_client import start_http_server

from services.common.access import Actor
from services.common.config import settings
from services.common.eventlog import EventLogQuerySchema, read_log
from services.common.errors import (DATABASE_UNAVAILABLE, METHOD_NOT_YET_KNOWN, DomainError, InvalidInput,
                                    Unavailable)
from services.common.logs import correlation_id, new_correlation_id
from services.common.messaging import CachedRpcProxy, rpc
from services.common.metrics import WORKER_SECONDS
from services.common.mongo import connect
from services.common.schema import load

log = logging.getLogger(__name__)


class MongoDatabase(SharedExtension):
    """The service's own database, one client per service process."""

    def setup(self):
        config = settings()
        self.client = connect(config.effective_mongo_uri)
        self.db = self.client[config.database_name(self.container.service_name)]

    def kill(self):
        self.client.close()

    # No `stop`: Nameko stops shared extensions all at once, and the outbox relay still writes
    # while it stops. The client closes with the process.


class MetricsServer(SharedExtension):
    """Serves the process's metrics over HTTP when METRICS_PORT is set."""

    def start(self):
        port = settings().metrics_port
        if port:
            start_http_server(port)
            log.info("metrics on port %d", port)


class CorrelationContext(DependencyProvider):
    """Sets the log correlation id for each worker from the caller's context data (the gateway
    sends it as the `nameko.correlation_id` header; event handlers take it from the event), logs
    one line per handled call or event and counts it in the metrics (served by its sub-extension)."""

    metrics = MetricsServer()

    def setup(self):
        self._started = weakref.WeakKeyDictionary()

    def get_dependency(self, worker_ctx):
        # Called before worker_setup: the id is settled here, once, in the worker's context data
        # (which Nameko also passes on to any call the worker makes).
        if not worker_ctx.data.get("correlation_id"):
            worker_ctx.data["correlation_id"] = new_correlation_id()
        return worker_ctx.data["correlation_id"]

    def worker_setup(self, worker_ctx):
        correlation_id.set(worker_ctx.data["correlation_id"])
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        entrypoint = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"
        outcome = "ok"
        if exc_info is not None:
            outcome = exc_info[1].payload["code"] if isinstance(exc_info[1], DomainError) else exc_info[0].__name__
        if started:
            WORKER_SECONDS.labels(self.container.service_name, worker_ctx.entrypoint.method_name,
                                  outcome).observe(duration_ms / 1000)
        if exc_info is None:
            # Readiness probes ping every few seconds; they are not worth a line each.
            level = logging.DEBUG if worker_ctx.entrypoint.method_name == "ping" else logging.INFO
            log.log(level, "%s handled", entrypoint, extra={"duration_ms": duration_ms})
        else:
            # The code of a domain error, the type of anything else: never the message, which
            # may quote what the caller sent (a NIK, a phone number).
            log.info("%s answered %s", entrypoint, outcome, extra={"duration_ms": duration_ms})


def ask(service, method, *args):
    """Call another service through a Nameko RpcProxy, giving up after SERVICE_CALL_TIMEOUT:
    a service that does not answer, answers that it or its database is unavailable, or does
    not know the method yet (older than the caller, while an upgrade goes through), makes this
    call Unavailable (503), never a hang or a 500."""
    name = service.service_name
    try:
        with eventlet.Timeout(settings().service_call_timeout):
            return getattr(service, method)(*args)
    except (eventlet.Timeout, UnknownService):
        raise Unavailable(f"Layanan {name} tidak menjawab; coba lagi sebentar lagi.") from None
    except RemoteError as exc:
        if exc.exc_type in DATABASE_UNAVAILABLE:
            raise Unavailable(f"Basis data layanan {name} tidak menjawab; coba lagi sebentar lagi.") from None
        if exc.exc_type == Unavailable.__name__:
            raise Unavailable(f"Layanan {name} sedang tidak tersedia; coba lagi sebentar lagi.") from None
        if exc.exc_type == METHOD_NOT_YET_KNOWN:
            log.warning("%s does not know %s yet: an older version still runs", name, method)
            raise Unavailable(f"Layanan {name} sedang diperbarui; coba lagi sebentar lagi.") from None
        raise


# What the other services look up in organisasi: its units, their boards and members, and the
# area reference. Each changes only with an organisasi event (`bkpm wilayah import` announces
# its changes with `wilayah.diperbarui`), which is what lets them be kept in memory
# (docs/architecture.md, "Lookups in organisasi").
# (`wilayah_dikenal` is not among them: asked with a whole import's villages, its answers would
# be large and seldom asked again.)
ORGANISASI_LOOKUPS = ("unit_ringkas", "unit_dan_wilayah", "penanggung_jawab_wilayah", "kontak_unit",
                      "kontak_pengurus", "kontak_sekretaris")


def organisasi_proxy():
    """The dependency through which a service asks organisasi: its lookups answered from the
    process's memory while organisasi has changed nothing."""
    return CachedRpcProxy("organisasi", ORGANISASI_LOOKUPS)


def known_unit(organisasi, unit_id):
    """The unit `unit_id` as organisasi knows it; a field error on `unit_id` if there is none."""
    return found_unit(ask(organisasi, "unit_ringkas", unit_id), unit_id)


def found_unit(unit, unit_id):
    """`unit`, what organisasi answered for `unit_id`; a field error on `unit_id` if None."""
    if unit is None:
        raise InvalidInput({"unit_id": [f"Unit {unit_id} tidak ditemukan."]})
    return unit


class BaseService:
    """What every service has: the correlation id of each call in its logs, and a readiness
    ping that answers only when its database does. A service adds `name` and `store`."""

    context = CorrelationContext()

    @rpc
    def ping(self):
        self.store.ping()
        return {"status": "ok"}

    @rpc
    def event_log(self, actor, query, after):
        """This service's public events after place `after`, as the caller may see them: in
        their area (national events only for national callers)."""
        actor = Actor.from_dict(actor)
        query = load(EventLogQuerySchema, query)
        return read_log(self.store.db, after, query, actor.visible_area(query.get("wilayah")))
