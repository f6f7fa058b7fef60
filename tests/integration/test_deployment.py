"""The deployment's moving parts against the real broker: the definitions the broker loads at
start (vhost with quorum queues, users, exchanges, dead-letter policy) carry the platform,
started with the image's entry commands; and two instances of one service share the work as
competing consumers, handling nothing twice. (Every service and the gateway in the test suite
start through deploy/entrypoint.sh, as the containers do.)"""
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import requests

from services.broker_definitions import platform
from services.common.errors import InvalidInput
from services.common.mongo import connect
from services.stack import free_port
from services.organisasi.commands import import_wilayah
from tests.support import (BROKER, ENTRYPOINT, PROVINCES_CSV, ROOT, Process, by_entrypoint, platform_env,
                           rabbitmqctl, rpc_client, start_service, token_for, wait_until)


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
