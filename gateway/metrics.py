"""The gateway's Prometheus metrics on METRICS_PORT, summed over its gunicorn workers, which
count in the files of PROMETHEUS_MULTIPROC_DIR (gateway/gunicorn_conf.py). A process of its own,
started by gunicorn's master once it is ready: the master forks its workers from then on, which
it should not do while a thread of its own is serving."""
import logging
import signal

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from services.common.config import settings
from services.common.logs import configure_logging

log = logging.getLogger(__name__)


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
