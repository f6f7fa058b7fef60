"""The small Nameko extensions every service has: its database, and the correlation id of the
call or event being handled."""
from nameko.extensions import DependencyProvider, SharedExtension

from services.common.config import settings
from services.common.logs import correlation_id, new_correlation_id
from services.common.mongo import connect


class MongoDatabase(SharedExtension):
    """The service's own database, one client per service process."""

    def setup(self):
        config = settings()
        self.client = connect(config.effective_mongo_uri)
        self.db = self.client[config.database_name(self.container.service_name)]

    def kill(self):
        self.client.close()

    stop = kill


class CorrelationContext(DependencyProvider):
    """Sets the log correlation id for each worker from the caller's context data (the gateway
    sends it as the `nameko.correlation_id` header; event handlers take it from the event)."""

    def worker_setup(self, worker_ctx):
        correlation_id.set(worker_ctx.data.get("correlation_id") or new_correlation_id())

    def get_dependency(self, worker_ctx):
        return correlation_id.get()
