"""`make run`: the whole platform on this machine, in the foreground.

Starts the embedded MongoDB-wire server (SecantusDB, as its own process) unless MONGO_URI is
set, every service and the gateway; waits until /ready is green; stops everything on Ctrl-C or
SIGTERM. Children are told to die with this process too, so none is left orphaned. The
integration tests start the platform with the same functions.
"""
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

from services.common.config import SERVICES, settings
from services.common.keys import ensure_key_pair, ensure_service_keys

log = logging.getLogger("bkpm.stack")
PR_SET_PDEATHSIG = 1


class StartupFailed(Exception):
    pass


def die_with_parent(sig=signal.SIGTERM):
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def spawn(name, args, env):
    """Start a child in a session of its own, so that Ctrl-C reaches only this launcher, which
    then stops the children in order (gateway, services, database last)."""
    log.info("starting %s", name)
    process = subprocess.Popen([sys.executable, *args], env=env, preexec_fn=die_with_parent,
                               start_new_session=True)
    process.name = name
    return process


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(check, what, timeout, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for process in processes:
            if process.poll() is not None:
                name = getattr(process, "name", None) or process.args[0]  # ours are named; a bare Popen is not
                raise StartupFailed(f"{name} exited with code {process.returncode} while waiting for {what}")
        time.sleep(0.2)
    raise StartupFailed(f"timed out after {timeout:g}s waiting for {what}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_database(storage_path, port):
    """SecantusDB on 127.0.0.1:port; storage_path ':memory:' for a throwaway database."""
    process = spawn("database", ["-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
                                 "--storage-path", str(storage_path), "--log-level", "WARNING"],
                    os.environ.copy())
    wait_for(lambda: port_open("127.0.0.1", port), "the database", 30, [process])
    return process


def start_services(env, services=SERVICES):
    return [spawn(name, ["-m", f"services.{name}"], env) for name in services]


def start_gateway(env):
    return spawn("gateway", ["-m", "gunicorn", "-c", "python:gateway.gunicorn_conf", "gateway.wsgi:app"], env)


def ready(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def stop(processes, grace=10):
    """SIGTERM to all (last started first), SIGKILL to whoever is still there after `grace`."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace
    for process in reversed(processes):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %ss; killing it", process.name, grace)
            process.kill()
            process.wait()


def check_broker(config):
    amqp = urlparse(config.amqp_uri)
    host, port = amqp.hostname or "127.0.0.1", amqp.port or 5672
    if not port_open(host, port, timeout=3):
        sys.exit(f"RabbitMQ is not reachable at {host}:{port} (AMQP_URI={amqp.scheme}://{host}:{port}{amqp.path}).\n"
                 "Start it, for example with `rabbitmq-server -detached` (or `sudo systemctl start "
                 "rabbitmq-server`), or point AMQP_URI at a running broker.")


def area_reference_empty(mongo_uri, database):
    from services.common.mongo import connect
    client = connect(mongo_uri)
    try:
        return client[database]["wilayah"].estimated_document_count() == 0
    finally:
        client.close()


def main():
    die_with_parent()  # `make` or a terminal that goes away takes the platform with it
    logging.basicConfig(level=logging.INFO, format="[stack] %(message)s")
    config = settings()
    check_broker(config)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # The token signing keys, made the first time (services/common/keys.py).
    ensure_key_pair(config.jwt_private_key_file, config.jwt_public_keys_file)
    ensure_service_keys(config.service_keys_dir, config.service_public_keys_file, SERVICES)

    processes = []
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where it is ignored
    base = f"http://127.0.0.1:{config.gateway_port}"
    # Links in messages (an email's opt-out) lead to this gateway unless told otherwise.
    env = {"PUBLIC_URL": base, **os.environ, "BKPM_DATA_DIR": str(config.data_dir)}
    try:
        if not config.mongo_uri:
            if port_open("127.0.0.1", config.embedded_db_port):
                raise StartupFailed(f"port {config.embedded_db_port} is taken; set BKPM_DB_PORT or MONGO_URI")
            processes.append(start_database(config.data_dir / "mongo", config.embedded_db_port))
        env["MONGO_URI"] = config.effective_mongo_uri
        processes += start_services(env)
        processes.append(start_gateway(env))
        wait_for(lambda: ready(f"{base}/ready"), "the gateway's /ready", 60, processes)
        hint = ""
        if area_reference_empty(env["MONGO_URI"], config.database_name("organisasi")):
            hint = ("The area reference is empty: load an official kode,nama list with\n"
                    "  .venv/bin/bkpm wilayah import FILE.csv\n")
        print(f"\nBKPM is running.\n  gateway: {base}/api/v1\n  docs:    {base}/docs\n"
              f"  a token: .venv/bin/bkpm token --role admin\n\n{hint}", flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        crashed = [p.name for p in processes if p.poll() is not None]
        log.error("%s exited; stopping the platform", ", ".join(crashed))
        sys.exit(1)
    except KeyboardInterrupt:
        log.info("stopping")
    except StartupFailed as exc:
        log.error("%s", exc)
        sys.exit(1)
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
