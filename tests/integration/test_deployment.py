"""The deployment's moving parts against the real broker: the definitions the broker loads at
start (vhost with quorum queues, users, exchanges, the policy of the platform's queues) carry the
platform, started with the image's entry commands; the policy keeps a message RabbitMQ 4 would
have given up on; the broker's own configuration (deploy/rabbitmq/rabbitmq.conf) lets outside
systems in over TLS with a certificate only; a wedged service fails its liveness check; and two
instances of one service share the work as competing consumers, handling nothing twice. (Every
service and the gateway in the test suite start through deploy/entrypoint.sh, as the
containers do.)"""
import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pika
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.broker_definitions import platform
from services.common.consumer import GIVE_BACK_PAUSE_SECONDS
from services.common.errors import InvalidInput
from services.common.events import PUBLIC_EXCHANGE
from services.common.mongo import connect
from services.stack import free_port
from services.organisasi.commands import import_wilayah
from tests.support import (BROKER, ENTRYPOINT, PROVINCES_CSV, ROOT, PrivateBroker, Process, Vhost, by_entrypoint,
                           platform_env, rabbitmqctl, restartable_port, rpc_client, start_service, token_for,
                           wait_until)

# RabbitMQ 4 dead-letters a quorum queue's message after this many deliveries unless a policy
# says otherwise (3.x never does): the platform's policy must carry it past.
RABBITMQ_4_DEFAULT_DELIVERY_LIMIT = 20
# How long a handler must be able to wait out an outage, handing its event back each pause.
OUTAGE_RIDDEN_OUT = datetime.timedelta(days=1)


def scrape(port):
    return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def test_the_broker_definitions_carry_the_platform_started_by_the_images_entry_commands(mongo_uri, logs, tmp_path):
    vhost, user, password = f"bkpm-deploy-{uuid.uuid4().hex[:8]}", f"bkpm-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    rabbitmqctl("import_definitions", stdin=json.dumps(platform(vhost, user, password)).encode())
    env = platform_env(f"amqp://{user}:{password}@{BROKER}/{quote(vhost, safe='')}", mongo_uri, tmp_path)
    client = connect(mongo_uri)
    import_wilayah(client[f"{env['BKPM_DB_PREFIX']}_organisasi"], PROVINCES_CSV)
    wait_until(lambda: subprocess.run(["rabbitmqctl", "-q", "list_users"], capture_output=True, text=True)
               .stdout.count(user) == 1, "the definitions to load")
    services = []
    metrics_port = free_port()
    try:
        services = [start_service("organisasi", {**env, "METRICS_PORT": str(metrics_port)}, logs),
                    start_service("kegiatan", env, logs)]
        unit = rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        assert unit["tingkat"] == "nasional"
        with pytest.raises(InvalidInput):
            rpc_client(env).call("organisasi", "bentuk_unit", token_for(env),
                                 {"tingkat": "provinsi", "kode_wilayah": "99"})
        # Two: the area import's announcement (wilayah.diperbarui), and the unit.
        wait_until(lambda: 'bkpm_events_published_total{service="organisasi"} 2.0' in scrape(metrics_port),
                   "the published event in the metrics")
        metrics = scrape(metrics_port)
        assert 'bkpm_worker_seconds_count{entrypoint="bentuk_unit",outcome="ok",service="organisasi"} 1.0' in metrics
        assert ('bkpm_worker_seconds_count{entrypoint="bentuk_unit",outcome="input_tidak_valid",'
                'service="organisasi"} 1.0') in metrics
        assert 'bkpm_outbox_pending{service="organisasi"} 0.0' in metrics
        for role in ("organisasi", "kegiatan"):
            check = Process(f"health-{role}", None, {**env, "BKPM_ROLE": role}, logs, argv=by_entrypoint("healthcheck"))
            assert check.wait_exit(timeout=15) == 0, check.log()
        queues = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type"],
                                capture_output=True, text=True, check=True).stdout
        types = dict(line.split("\t") for line in queues.strip().splitlines()[1:])
        assert types["rpc-organisasi"] == "quorum" and types["bkpm.mati"] == "quorum"
        assert all(kind == "quorum" for name, kind in types.items() if name.startswith(("evt-", "rpc-")))
    finally:
        for service in services:
            service.stop()
        client.close()
        rabbitmqctl("delete_vhost", vhost)
        rabbitmqctl("delete_user", user)


