"""`make run`: the whole platform on this machine, in the foreground.

Starts RabbitMQ if it is installed here but stopped; starts the embedded MongoDB-wire server
(SecantusDB, as its own process) unless MONGO_URI is set, every service, the gateway and the web
front-end; waits until /ready is green and the web front-end answers; then keeps them up: a
child that exits is started again after a short back-off. Only Ctrl-C or SIGTERM stops
everything. Each child's output goes to its own log file
(`<BKPM_DATA_DIR>/log/<name>.log`); the terminal shows this launcher's lines and the children's
warnings and errors. Children are told to die with this process too, so none is left orphaned.
The integration tests start the platform with the same functions.
"""
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from logging.handlers import RotatingFileHandler
from urllib.parse import urlparse

from services.common.config import SERVICES, settings
from services.common.keys import ensure_key_pair, ensure_service_keys

log = logging.getLogger("bkpm.stack")
PR_SET_PDEATHSIG = 1
# A child that exits is started again after 1 s, then 2, 4 ... up to 30 s while it keeps
# exiting; once it stayed up a minute, its next exit counts as the first again.
RESTART_FIRST_DELAY_SECONDS = 1
RESTART_MAX_DELAY_SECONDS = 30
STAYED_UP_SECONDS = 60
# Each child's log file is rotated at 10 MiB, three old ones kept: at most 40 MiB per child.
LOG_FILE_BYTES = 10 * 1024 * 1024
LOG_FILES_KEPT = 3
# The level a log line names first: in the services' JSON ("level": "INFO"), gunicorn's
# "[INFO]" and SecantusDB's "... WARNING name: ..." alike.
LOG_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
# The broker `make run` may start: the local node `rabbitmq-server -detached` runs, on its
# default port. Any other AMQP_URI names a broker someone else runs.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
RABBITMQ_PORT = 5672
RABBITMQ_START_SECONDS = 60
INSTALL_RABBITMQ = "sudo apt-get install rabbitmq-server"


class StartupFailed(Exception):
    pass


def die_with_parent(sig=signal.SIGTERM):
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)


def spawn(name, args, env, output=None):
    """Start a child in a session of its own, so that Ctrl-C reaches only this launcher, which
    then stops the children in order (web, gateway, services, database last). Its stdout and stderr
    go to `output` (subprocess.PIPE, say), or where this process's go."""
    log.info("starting %s", name)
    process = subprocess.Popen([sys.executable, *args], env=env, preexec_fn=die_with_parent,
                               start_new_session=True, stdout=output,
                               stderr=None if output is None else subprocess.STDOUT)
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


def database_args(storage_path, port):
    """SecantusDB on 127.0.0.1:port; storage_path ':memory:' for a throwaway database."""
    return ["-m", "secantus", "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(storage_path),
            "--log-level", "WARNING"]


def start_database(storage_path, port):
    process = spawn("database", database_args(storage_path, port), os.environ.copy())
    wait_for(lambda: port_open("127.0.0.1", port), "the database", 30, [process])
    return process


GATEWAY_ARGS = ["-m", "gunicorn", "-c", "python:gateway.gunicorn_conf", "gateway.wsgi:app"]
WEB_ARGS = ["-m", "gunicorn", "-c", "python:web.gunicorn_conf", "web.wsgi:app"]


def for_terminal(line):
    """What of a child's log line belongs on the terminal too: a warning or worse, a JSON line
    shortened to its level, logger and message (its file keeps the rest, a traceback too). None
    for any other line, one without a level (the rest of a traceback) included."""
    level = LOG_LEVEL.search(line)
    if level is None or level.group(1) not in ("WARNING", "ERROR", "CRITICAL"):
        return None
    if not line.startswith("{"):
        return line
    try:
        record = json.loads(line)
    except ValueError:
        return line
    return f"{record.get('level')} {record.get('logger')}: {record.get('message')}"


class Backoff:
    """How long to wait before starting an exited child again: doubling while it keeps exiting
    soon after its start, back to the first delay once it stayed up `STAYED_UP_SECONDS`."""

    def __init__(self):
        self.delay = RESTART_FIRST_DELAY_SECONDS

    def after(self, uptime):
        if uptime >= STAYED_UP_SECONDS:
            self.delay = RESTART_FIRST_DELAY_SECONDS
        delay, self.delay = self.delay, min(self.delay * 2, RESTART_MAX_DELAY_SECONDS)
        return delay


