"""gunicorn settings for the gateway: threaded workers (no eventlet), sized from the environment,
each writing its Prometheus metrics where the master, on METRICS_PORT, sums them."""
import os
import tempfile

# Before prometheus_client is imported anywhere: the workers then count in files of this directory.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bkpm-gateway-metrics-"))

from prometheus_client import multiprocess  # noqa: E402

from services.common.config import settings  # noqa: E402
from services.common.metrics import serve_gateway_metrics  # noqa: E402

_config = settings()
bind = f"0.0.0.0:{_config.gateway_port}"
worker_class = "gthread"
workers = _config.gateway_workers
threads = _config.gateway_threads
timeout = 30
graceful_timeout = 10
accesslog = None
errorlog = "-"
# Several gateways may run on one machine (tests beside `make run`); none needs the socket.
control_socket_disable = True


def when_ready(server):
    """The metrics, apart from the API, so that a proxy in front need not keep them private."""
    if _config.metrics_port:
        serve_gateway_metrics(_config.metrics_port)
        server.log.info("metrics on port %d", _config.metrics_port)


def post_worker_init(worker):
    """The read cache's listener (services/common/cache.py), a thread of each worker, after the fork
    (the benchmark's bare hello app, served with this file too, has none)."""
    listener = getattr(worker.wsgi, "extensions", {}).get("change_listener")
    if listener is not None:
        listener.start()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
