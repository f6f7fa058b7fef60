"""`make run`'s launcher (services/stack.py), its decisions without processes: whether and how
it starts RabbitMQ (the commands injected: the machine's real broker is never touched), how long
it waits before starting an exited child again, which of a child's lines reach the terminal."""
import subprocess

import pytest

from services.stack import (RESTART_MAX_DELAY_SECONDS, STAYED_UP_SECONDS, Backoff, StartupFailed, ensure_broker,
                            for_terminal)

LOCAL = "amqp://guest:guest@127.0.0.1:5672/"


class Machine:
    """A RabbitMQ that answers once started (or never), and the commands run to start it."""

    def __init__(self, running=False, installed="/usr/sbin/rabbitmq-server", starts=True, exit_code=0, said=""):
        self.running, self.installed, self.starts = running, installed, starts
        self.exit_code, self.said = exit_code, said
        self.commands = []
        self.asked = []

    def reachable(self, host, port, timeout):
        self.asked.append((host, port))
        return self.running

    def find_server(self):
        return self.installed

    def run(self, command, **options):
        self.commands.append(command)
        self.running = self.starts and self.exit_code == 0
        return subprocess.CompletedProcess(command, self.exit_code, stdout="", stderr=self.said)

    def ensure(self, amqp_uri=LOCAL, timeout=1):
        ensure_broker(amqp_uri, reachable=self.reachable, find_server=self.find_server, run=self.run, timeout=timeout)


def test_a_running_broker_is_left_alone():
    machine = Machine(running=True)
    machine.ensure()
    assert machine.commands == [] and machine.asked == [("127.0.0.1", 5672)]


def test_an_installed_but_stopped_broker_is_started_and_waited_for():
    machine = Machine()
    machine.ensure()
    assert machine.commands == [["/usr/sbin/rabbitmq-server", "-detached"]]
    assert machine.running


def test_a_broker_not_installed_is_named_with_the_command_that_installs_it():
    machine = Machine(installed=None)
    with pytest.raises(StartupFailed) as refused:
        machine.ensure()
    assert "not installed" in str(refused.value) and "sudo apt-get install rabbitmq-server" in str(refused.value)
    assert machine.commands == []


@pytest.mark.parametrize("amqp_uri", ["amqp://guest:guest@rabbit.example:5672/", "amqp://guest:guest@127.0.0.1:5673/"],
                         ids=["another-host", "another-port"])
def test_a_broker_someone_else_runs_is_not_started_here(amqp_uri):
    machine = Machine()
    with pytest.raises(StartupFailed) as refused:
        machine.ensure(amqp_uri)
    assert "RabbitMQ is not reachable" in str(refused.value) and "point AMQP_URI at a running one" in str(refused.value)
    assert machine.commands == []


def test_a_start_that_fails_says_why_and_how_to_start_it_by_hand():
    machine = Machine(exit_code=1, said="Only root or rabbitmq should run rabbitmq-server")
    with pytest.raises(StartupFailed) as refused:
        machine.ensure()
    message = str(refused.value)
    assert "Only root or rabbitmq" in message and "sudo systemctl start rabbitmq-server" in message


def test_a_broker_that_never_answers_after_its_start_is_given_up_on():
    machine = Machine(starts=False)
    with pytest.raises(StartupFailed) as refused:
        machine.ensure(timeout=0.3)
    assert "timed out" in str(refused.value) and "sudo systemctl start rabbitmq-server" in str(refused.value)
    assert len(machine.commands) == 1


def test_a_child_that_keeps_exiting_waits_longer_each_time_up_to_the_cap():
    backoff = Backoff()
    assert [backoff.after(uptime=2) for _ in range(7)] == [1, 2, 4, 8, 16, RESTART_MAX_DELAY_SECONDS,
                                                           RESTART_MAX_DELAY_SECONDS]


def test_a_child_that_stayed_up_a_while_is_started_again_at_once():
    backoff = Backoff()
    for _ in range(4):
        backoff.after(uptime=2)
    assert backoff.after(uptime=STAYED_UP_SECONDS) == 1
    assert backoff.after(uptime=2) == 2


@pytest.mark.parametrize("line,shown", [
    ('{"time": "2026-12-05 06:27:01,514", "level": "INFO", "logger": "services.common.extensions", '
     '"message": "kegiatan.buat_kegiatan handled"}', None),
    ('{"time": "2026-12-05 06:27:01,514", "level": "WARNING", "logger": "services.common.runner", '
     '"message": "notifikasi did not stop within 10s; killing its workers"}',
     "WARNING services.common.runner: notifikasi did not stop within 10s; killing its workers"),
    ('{"time": "2026-12-05 06:27:01,514", "level": "ERROR", "logger": "services.common.outbox", '
     '"message": "outbox relay failed; will retry", "exc_info": "Traceback (most recent call last):\\n  File"}',
     "ERROR services.common.outbox: outbox relay failed; will retry"),
    ("[2026-12-05 06:26:59 +0000] [13623] [INFO] Booting worker with pid: 13624", None),
    ("[2026-12-05 06:26:59 +0000] [13623] [CRITICAL] WORKER TIMEOUT (pid:13624)",
     "[2026-12-05 06:26:59 +0000] [13623] [CRITICAL] WORKER TIMEOUT (pid:13624)"),
    ("2026-12-05 06:26:59,100 WARNING secantus.server: slow operation",
     "2026-12-05 06:26:59,100 WARNING secantus.server: slow operation"),
    ('  File "/work/main/services/kegiatan/service.py", line 12, in <module>', None),
    ('"WARNING"', '"WARNING"'),
], ids=["json-info", "json-warning", "json-error-without-its-traceback", "gunicorn-info", "gunicorn-critical",
        "secantus-warning", "traceback", "json-but-no-log-line"])
def test_only_warnings_and_errors_of_a_child_reach_the_terminal_in_one_line(line, shown):
    assert for_terminal(line) == shown
