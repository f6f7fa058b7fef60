"""Carries the correlation id of the RPC call or event into the worker's logs and events."""
from nameko.extensions import DependencyProvider

from services.common.logs import correlation_id, new_correlation_id


class CorrelationContext(DependencyProvider):
    """Sets the log correlation id for each worker from the caller's context data (the gateway
    sends it as the `nameko.correlation_id` header; event handlers take it from the event)."""

    def worker_setup(self, worker_ctx):
        correlation_id.set(worker_ctx.data.get("correlation_id") or new_correlation_id())

    def get_dependency(self, worker_ctx):
        return correlation_id.get()