class Child:
    """A process `make run` keeps up: `python args...`, started again after a back-off whenever
    it exits, its output copied into `<log_dir>/<name>.log` (rotated) by a thread of its own."""

    def __init__(self, name, args, env, log_dir):
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        # One handler for every run of the child: a relay still draining a dead run's output
        # writes through it beside the next run's.
        self.log_file = RotatingFileHandler(self.log_path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILES_KEPT,
                                            encoding="utf-8")
        self.backoff = Backoff()
        self.process = None
        self.started = None
        self.restart_at = None
        self.relays = []

    def start(self):
        self.process = spawn(self.name, self.args, self.env, output=subprocess.PIPE)
        self.started = time.monotonic()
        relay = threading.Thread(target=self._relay, args=(self.process.stdout,), name=f"relay-{self.name}",
                                 daemon=True)
        relay.start()
        self.relays = [thread for thread in self.relays if thread.is_alive()] + [relay]

    def _relay(self, output):
        with output:
            for raw in output:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.log_file.emit(logging.makeLogRecord({"msg": line}))
                shown = for_terminal(line)
                if shown:
                    sys.stderr.write(f"[{self.name}] {shown}\n")

    def keep_up(self, now):
        """Notices the child's exit, logs it in one line and, once its back-off has passed,
        starts it again."""
        if self.restart_at is None:
            code = self.process.poll()
            if code is None:
                return
            delay = self.backoff.after(now - self.started)
            how = f" ({signal.Signals(-code).name})" if code < 0 else ""
            log.error("%s exited with code %s%s; its log: %s; starting it again in %gs",
                      self.name, code, how, self.log_path, delay)
            self.restart_at = now + delay
        elif now >= self.restart_at:
            self.restart_at = None
            self.start()

    def close(self, timeout=5):
        """After the child was stopped: its last lines written, its log file closed."""
        for relay in self.relays:
            relay.join(timeout)
        self.log_file.close()

    def log_tail(self, lines=20):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


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


def find_rabbitmq_server():
    """Debian installs it in /usr/sbin, which a user's PATH often lacks."""
    return shutil.which("rabbitmq-server", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin",
                                                                  "/usr/local/sbin"]))


def ensure_broker(amqp_uri, reachable=port_open, find_server=find_rabbitmq_server, run=subprocess.run,
                  timeout=RABBITMQ_START_SECONDS):
    """Returns once the broker AMQP_URI names answers. The local RabbitMQ, installed but
    stopped, is started as .ci/run does; otherwise StartupFailed says what to do."""
    amqp = urlparse(amqp_uri)
    host, port = amqp.hostname or "127.0.0.1", amqp.port or RABBITMQ_PORT
    if reachable(host, port, timeout=3):
        return
    unreachable = f"RabbitMQ is not reachable at {host}:{port} (AMQP_URI={amqp.scheme}://{host}:{port}{amqp.path})"
    if host not in LOCAL_HOSTS or port != RABBITMQ_PORT:
        raise StartupFailed(f"{unreachable}.\nStart the broker it names, or point AMQP_URI at a running one "
                            f"(`rabbitmq-server -detached` starts a local one on 127.0.0.1:{RABBITMQ_PORT}).")
    server = find_server()
    if server is None:
        raise StartupFailed(f"{unreachable}, and RabbitMQ is not installed. Install it with:\n  {INSTALL_RABBITMQ}")
    log.info("RabbitMQ is not running; starting it: %s -detached", server)
    started = run([server, "-detached"], capture_output=True, text=True, timeout=timeout)
    manually = "Start it with `sudo systemctl start rabbitmq-server` (or `sudo rabbitmq-server -detached`)."
    if started.returncode != 0:
        said = (started.stderr or started.stdout).strip()
        raise StartupFailed(f"{unreachable}, and `{server} -detached` failed: {said}\n{manually}")
    try:
        wait_for(lambda: reachable(host, port, timeout=1), "RabbitMQ to answer", timeout)
    except StartupFailed as failed:
        raise StartupFailed(f"{unreachable}: started, but {failed}.\n{manually}") from None


def area_reference_empty(mongo_uri, database):
    from services.common.mongo import connect
    client = connect(mongo_uri)
    try:
        return client[database]["wilayah"].estimated_document_count() == 0
    finally:
        client.close()


