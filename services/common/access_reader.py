"""`Readers`: who is handed personal data through which route, for the access log
(services/common/access_log.py).

Adapter (Nameko): imported by the entrypoints of the services that hand out personal data."""
from nameko.extensions import DependencyProvider

from services.common.access import Actor
from services.common.access_log import Reader


class Readers(DependencyProvider):
    """`self.reader(actor)`, or `self.reader("notifikasi")` for a service calling an internal
    lookup: the Reader of this call, its route the entrypoint's RPC method."""

    def get_dependency(self, worker_ctx):
        route = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"

        def reader(who):
            if isinstance(who, Actor):
                return Reader(route, sub=who.sub, roles=tuple(who.roles))
            return Reader(route, service=who)
        return reader