def test_two_instances_of_a_service_share_the_work_and_handle_nothing_twice(isolated, logs):
    env, organisasi_db = isolated
    import_wilayah(organisasi_db, [*PROVINCES_CSV, *[f"11.{n:02d},Kabupaten Uji {n}" for n in range(1, 41)]])
    probe = "tests.integration.probe_service:ProbeService"
    instances = [start_service(probe, env, logs, name=f"probe-{n}") for n in (1, 2)]
    organisasi = start_service("organisasi", env, logs)
    probe_db = organisasi_db.client[f"{env['BKPM_DB_PREFIX']}_probe"]
    try:
        rpc = rpc_client(env)
        rpc.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        rpc.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "provinsi", "kode_wilayah": "11"})
        for n in range(1, 41):
            rpc.call("organisasi", "bentuk_unit", token_for(env),
                     {"tingkat": "kabupaten_kota", "kode_wilayah": f"11.{n:02d}"})
        wait_until(lambda: probe_db.handled.count_documents({}) >= 42, "every event handled")
        time.sleep(1)  # a second handling would show by now
        handled = list(probe_db.handled.find())
        assert len(handled) == len({h["event_id"] for h in handled}) == 42
        shares = {pid: sum(1 for h in handled if h["instance"] == pid) for pid in {h["instance"] for h in handled}}
        assert len(shares) == 2 and min(shares.values()) > 0, shares  # both did part of the work
    finally:
        organisasi.stop()
        for instance in instances:
            instance.stop()


def test_the_gateway_counts_every_route_over_all_its_workers_apart_from_the_api(api, gateway_metrics):
    for _ in range(3):
        assert api.get("/units").status_code == 200
    assert api.get("/units/tidak-ada").status_code == 404
    assert requests.get(f"{api.base}/metrics", timeout=5).status_code == 404  # not where the public is
    metrics = requests.get(gateway_metrics, timeout=5).text
    counted = re.search(r'bkpm_http_requests_total\{method="GET",route="/api/v1/units",status="200"\} ([0-9.]+)',
                        metrics)
    assert counted and float(counted.group(1)) >= 3
    assert 'route="/api/v1/units/<unit_id>",status="404"' in metrics  # the rule, not the path
    assert "bkpm_http_request_seconds_bucket" in metrics