def start_platform(config, env, log_dir, children, base, web_base=None):
    """The database (unless MONGO_URI names one), the services, the gateway and, given `web_base`,
    the web front-end, each a Child added to `children` as it starts; returns once the gateway at
    `base` is ready and the web front-end answers."""
    def start(name, args, child_env):
        child = Child(name, args, child_env, log_dir)
        child.start()
        children.append(child)
        return child.process

    if not config.mongo_uri:
        if port_open("127.0.0.1", config.embedded_db_port):
            raise StartupFailed(f"port {config.embedded_db_port} is taken; set BKPM_DB_PORT or MONGO_URI")
        database = start("database", database_args(config.data_dir / "mongo", config.embedded_db_port),
                         os.environ.copy())
        wait_for(lambda: port_open("127.0.0.1", config.embedded_db_port), "the database", 30, [database])
    env["MONGO_URI"] = config.effective_mongo_uri
    for name in SERVICES:
        start(name, ["-m", f"services.{name}"], env)
    start("gateway", GATEWAY_ARGS, env)
    wait_for(lambda: ready(f"{base}/ready"), "the gateway's /ready", 60,
             [child.process for child in children])
    if web_base:
        start("web", WEB_ARGS, env)
        wait_for(lambda: ready(f"{web_base}/health"), "the web front-end's /health", 30,
                 [child.process for child in children])


def stop_children(children):
    """The gateway and the services first, then the database they still write to as they stop."""
    database = [child for child in children if child.name == "database"]
    for group in ([child for child in children if child not in database], database):
        stop([child.process for child in group])
    for child in children:
        child.close()


def keep_up(children):
    """Until a signal ends this process: every child that exits is started again."""
    while True:
        now = time.monotonic()
        for child in children:
            child.keep_up(now)
        time.sleep(0.2)


def main():
    die_with_parent()  # `make` or a terminal that goes away takes the platform with it
    logging.basicConfig(level=logging.INFO, format="[stack] %(message)s")
    config = settings()
    try:
        ensure_broker(config.amqp_uri)
    except StartupFailed as exc:
        sys.exit(str(exc))
    log_dir = config.data_dir / "log"
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # for the platform's owner only, as its keys
    # The token signing keys, made the first time (services/common/keys.py).
    ensure_key_pair(config.jwt_private_key_file, config.jwt_public_keys_file)
    ensure_service_keys(config.service_keys_dir, config.service_public_keys_file, SERVICES)

    children = []
    stopping = []

    def on_signal(signum, frame):
        if stopping:
            return  # already stopping: a second Ctrl-C must not cut that short
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background, where it is ignored
    base = f"http://127.0.0.1:{config.gateway_port}"
    web_base = f"http://127.0.0.1:{config.web_port}"
    # Links in messages lead to this gateway (an email's opt-out) and this web front-end (a reset
    # link) unless told otherwise; the gateway believes the web front-end beside it about its
    # visitors' addresses; that front-end is served over plain HTTP here, so its cookies cannot
    # be HTTPS-only.
    env = {"PUBLIC_URL": base, "PORTAL_URL": web_base, "TRUSTED_PROXIES": "127.0.0.1", "WEB_COOKIE_SECURE": "false",
           **os.environ, "BKPM_DATA_DIR": str(config.data_dir)}
    failed, crashed = None, []
    try:
        start_platform(config, env, log_dir, children, base, web_base)
        hint = ""
        if area_reference_empty(env["MONGO_URI"], config.database_name("organisasi")):
            hint = ("The area reference is empty: load an official kode,nama list with\n"
                    "  .venv/bin/bkpm wilayah import FILE.csv\n")
        print(f"\nBKPM is running.\n  web:     {web_base}/\n  gateway: {base}/api/v1\n  docs:    {base}/docs\n"
              f"  logs:    {log_dir}\n  a token: .venv/bin/bkpm token --role admin\n\n{hint}", flush=True)
        keep_up(children)
    except KeyboardInterrupt:
        log.info("stopping")
    except StartupFailed as exc:
        failed = exc
        crashed = [child for child in children if child.process.poll() is not None]
    finally:
        stop_children(children)
    if failed:
        log.error("%s", failed)
        for child in crashed:
            log.error("the end of %s:\n%s", child.log_path, child.log_tail())
        sys.exit(1)


if __name__ == "__main__":
    main()
