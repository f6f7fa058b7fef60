"""`make run`'s launcher: starts the embedded database, the services, the gateway and the web
front-end, is ready,
accepts a token from `bkpm token`, keeps every child up (one killed is started again), shows on
the terminal only what a person needs (each child's log goes to its own file), and stops
everything on Ctrl-C or SIGTERM, leaving no process behind."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from services.common.config import SERVICES

from services.stack import free_port, ready
from tests.support import ROOT, Vhost, wait_until


def children_of(pid):
    """{pid: command line} of the processes `pid` started."""
    result = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(pid): args for pid, args in (line.strip().split(" ", 1) for line in result.stdout.splitlines())}


def child_running(stack, module):
    return next(pid for pid, args in children_of(stack.pid).items() if f"-m {module}" in args)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return not state.startswith("Z")  # a zombie has exited already


class Stack:
    """`python -m services.stack` as `make run` starts it, on ports and a vhost of its own, its
    terminal output in a file."""

    def __init__(self, tmp_path, **settings):
        self.vhost = Vhost()
        self.port, self.web_port = free_port(), free_port()
        self.data = tmp_path / "var"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("BKPM_", "MONGO_", "AMQP_", "JWT_"))}
        self.env.update(AMQP_URI=self.vhost.amqp_uri, BKPM_DATA_DIR=str(self.data), BKPM_DB_PORT=str(free_port()),
                        GATEWAY_PORT=str(self.port), WEB_PORT=str(self.web_port), **settings)
        self.terminal = tmp_path / "stack.log"
        self._output = open(self.terminal, "w+")
        self.process = subprocess.Popen([sys.executable, "-m", "services.stack"], env=self.env, cwd=ROOT,
                                        stdout=self._output, stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    def output(self):
        return self.terminal.read_text()

    def wait_running(self):
        deadline = time.monotonic() + 90
        while "BKPM is running" not in self.output():
            assert self.process.poll() is None and time.monotonic() < deadline, self.output()[-3000:]
            time.sleep(0.3)

    def units(self):
        token = subprocess.run([sys.executable, "-m", "services.cli", "token", "--role", "pemantau", "--wilayah", "31"],
                               env=self.env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return requests.get(f"http://127.0.0.1:{self.port}/api/v1/units", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self._output.close()
        self.vhost.delete()


@pytest.fixture
def stack(tmp_path):
    started = Stack(tmp_path)
    try:
        started.wait_running()
        yield started
    finally:
        started.close()


def stops_cleanly(stack, stop_signal):
    processes = list(children_of(stack.pid))
    processes += [grandchild for child in processes for grandchild in children_of(child)]
    assert len(processes) >= 6  # database, organisasi, the gateway's and the web's gunicorn masters and workers
    stack.process.send_signal(stop_signal)
    assert stack.process.wait(timeout=30) == 0
    time.sleep(0.5)
    assert [pid for pid in processes if alive(pid)] == []


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_starts_serves_and_stops_cleanly(stack, stop_signal):
    output = stack.output()
    assert f"http://127.0.0.1:{stack.port}/docs" in output and "bkpm wilayah import" in output
    assert requests.get(f"http://127.0.0.1:{stack.port}/ready", timeout=5).json()["status"] == "siap"
    web = f"http://127.0.0.1:{stack.web_port}/"
    assert f"web:     {web}" in output
    home = requests.get(web, timeout=5)
    assert home.status_code == 200 and "Balai Kemitraan Polri dan Masyarakat" in home.text
    keys = stack.data  # the signing keys make run made, the private ones for their owner only
    assert (keys / "jwt-private.pem").stat().st_mode & 0o077 == 0 and (keys / "jwt-public.pem").exists()
    assert (keys / "layanan-publik.json").exists()
    assert all((keys / "layanan" / f"{name}.pem").stat().st_mode & 0o077 == 0 for name in SERVICES)

    listed = stack.units()
    assert listed.status_code == 200 and listed.json()["total"] == 0
    stops_cleanly(stack, stop_signal)


def test_make_run_prints_what_matters_and_logs_the_rest_to_files(stack):
    """notifikasi's timer ticks every second: no line of it (nor any routine line) after the
    banner; each child's log is in its file, which the banner names."""
    time.sleep(3)
    after_banner = stack.output().split("BKPM is running", 1)[1]
    assert "handled" not in after_banner and '"level": "INFO"' not in after_banner, after_banner[-3000:]
    logs = stack.data / "log"
    assert f"logs:    {logs}" in stack.output() and logs.stat().st_mode & 0o077 == 0
    assert all(f"service {name} started" in (logs / f"{name}.log").read_text() for name in SERVICES)
    assert "Booting worker" in (logs / "gateway.log").read_text()
    assert "Booting worker" in (logs / "web.log").read_text()
    assert "kirim_ulang handled" not in (logs / "notifikasi.log").read_text()  # at DEBUG now


def test_make_run_starts_a_killed_service_gateway_and_web_front_end_again(stack):
    killed = {name: child_running(stack, module) for name, module in
              [("organisasi", "services.organisasi"), ("gateway", "gunicorn -c python:gateway"),
               ("web", "gunicorn -c python:web")]}
    for pid in killed.values():
        os.kill(pid, signal.SIGKILL)
    for name in killed:
        crash = re.compile(rf"\[stack\] {name} exited with code -9 \(SIGKILL\); its log: "
                           rf"{re.escape(str(stack.data / 'log' / name))}\.log; starting it again in 1s")
        wait_until(lambda crash=crash: crash.search(stack.output()), f"the crash of {name} logged", timeout=10)

    def answers():
        try:
            return stack.units().status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(answers, "the API to answer again", timeout=60)
    assert stack.process.poll() is None
    assert child_running(stack, "services.organisasi") != killed["organisasi"]
    assert child_running(stack, "gunicorn -c python:gateway") != killed["gateway"]
    wait_until(lambda: child_running(stack, "gunicorn -c python:web") != killed["web"], "the web front-end again")
    wait_until(lambda: ready(f"http://127.0.0.1:{stack.web_port}/health"), "the web front-end to answer", timeout=30)
    stops_cleanly(stack, signal.SIGTERM)


def test_make_run_says_how_to_start_an_unreachable_broker(tmp_path):
    env = {**os.environ, "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/", "BKPM_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "services.stack"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode != 0
    assert "RabbitMQ is not reachable" in result.stderr and "rabbitmq-server" in result.stderr


def test_a_service_that_cannot_start_stops_make_run_with_the_end_of_its_log(tmp_path):
    """At start an exit is not waited out: a setting refused is for the person to mend, and the
    reason, in the service's log file, is shown."""
    stack = Stack(tmp_path, NOTIFIKASI_RETENTION_DAYS="7")
    try:
        assert stack.process.wait(timeout=90) == 1
        output = stack.output()
        assert "notifikasi exited with code 1 while waiting for" in output, output[-3000:]
        assert f"the end of {stack.data / 'log' / 'notifikasi.log'}:" in output
        assert "NOTIFIKASI_RETENTION_DAYS is 7" in output
        assert "BKPM is running" not in output
    finally:
        stack.close()
