"""`make run`'s launcher: starts the embedded database, the services and the gateway, is ready,
accepts a token from `bkpm token`, and stops everything on SIGTERM, leaving no process behind."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from services.common.config import SERVICES

from services.stack import free_port
from tests.support import ROOT, Vhost


def children_of(pid):
    result = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(line) for line in result.stdout.split()]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return not state.startswith("Z")  # a zombie has exited already


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_starts_serves_and_stops_cleanly(tmp_path, stop_signal):
    vhost = Vhost()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BKPM_", "MONGO_", "AMQP_", "JWT_"))}
    env.update(AMQP_URI=vhost.amqp_uri, BKPM_DATA_DIR=str(tmp_path / "var"), BKPM_DB_PORT=str(free_port()),
               GATEWAY_PORT=str(port))
    output = open(tmp_path / "stack.log", "w+")
    stack = subprocess.Popen([sys.executable, "-m", "services.stack"], env=env, cwd=ROOT,
                             stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "BKPM is running" not in (tmp_path / "stack.log").read_text():
            assert stack.poll() is None and time.monotonic() < deadline, (tmp_path / "stack.log").read_text()[-3000:]
            time.sleep(0.3)
        log = (tmp_path / "stack.log").read_text()
        assert f"http://127.0.0.1:{port}/docs" in log and "bkpm wilayah import" in log
        assert requests.get(f"http://127.0.0.1:{port}/ready", timeout=5).json()["status"] == "siap"
        keys = tmp_path / "var"  # the signing keys make run made, the private ones for their owner only
        assert (keys / "jwt-private.pem").stat().st_mode & 0o077 == 0 and (keys / "jwt-public.pem").exists()
        assert (keys / "layanan-publik.json").exists()
        assert all((keys / "layanan" / f"{name}.pem").stat().st_mode & 0o077 == 0 for name in SERVICES)

        token = subprocess.run([sys.executable, "-m", "services.cli", "token", "--role", "pemantau", "--wilayah", "31"],
                               env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        listed = requests.get(f"http://127.0.0.1:{port}/api/v1/units", headers={"Authorization": f"Bearer {token}"},
                              timeout=10)
        assert listed.status_code == 200 and listed.json()["total"] == 0

        processes = children_of(stack.pid)
        processes += [grandchild for child in processes for grandchild in children_of(child)]
        assert len(processes) >= 4  # database, organisasi, gunicorn master and workers
        stack.send_signal(stop_signal)
        assert stack.wait(timeout=30) == 0
        time.sleep(0.5)
        assert [pid for pid in processes if alive(pid)] == []
    finally:
        if stack.poll() is None:
            stack.kill()
        output.close()
        vhost.delete()


def test_make_run_says_how_to_start_an_unreachable_broker(tmp_path):
    env = {**os.environ, "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/", "BKPM_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "services.stack"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0
    assert "RabbitMQ is not reachable" in result.stderr and "rabbitmq-server" in result.stderr
