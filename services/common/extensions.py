"""The small Nameko extensions every service has: its database, the correlation id of the
call or event being handled, its metrics server, and `BaseService` with the readiness ping and
the event log. Nameko adapter: imported by services' entrypoints and the other adapters."""
import logging
import time
import weakref

from nameko.extensions import DependencyProvider, SharedExtension
from nameko.timer import Timer
from prometheus_client import start_http_server

from services.common.access_log import AksesQuerySchema, list_akses
from services.common.config import settings
from services.common.eventlog import EventLogQuerySchema, read_log
from services.common.errors import DomainError
from services.common.identity import EVENT_LOG, Identities
from services.common.listener import revocation_listener
from services.common.logs import correlation_id, new_correlation_id
from services.common.messaging import CallingService, rpc
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
            # Timers tick every second and readiness probes ping every few: routine, not worth
            # a line each where people read (a failing tick is, below).
            routine = isinstance(worker_ctx.entrypoint, Timer) or worker_ctx.entrypoint.method_name == "ping"
            level = logging.DEBUG if routine else logging.INFO
            log.log(level, "%s handled", entrypoint, extra={"duration_ms": duration_ms})
        else:
            # The code of a domain error, the type of anything else: never the message, which
            # may quote what the caller sent (a NIK, a phone number).
            log.info("%s answered %s", entrypoint, outcome, extra={"duration_ms": duration_ms})


class IdentityCheck(SharedExtension):
    """This process's check of access tokens (services/common/identity.py): the public keys
    read once at start, and a listener that hears of disabled accounts."""

    def setup(self):
        config = settings()
        self.identities = Identities(config.verification_keys(), provider=config.identity_provider())
        self.listener = revocation_listener(config.amqp_uri, self.identities)

    def start(self):
        self.listener.start()


class Caller(DependencyProvider):
    """`self.caller(token, purpose=None)`: the Actor holding the access token a call carries."""

    check = IdentityCheck()

    def get_dependency(self, worker_ctx):
        return self.check.identities.actor


class BaseService:
    """What every service has: the correlation id of each call in its logs, a readiness ping
    that answers only when its database does, and `caller(token)`: who is calling, from the
    access token the call carries, checked here (services/common/identity.py), so that a
    message put on the broker with a forged caller is refused. A service adds `name` and
    `store`."""

    context = CorrelationContext()
    caller = Caller()
    calling_service = CallingService()

    @rpc
    def ping(self):
        self.store.ping()
        return {"status": "ok"}

    @rpc
    def list_event(self, token, query, after):
        """This service's public events after place `after`, as the caller may see them: in
        their area (national events only for national callers). Also what a machine account's
        token (good for nothing else) is for."""
        actor = self.caller(token, purpose=EVENT_LOG)
        query = load(EventLogQuerySchema, query)
        return read_log(self.store.db, after, query, actor.visible_area(query.get("wilayah")))

    @rpc
    def list_akses(self, token, query, after):
        """This service's access log of personal data after place `after`, for the admins of
        the area the data are in (services/common/access_log.py)."""
        return list_akses(self.caller(token), load(AksesQuerySchema, query), after, self.store, self.name)
