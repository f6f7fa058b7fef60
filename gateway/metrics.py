"""The gateway's Prometheus metrics: what each worker counts per request (`count_request`), and
the process serving them on METRICS_PORT, summed over its gunicorn workers, which count in the
files of PROMETHEUS_MULTIPROC_DIR (gateway/gunicorn_conf.py). That process is one of its own,
started by gunicorn's master once it is ready: the master forks its workers from then on, which
it should not do while a thread of its own is serving."""
import logging
import signal

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from services.common.config import settings
from services.common.logs import configure_logging
from services.common.metrics import HTTP_REQUESTS, HTTP_SECONDS

log = logging.getLogger(__name__)

# The methods counted by name; any other a client invents is counted as OTHER_METHOD, and a
# path no route knows as UNMATCHED_ROUTE. Every label set is a series each worker keeps in
# memory and in its metrics file until it restarts: labels taken from the request as sent
# would let a loop of invented methods or paths grow both without end.
COUNTED_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
OTHER_METHOD, UNMATCHED_ROUTE = "other", "unmatched"


def count_request(method, url_rule, status, seconds):
    """Count one answered request by its method, its route (the rule, so ids make no new
    series) and its status."""
    method = method if method in COUNTED_METHODS else OTHER_METHOD
    route = url_rule.rule if url_rule is not None else UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(method, route, status).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


def main():
    config = settings()
    configure_logging("gateway-metrics", config.log_level)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    port = config.metrics_port
    start_http_server(port, registry=registry)
    log.info("metrics of all the gateway's workers on port %d", port)
    signal.pause()  # serving is the server's thread; SIGTERM ends both


if __name__ == "__main__":
    main()
