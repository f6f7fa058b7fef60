"""The storage dependency of every service: its repository on its own database, with the
unit of work that writes through the outbox.

Adapter (Nameko, pymongo): imported by services' entrypoints."""
from nameko.extensions import DependencyProvider

from services.common.extensions import MongoDatabase
from services.common.config import settings
from services.common.mongo import connect, ensure_indexes
from services.common.outbox import IDEMPOTENCY_INDEXES, OUTBOX_INDEXES, OutboxRelay, UnitOfWork, event_schemas


def call_deadline(worker_ctx):
    """The caller's deadline in epoch seconds, when it sent one (the gateway does)."""
    deadline_ms = worker_ctx.data.get("deadline")
    return deadline_ms / 1000 if isinstance(deadline_ms, int) else None


class Store(DependencyProvider):
    """Injects `repository_class(db, unit_of_work)`.

    The repository declares its indexes in `INDEXES` ({collection: [IndexModel, ...]}); they
    are created when the service starts, with the outbox's and the idempotency keys'.
    `data_schemas` maps each event type the service emits to the marshmallow schema of its
    data, `public_schemas` to the schema of its public projection
    (services.common.events.public_schema); every event type has both, or the service does not
    start."""

    database = MongoDatabase()
    relay = OutboxRelay()

    def __init__(self, repository_class, data_schemas, public_schemas):
        self.repository_class = repository_class
        self.event_schemas = event_schemas(data_schemas, public_schemas)

    def setup(self):
        # Its own short-lived client: shared extensions are set up concurrently, so the
        # service's client may not exist yet; and every setup ends before any entrypoint
        # starts, so no request runs before the indexes that guard its rules exist.
        config = settings()
        client = connect(config.effective_mongo_uri)
        try:
            ensure_indexes(client[config.database_name(self.container.service_name)],
                           {**OUTBOX_INDEXES, **IDEMPOTENCY_INDEXES, **self.repository_class.INDEXES})
        finally:
            client.close()

    def get_dependency(self, worker_ctx):
        # The call's idempotency key, which the RPC entrypoint took out of what Nameko passes on
        # (services.common.messaging.CallData); event handlers and timers have none.
        uow = UnitOfWork(self.database.client, self.database.db, self.container.service_name,
                         self.event_schemas, on_commit=self.relay.wake, deadline=call_deadline(worker_ctx),
                         idempotency=getattr(worker_ctx.data, "idempotency", None))
        return self.repository_class(self.database.db, uow)
