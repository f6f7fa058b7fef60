"""Runs one Nameko service in this process: `python -m services.<name>`, or for any service
class `python -m services.common.runner package.module:Class`.

Configuration comes from the environment (services.common.config), so the same command serves
`make run`, the tests and the container images. Eventlet must patch the standard library
before anything else is imported, hence the late imports.

While the service runs, its event loop touches a heartbeat file (`heartbeat_file`) every few
seconds: the container's liveness check (`bkpm-entrypoint alive`) fails when the file grows old,
that is when the process is wedged (a green thread holding the loop, a deadlock), while an
outage of the broker or the database, which the loop waits out, does not fail it.

Adapter (Nameko, eventlet): run as `python -m`, imported by nothing.
"""
import eventlet

eventlet.monkey_patch()

import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from services.common.config import settings  # noqa: E402
from services.common.logs import configure_logging  # noqa: E402

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10
# deploy/entrypoint.sh `alive` allows the file six beats of age before it calls the process wedged.
HEARTBEAT_SECONDS = 5


def nameko_config(config):
    return {
        "AMQP_URI": config.amqp_uri,
        # Heartbeats keep the consumer's connection known-alive; missing ones trigger reconnects.
        "HEARTBEAT": 30,
        "max_workers": 10,
        "parent_calls_tracked": 10,
    }


def heartbeat_file(service_name):
    """The file a running service touches from its event loop (`$TMPDIR/bkpm-<name>.heartbeat`)."""
    return Path(tempfile.gettempdir()) / f"bkpm-{service_name}.heartbeat"


def beat(path):
    """Touch `path` every HEARTBEAT_SECONDS, for as long as the event loop turns."""
    while True:
        path.touch()
        eventlet.sleep(HEARTBEAT_SECONDS)


def run(service_path):
    """Start the service class at 'package.module:Class' and block until SIGTERM or SIGINT."""
    config = settings()
    module_name, class_name = service_path.split(":")
    service_class = getattr(importlib.import_module(module_name), class_name)
    configure_logging(service_class.name, config.log_level)

    runner = ServiceRunner(nameko_config(config))
    runner.add_service(service_class)

    def shutdown(signum, frame):
        log.info("stopping %s on signal %s", service_class.name, signum)
        eventlet.spawn_n(runner.stop)
        eventlet.spawn_after(STOP_GRACE_SECONDS, force_stop)

    def force_stop():
        # A graceful stop can hang when the broker is gone (consumers wait to cancel); the
        # process must still end.
        log.warning("%s did not stop within %ss; killing its workers", service_class.name, STOP_GRACE_SECONDS)
        runner.kill()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    heartbeat = heartbeat_file(service_class.name)
    eventlet.spawn_n(beat, heartbeat)
    runner.start()
    log.info("service %s started", service_class.name)
    try:
        for container in runner.containers:
            container.wait()
    except Exception:
        # Nameko's runner would try a graceful stop here, which hangs when the broker is gone:
        # a process left running but serving nothing. Exiting lets the supervisor start it again.
        log.critical("service %s failed; exiting", service_class.name, exc_info=True)
        os._exit(1)
    heartbeat.unlink(missing_ok=True)
    log.info("service %s stopped", service_class.name)


if __name__ == "__main__":
    run(sys.argv[1])
