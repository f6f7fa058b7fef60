"""Fixtures that start real components: a RabbitMQ vhost of this run's own, SecantusDB, the
services and the gateway. Unit tests under tests/unit use none of them."""
import random
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from services.common.config import SERVICES, embedded_mongo_uri
from services.common.mongo import connect
from services.stack import free_port, ready, start_database, stop, wait_for
from services.common.events import PUBLIC_EXCHANGE
from aiosmtpd.controller import Controller

from tests.support import (ROOT, SHARED_WILAYAH, EventCollector, Mailbox, Process, Vhost, by_entrypoint, platform_env,
                           start_service, token_for)


@pytest.fixture(scope="session")
def vhost():
    created = Vhost()
    yield created
    created.delete()


@pytest.fixture(scope="session")
def mongo_uri():
    port = free_port()
    process = start_database(":memory:", port)
    yield embedded_mongo_uri(port)  # as `make run` speaks to its embedded database
    stop([process])


@pytest.fixture(scope="session")
def logs(tmp_path_factory):
    return tmp_path_factory.mktemp("logs")


def port_below_ephemeral():
    """A free port under Linux's ephemeral range (32768 and up by default)."""
    for port in random.sample(range(20000, 32000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


@pytest.fixture(scope="session")
def env(vhost, mongo_uri, tmp_path_factory):
    # An SMS/WhatsApp provider the notifikasi tests stand up minutes later: on a port below the
    # ephemeral range, which an outgoing connection of the meantime never takes as its own.
    provider = f"http://127.0.0.1:{port_below_ephemeral()}"
    gateway_port = free_port()
    return platform_env(vhost.amqp_uri, mongo_uri, tmp_path_factory.mktemp("data"),
                        GATEWAY_PORT=gateway_port, PUBLIC_URL=f"http://127.0.0.1:{gateway_port}",
                        ASPIRASI_CHECK_SECONDS="0.5", TRUSTED_PROXIES="127.0.0.1",
                        ASPIRASI_RATE_LIMIT="30 per minute", ASPIRASI_RATE_LIMIT_TANPA_ALTCHA="30 per minute",
                        SURVEI_RATE_LIMIT_TANPA_ALTCHA="60 per minute", PUBLIK_RATE_LIMIT="1000 per minute",
                        SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(),
                        SMS_PROVIDER_URL=f"{provider}/sms", WHATSAPP_PROVIDER_URL=f"{provider}/wa",
                        SMS_PROVIDER_TOKEN="token-uji-rahasia", WHATSAPP_PROVIDER_TOKEN="token-uji-rahasia",
                        NOTIFIKASI_RETRY_BASE_SECONDS="0.3", NOTIFIKASI_RETRY_CAP_SECONDS="1",
                        NOTIFIKASI_MAX_ATTEMPTS="4", NOTIFIKASI_POLL_SECONDS="0.3", NOTIFIKASI_LEASE_SECONDS="3",
                        WEBHOOK_BLOCKED_NETWORKS="169.254.0.0/16",  # the receivers here are on loopback
                        # A region's identity provider, which tests/integration/test_oidc.py stands up:
                        # nothing asks it before one of its tokens comes, so other tests never notice it.
                        OIDC_ISSUER=f"http://127.0.0.1:{free_port()}/realms/polri", OIDC_AUDIENCE="bkpm",
                        OIDC_ROLES_CLAIM="realm_access.roles", OIDC_ROLE_MAP="bkpm-petugas=petugas",
                        OIDC_WILAYAH="33")


@pytest.fixture(scope="module")
def mailbox(env):
    """The SMTP server notifikasi sends to (SMTP_PORT), for one module's tests at a time."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=int(env["SMTP_PORT"]))
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def wilayah_csv():
    if not SHARED_WILAYAH.exists():
        pytest.fail(f"the official area list is expected at {SHARED_WILAYAH} (../shared beside the repo)")
    return SHARED_WILAYAH


@pytest.fixture(scope="session")
def wilayah_import(env, wilayah_csv):
    """The whole 2025 list, loaded with the `bkpm wilayah import` command users run."""
    result = subprocess.run([sys.executable, "-m", "services.cli", "wilayah", "import", str(wilayah_csv)],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def organisasi_db(env):
    client = connect(env["MONGO_URI"])
    yield client[f"{env['BKPM_DB_PREFIX']}_organisasi"]
    client.close()


@pytest.fixture(scope="session")
def public_feed(env):
    """Every message of the public feed in this run, from before the services start: what other
    government systems would have received (tests/integration/test_public_feed.py scans it)."""
    collector = EventCollector(env["AMQP_URI"], PUBLIC_EXCHANGE)
    yield collector
    collector.close()


@pytest.fixture(scope="session")
def gateway_metrics(env):
    """Where the gateway serves its metrics (METRICS_PORT of its own, as in the image)."""
    return f"http://127.0.0.1:{free_port()}/metrics"


@pytest.fixture(scope="session")
def gateway(env, logs, wilayah_import, public_feed, gateway_metrics):
    """The platform as `make run` starts it: the services, then gunicorn serving the gateway."""
    services = [start_service(name, env, logs) for name in SERVICES]
    gunicorn = Process("gateway", None, {**env, "METRICS_PORT": str(urlsplit(gateway_metrics).port)}, logs,
                       argv=by_entrypoint("gateway"))
    base = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    try:
        wait_for(lambda: ready(f"{base}/ready"), "the gateway's /ready", 60)
    except Exception:
        print(gunicorn.log()[-3000:])
        raise
    yield base
    gunicorn.stop()
    for service in services:
        service.stop()


@pytest.fixture(scope="session")
def token(env):
    def make(role="admin", wilayah=None, sub="penguji"):
        return token_for(env, sub, role, wilayah)
    return make


@pytest.fixture(scope="session")
def api(gateway, token):
    """requests bound to the gateway: api.post('/units', json=..., role=..., wilayah=...)."""
    class Api:
        base = gateway

        def request(self, method, path, role="admin", wilayah=None, headers=None, sub="penguji", **kwargs):
            headers = dict(headers or {})
            if role:
                headers.setdefault("Authorization", f"Bearer {token(role, wilayah, sub)}")
            kwargs.setdefault("timeout", 15)
            return requests.request(method, f"{gateway}/api/v1{path}", headers=headers, **kwargs)

        def get(self, path, **kwargs):
            return self.request("GET", path, **kwargs)

        def post(self, path, **kwargs):
            return self.request("POST", path, **kwargs)

        def put(self, path, **kwargs):
            return self.request("PUT", path, **kwargs)

        def delete(self, path, **kwargs):
            return self.request("DELETE", path, **kwargs)

    return Api()


@pytest.fixture(scope="session")
def national_unit(api):
    """The one national unit, formed once for the whole run (every other unit hangs below it)."""
    response = api.post("/units", json={"tingkat": "nasional"})
    assert response.status_code == 201, response.text
    return response.json()
