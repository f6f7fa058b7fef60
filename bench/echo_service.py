"""The baseline of RPC and of a service's memory: a bare Nameko service with one method, run by
the platform's own runner (`python -m services.common.runner bench.echo_service:EchoService`),
so it has the same Nameko settings as the services and nothing else."""
from nameko.rpc import rpc


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value
