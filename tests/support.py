"""Helpers for tests that run the real thing: a throwaway RabbitMQ vhost, SecantusDB, service
processes, the gateway, and a pika subscriber that collects events."""
import email
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.policy import default
from pathlib import Path
from urllib.parse import quote

import pika
import pytest

from services.stack import StartupFailed, die_with_parent, port_open, wait_for

ROOT = Path(__file__).resolve().parents[1]
SHARED_WILAYAH = ROOT.parent / "shared" / "data" / "wilayah.csv"
BROKER = "127.0.0.1:5672"


def wait_until(check, what, timeout=20):
    """Until `check()` is true; a failed assertion naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {what}"
        time.sleep(0.1)


def restartable_port():
    """A free port for a server a test stops and starts again, below the kernel's ephemeral
    range: while the server is down, a client reconnecting to a port inside that range can be
    given it as its own source port (TCP connects to itself) and so hold it, and the restart
    fails with "address in use"."""
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(1024, first_ephemeral)
        if port in _RESTARTABLE_PORTS:
            continue  # free now, but another server of this run will listen there
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _RESTARTABLE_PORTS.add(port)
        return port


_RESTARTABLE_PORTS = set()  # given out in this run


def rabbitmqctl(*args, stdin=None):
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60, input=stdin)


class Vhost:
    """A RabbitMQ virtual host of its own, so tests never see another run's queues."""

    def __init__(self, prefix="bkpm-test"):
        self.name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        self.amqp_uri = f"amqp://guest:guest@{BROKER}/{quote(self.name, safe='')}"

    def delete(self):
        rabbitmqctl("delete_vhost", self.name)


class PrivateBroker:
    """A RabbitMQ node of a test's own, on its own ports, that the test may stop and start again
    without touching the shared broker the rest of the suite runs on. Its data survive a restart,
    as a real broker's do (durable queues, persistent messages)."""

    def __init__(self):
        self.port, dist_port = restartable_port(), restartable_port()
        self.node = f"bkpm-{uuid.uuid4().hex[:8]}@localhost"
        # The server script runs the node as the `rabbitmq` user: the data must be its own.
        self.base = Path(tempfile.mkdtemp(prefix="bkpm-broker-"))
        (self.base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq-env.conf").write_text("ERL_EPMD_ADDRESS=127.0.0.1\n")
        subprocess.run(["chown", "-R", "rabbitmq", str(self.base)], check=True)
        self.env = {**os.environ, "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
                    "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(dist_port), "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
                    "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"), "RABBITMQ_LOG_BASE": str(self.base / "log"),
                    "RABBITMQ_PID_FILE": str(self.base / "pid")}
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.server = None
        self.start()

    def start(self):
        server = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
        output = self.base / "server.out"  # what the node says, for a start that fails
        with open(output, "w") as out:
            self.server = subprocess.Popen([server], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: port_open("127.0.0.1", self.port), f"the broker {self.node}", 60, [self.server])
        except StartupFailed as failed:
            raise StartupFailed(f"{failed}; it said: {output.read_text()[-2000:]}") from None

    def stop(self):
        if self.server is not None and self.server.poll() is None:
            self._ctl("stop")
            self.server.wait(timeout=60)

    def _ctl(self, *args):
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        subprocess.run([ctl, "-q", "-n", self.node, *args], env=self.env, check=True, capture_output=True,
                       timeout=60)

    def delete(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"


class Process:
    """A platform process, logging to a file: `argv` as given, or `python args...`."""

    def __init__(self, name, args, env, log_dir, argv=None):
        self.name = name
        self.log_path = Path(log_dir) / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(argv or [sys.executable, *args], env=env, cwd=ROOT, stdout=self._log,
                                      stderr=subprocess.STDOUT,
                                      preexec_fn=lambda: die_with_parent(signal.SIGKILL))

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_exit(self, timeout):
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout=15):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()

    def kill(self):
        self.popen.kill()
        self.popen.wait()
        self._log.close()


def by_entrypoint(role):
    """The image's command for a role (deploy/entrypoint.sh), so the tests run what containers run."""
    return ["sh", str(ENTRYPOINT), role]


def start_service(target, env, log_dir, name=None):
    """Start a service (`organisasi`, as the image does, or 'module:Class') and wait until it
    consumes RPC or events: its log says so once its entrypoints are ready."""
    if ":" in target:
        process = Process(name or target.split(":")[-1], ["-m", "services.common.runner", target], env, log_dir)
    else:
        process = Process(name or target, None, env, log_dir, argv=by_entrypoint(target))
    try:
        wait_for(lambda: "started" in process.log(), f"{process.name} to start", 30)
    except StartupFailed:
        process.stop()
        raise AssertionError(f"{process.name} did not start:\n{process.log()[-3000:]}") from None
    return process