def test_the_images_build_steps_give_a_platform_that_runs(isolated, logs, tmp_path):
    """The Dockerfile's build stage without Docker: a fresh virtualenv with only the runtime lock
    and the project installed as a wheel (not from the source tree), then a service, the
    notifikasi templates, the gateway's pages and akun's list of common passwords from it. A
    dependency missing from the runtime lock, or a file missing from the package, fails here."""
    env, _ = isolated
    venv, source = tmp_path / "opt-bkpm", tmp_path / "src"
    source.mkdir()
    for copied in ("pyproject.toml", "services", "gateway"):  # what the Dockerfile copies
        (shutil.copytree if (ROOT / copied).is_dir() else shutil.copy)(ROOT / copied, source / copied)
    for command in ([sys.executable, "-m", "venv", str(venv)],
                    [str(venv / "bin/pip"), "install", "--quiet", "--no-deps", "-r",
                     str(ROOT / "deploy/requirements.runtime.lock")],
                    [str(venv / "bin/pip"), "install", "--quiet", "--no-deps", "--no-build-isolation", str(source)]):
        built = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert built.returncode == 0, built.stderr[-2000:]
    image_env = {**env, "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}
    rendered = subprocess.run(
        [str(venv / "bin/python"), "-c", "import services, sys; from services.notifikasi.channels import Templates; "
         "print(services.__file__); print(sorted(Templates().channels('pengurus.diangkat'))); "
         "from gateway.notifikasi import PAGES; PAGES.get_template('berhenti.html'); "
         "from services.akun.domain import common_passwords; assert 'indonesia123' in common_passwords()"],
        capture_output=True, text=True, cwd=tmp_path, env=image_env, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    assert str(venv) in rendered.stdout and "['email', 'inbox', 'sms', 'whatsapp']" in rendered.stdout
    service = Process("organisasi-image", None, image_env, logs, argv=["sh", str(ENTRYPOINT), "organisasi"])
    try:
        wait_until(lambda: "started" in service.log(), "the service from the image's virtualenv", timeout=30)
        unit = rpc_client(env).call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        assert unit["tingkat"] == "nasional"
    finally:
        service.stop()


def definition_of(policy):
    """A policy as `rabbitmqctl list_policies --formatter json` lists it: 3.x gives its
    definition as JSON text."""
    definition = policy["definition"]
    return json.loads(definition) if isinstance(definition, str) else definition


def policy_of(vhost, queue):
    """The definition of the policy the broker applies to `queue`."""
    def listed(*command):
        output = subprocess.run(["rabbitmqctl", "-q", *command, "-p", vhost, "--formatter", "json"],
                                capture_output=True, text=True, check=True).stdout
        return json.loads(output)
    applied = {entry["name"]: entry["policy"] for entry in listed("list_queues", "name", "policy")}[queue]
    return {entry["name"]: definition_of(entry) for entry in listed("list_policies")}.get(applied, {})


def test_the_platforms_queues_keep_a_message_redelivered_past_rabbitmq_4s_default_limit():
    """A handler waiting out an outage hands its event back about once a second; RabbitMQ 4 would
    dead-letter it after 20 deliveries. With the platform's definitions, the event queue (as a
    handler declares it), its `.dlq` (which `bkpm dead-letters list` hands back) and an RPC
    queue carry a limit that lasts out a day's outage, and a message handed back 25 times is
    still there, redelivered."""
    vhost, user = Vhost("bkpm-limit"), f"bkpm-{uuid.uuid4().hex[:6]}"
    rabbitmqctl("import_definitions", stdin=json.dumps(platform(vhost.name, user, uuid.uuid4().hex)).encode())
    queue = "evt-kegiatan-kegiatan.dijadwalkan--notifikasi.kegiatan_dijadwalkan"
    connection = pika.BlockingConnection(pika.URLParameters(vhost.amqp_uri))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.dlq", "rpc-notifikasi"):
            channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
        wait_until(lambda: all(policy_of(vhost.name, name) for name in (queue, f"{queue}.dlq", "rpc-notifikasi")),
                   "the policy to apply")
        for name in (queue, f"{queue}.dlq", "rpc-notifikasi"):
            limit = policy_of(vhost.name, name).get("delivery-limit", 0)
            assert limit * GIVE_BACK_PAUSE_SECONDS >= OUTAGE_RIDDEN_OUT.total_seconds(), (name, limit)
        channel.basic_publish("", queue, b'{"id": "peristiwa"}', pika.BasicProperties(delivery_mode=2))
        def get():
            got = (None,)
            deadline = time.monotonic() + 5
            while got[0] is None and time.monotonic() < deadline:
                got = channel.basic_get(queue)
            assert got[0] is not None, "the message is gone"
            return got

        for delivery in range(RABBITMQ_4_DEFAULT_DELIVERY_LIMIT + 5):
            method, properties, _ = get()
            assert (properties.headers or {}).get("x-delivery-count", 0) == delivery
            channel.basic_reject(method.delivery_tag, requeue=True)
        method, properties, body = get()
        assert body == b'{"id": "peristiwa"}'
        assert properties.headers["x-delivery-count"] == RABBITMQ_4_DEFAULT_DELIVERY_LIMIT + 5
        channel.basic_ack(method.delivery_tag)
    finally:
        connection.close()
        vhost.delete()
        rabbitmqctl("delete_user", user)


def test_a_wedged_service_fails_its_liveness_check_and_an_outage_does_not(isolated, logs, tmp_path):
    """`bkpm-entrypoint alive` (the services' Kubernetes liveness probe) passes while the
    service's event loop turns, fails once its heartbeat is older than the probe allows (here:
    the process stopped, its file made old), and passes again as soon as the loop turns."""
    env, _ = isolated
    env = {**env, "TMPDIR": str(tmp_path)}  # the heartbeat of this service only
    service = start_service("organisasi", env, logs)
    heartbeat = tmp_path / "bkpm-organisasi.heartbeat"

    def alive():
        check = subprocess.run(["sh", str(ENTRYPOINT), "alive"], env={**env, "BKPM_ROLE": "organisasi"},
                               capture_output=True, timeout=10)
        return check.returncode == 0
    try:
        assert alive()
        os.kill(service.popen.pid, signal.SIGSTOP)  # wedged: nothing in it runs
        old = time.time() - 60
        os.utime(heartbeat, (old, old))
        time.sleep(6)  # more than a beat: a running loop would have touched it
        assert heartbeat.stat().st_mtime == old and not alive()
        os.kill(service.popen.pid, signal.SIGCONT)
        wait_until(alive, "the heartbeat once the loop turns again", timeout=10)
    finally:
        os.kill(service.popen.pid, signal.SIGCONT)
        service.stop()
    assert not heartbeat.exists()  # a service that stopped is not alive


def certificate(subject, issuer_key, key, issuer=None, ca=False, names=()):
    """An X.509 certificate for `subject` signed with `issuer_key` (self-signed without `issuer`)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_pem(path, item):
    data = (item.public_bytes(serialization.Encoding.PEM) if isinstance(item, x509.Certificate) else
            item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption()))
    path.write_bytes(data)
    return path


class DeploymentBroker(PrivateBroker):
    """A RabbitMQ node of the test's own with the deployment's rabbitmq.conf, its paths moved
    into the node's folder and its listeners onto free ports, loading the platform's definitions
    at start as the deployed broker does."""

    def __init__(self, definitions, files):
        self.tls_port = restartable_port()
        self.definitions, self.files = definitions, files
        super().__init__()

    def start(self):
        tls = self.base / "tls"
        tls.mkdir(exist_ok=True)
        for name, item in self.files.items():
            write_pem(tls / name, item)
        (self.base / "definitions.json").write_text(json.dumps(self.definitions))
        conf = (ROOT / "deploy/rabbitmq/rabbitmq.conf").read_text()
        conf = (conf.replace("/etc/rabbitmq/tls/", f"{tls}/")
                .replace("/etc/rabbitmq/definitions/definitions.json", str(self.base / "definitions.json"))
                .replace("listeners.ssl.default = 5671", f"listeners.ssl.default = 127.0.0.1:{self.tls_port}"))
        (self.base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n{conf}")
        subprocess.run(["chown", "-R", "rabbitmq", str(self.base)], check=True)
        super().start()

    def rabbitmqctl(self, *args, tool="rabbitmqctl"):
        command = shutil.which(tool) or f"/usr/sbin/{tool}"
        return subprocess.run([command, "-q", "-n", self.node, *args], env=self.env, check=True, capture_output=True,
                              text=True, timeout=60).stdout


def test_outside_systems_reach_the_broker_over_tls_with_a_certificate_and_the_platform_does_not(tmp_path):
    """The deployment's rabbitmq.conf on a node of the test's own: the node starts with it and
    loads the platform's definitions; the platform's user speaks plain AMQP (inside the
    platform's network) but is refused on the TLS listener, holding no client certificate; an
    outside system with the certificate the region's CA gave it, and its password, reads the
    public feed there; the largest message is the one the platform needs."""
    ca_key, server_key, client_key, stranger_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    ca = certificate("BKPM uji CA", ca_key, ca_key, ca=True)
    server = certificate("localhost", ca_key, server_key, issuer=ca.subject,
                         names=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    client = certificate("dinsos-jateng", ca_key, client_key, issuer=ca.subject)
    stranger = certificate("dinsos-jateng", stranger_key, stranger_key)  # a certificate the region never issued
    user, password, outside_password = "bkpm", uuid.uuid4().hex, uuid.uuid4().hex
    definitions = platform("bkpm", user, password, [("dinsos-jateng", outside_password)])
    broker = DeploymentBroker(definitions, {"ca.pem": ca, "server.pem": server, "server-key.pem": server_key})

    def connect_tls(name, secret, certificate_and_key=None):
        context = ssl.create_default_context(cafile=str(write_pem(tmp_path / "ca.pem", ca)))
        if certificate_and_key:
            cert, key = certificate_and_key
            context.load_cert_chain(write_pem(tmp_path / f"{name}.pem", cert),
                                    write_pem(tmp_path / f"{name}-key.pem", key))
        return pika.BlockingConnection(pika.ConnectionParameters(
            "127.0.0.1", broker.tls_port, "bkpm", pika.PlainCredentials(name, secret),
            ssl_options=pika.SSLOptions(context, "localhost"), connection_attempts=1, socket_timeout=5))
    try:
        plain = pika.BlockingConnection(pika.URLParameters(f"amqp://{user}:{password}@127.0.0.1:{broker.port}/bkpm"))
        plain.close()
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            connect_tls(user, password)  # no certificate: the handshake fails before any login
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            connect_tls("dinsos-jateng", outside_password, (stranger, stranger_key))
        outside = connect_tls("dinsos-jateng", outside_password, (client, client_key))
        channel = outside.channel()
        channel.queue_declare("dinsos-jateng.feed", durable=True)
        channel.queue_bind("dinsos-jateng.feed", PUBLIC_EXCHANGE, routing_key="#")
        outside.close()
        # The compose healthcheck passes with a listener that wants client certificates.
        broker.rabbitmqctl("check_port_connectivity", tool="rabbitmq-diagnostics")
        assert "{ok,67108864}" in broker.rabbitmqctl("eval", "application:get_env(rabbit, max_message_size).")
        [policy] = json.loads(broker.rabbitmqctl("list_policies", "-p", "bkpm", "--formatter", "json"))
        limit = definition_of(policy).get("delivery-limit", 0)
        assert limit * GIVE_BACK_PAUSE_SECONDS >= OUTAGE_RIDDEN_OUT.total_seconds()
    finally:
        broker.delete()
