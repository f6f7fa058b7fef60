"""gunicorn settings for the gateway: threaded workers (no eventlet), sized from the environment,
each writing its Prometheus metrics where gateway/metrics.py, on METRICS_PORT, sums them."""
import os
import subprocess
import sys
import tempfile

# Before prometheus_client is imported anywhere: the workers then count in files of this directory.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bkpm-gateway-metrics-"))

from prometheus_client import multiprocess  # noqa: E402

from services.common.config import settings  # noqa: E402
from services.stack import die_with_parent  # noqa: E402

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
    """The metrics apart from the API (a proxy in front then need not keep them private), in a
    process of their own (gateway/metrics.py) that ends with the master."""
    if _config.metrics_port:
        server.metrics_process = subprocess.Popen([sys.executable, "-m", "gateway.metrics"],
                                                  preexec_fn=die_with_parent)


def on_exit(server):
    process = getattr(server, "metrics_process", None)
    if process is not None:
        process.terminate()
        process.wait(timeout=5)


def post_worker_init(worker):
    """The worker's listeners, threads started after the fork: the read cache's
    (services/common/cache.py) and the one that hears of disabled accounts
    (services/common/identity.py). The benchmark's bare hello app, served with this file too,
    has neither."""
    extensions = getattr(worker.wsgi, "extensions", {})
    for name in ("change_listener", "revocation_listener"):
        if name in extensions:
            extensions[name].start()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