class EventCollector:
    """A pika subscriber, as an outside system would write one: an exclusive queue bound to an
    exchange, collecting every message in a background thread."""

    def __init__(self, amqp_uri, exchange, binding="#"):
        self.messages = []
        self._lock = threading.Lock()
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
        channel = self.connection.channel()
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, exchange, routing_key=binding)
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _on_message(self, channel, method, properties, body):
        with self._lock:
            self.messages.append({"routing_key": method.routing_key, "properties": properties,
                                  "body": json.loads(body), "raw": body})

    def _run(self):
        while not self._stop:
            self.connection.process_data_events(time_limit=0.2)

    def events(self, event_type=None):
        with self._lock:
            return [m["body"] for m in self.messages if event_type in (None, m["body"]["type"])]

    def wait_for(self, predicate, timeout=10, what="events"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if predicate(e)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {what} within {timeout}s; got {[e['type'] for e in self.events()]}")

    def close(self):
        self._stop = True
        self._thread.join(timeout=5)
        self.connection.close()


def platform_env(amqp_uri, mongo_uri, data_dir, **extra):
    """The environment of a platform under test; its token signing keys are made in `data_dir`."""
    from services.common.config import PRIVATE_KEY, PUBLIC_KEYS, SERVICE_PUBLIC_KEYS
    from services.common.keys import ensure_keys
    keys = Path(data_dir)
    ensure_keys(keys)
    own = ("BKPM_", "MONGO_", "AMQP_", "JWT_", "SERVICE_KEY", "SERVICE_PUBLIC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update({
        "JWT_PRIVATE_KEY_FILE": str(keys / PRIVATE_KEY),
        "JWT_PUBLIC_KEYS_FILE": str(keys / PUBLIC_KEYS),
        "SERVICE_PUBLIC_KEYS_FILE": str(keys / SERVICE_PUBLIC_KEYS),
        "AMQP_URI": amqp_uri,
        "MONGO_URI": mongo_uri,
        "BKPM_DATA_DIR": str(data_dir),
        "BKPM_DB_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "EVENT_MAX_ATTEMPTS": "3",
        "EVENT_RETRY_DELAY_MS": "200",
        "OUTBOX_POLL_SECONDS": "0.5",
        "RPC_TIMEOUT": "5",
        "LOG_LEVEL": "INFO",
        # The entry script runs `python`, `gunicorn` and `bkpm` as the image does: this venv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def rpc_client(env, timeout=3):
    from gateway.rpc import RpcClient
    return RpcClient(env["AMQP_URI"], timeout)


def token_for(env, sub="penguji", role="admin", wilayah=None, **claims):
    """An access token the platform of `env` accepts: signed with its key, as akun signs one."""
    from services.common.tokens import MAX_TTL_SECONDS, Audience, SigningKey
    key = SigningKey(Path(env["JWT_PRIVATE_KEY_FILE"]).read_bytes(),
                     Audience(env.get("JWT_ISSUER", "bkpm"), env.get("JWT_AUDIENCE", "bkpm-api")))
    return key.issue(sub, [role], wilayah=wilayah, ttl_seconds=MAX_TTL_SECONDS, **claims)
PROVINCES_CSV = ["kode,nama", "11,Aceh", "12,Sumatera Utara", "13,Sumatera Barat", "14,Riau",
                 "15,Jambi", "16,Sumatera Selatan"]


def assert_problem(response, status, code=None):
    """A requests response that is an RFC 9457 problem with this status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"] and body["title"]
    if code:
        assert body["code"] == code, body
    return body


def events_fixture(exchange):
    """A module fixture collecting every event published on `exchange` while the module runs."""
    @pytest.fixture(scope="module")
    def events(env, gateway):
        collector = EventCollector(env["AMQP_URI"], exchange)
        yield collector
        collector.close()
    return events


TINGKAT_OF_DEPTH = {1: "provinsi", 2: "kabupaten_kota", 3: "kecamatan"}


def form_units(api, *codes):
    """Form the units of these area codes through the API, parents first; {kode: unit}."""
    units = {}
    for kode in codes:
        response = api.post("/units", json={"tingkat": TINGKAT_OF_DEPTH[kode.count(".") + 1], "kode_wilayah": kode})
        assert response.status_code == 201, response.text
        units[kode] = response.json()
    return units


class Mailbox:
    """An SMTP server's inbox (aiosmtpd, in the test process): what notifikasi sent."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=default)))
        return "250 OK"

    def about(self, subject_start):
        with self._lock:
            return [(rcpts, m) for rcpts, m in self.messages if m["Subject"].startswith(subject_start)]

    def wait_for(self, subject_start, count, timeout=20):
        """The emails whose subject starts so (the appointment emails of this module's board
        go to the same box), once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.about(subject_start)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.about(subject_start))} emails about {subject_start!r}, expected {count}")


def body_of(message):
    """The plain-text part (every email has one; some have an HTML alternative too)."""
    return message.get_body(preferencelist=("plain",)).get_content()
