"""A subscriber that joins late (`bkpm subscribe --since`) while writes keep coming: it gets the
backlog from the event log, then the live feed, with no event missing and none twice across
the switch, in the order they were written."""
import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import pika
import pytest

from services.stack import die_with_parent
from tests.support import ROOT, form_units


class Writer(threading.Thread):
    """Schedules one activity after another in Kota Kupang, remembering each one's id."""

    def __init__(self, api, unit):
        super().__init__(daemon=True)
        self.api, self.unit, self.ids, self.stopping = api, unit, [], threading.Event()
        self.failure = None

    def run(self):
        n = 0
        while not self.stopping.is_set():
            n += 1
            response = self.api.post("/kegiatan", json={
                "unit_id": self.unit["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": f"Penyuluhan {n}",
                "mulai": "2026-12-20T09:00:00+08:00", "selesai": "2026-12-20T10:00:00+08:00",
                "lokasi": {"kode_wilayah": "53.71.01", "alamat": "Aula"}})
            if response.status_code != 201:
                self.failure = response.text
                return
            self.ids.append(response.json()["id"])
            time.sleep(0.1)  # slower than the log is read, even on a loaded machine: it catches up


@pytest.fixture(scope="module")
def kupang(api, national_unit):
    return form_units(api, "53", "53.71")["53.71"]


class Output:
    """Where `bkpm subscribe` hands the events: printed JSON lines, or a queue of the system's own
    that any AMQP client consumes."""

    def __init__(self, kind, env, tmp_path):
        self.kind, self.env, self.path, self.taken = kind, env, tmp_path / "out.jsonl", []
        self.queue = f"kupang-{uuid.uuid4().hex[:8]}.masuk"

    def args(self):
        return ["--into-queue", self.queue] if self.kind == "queue" else []

    def ids(self):
        if self.kind == "stdout":
            return [json.loads(line)["data"]["id"] for line in self.path.read_text().splitlines()]
        connection = pika.BlockingConnection(pika.URLParameters(self.env["AMQP_URI"]))
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                break
            assert properties.message_id == json.loads(body)["id"]
            self.taken.append(json.loads(body)["data"]["id"])
        connection.close()
        return self.taken


@pytest.mark.parametrize("kind", ["stdout", "queue"])
def test_a_late_subscriber_gets_the_backlog_then_live_events_without_gap_or_repeat(api, kupang, env, token, tmp_path,
                                                                                     kind):
    output = Output(kind, env, tmp_path)
    started = datetime.now(timezone.utc).isoformat()
    writer = Writer(api, kupang)
    writer.start()
    time.sleep(2)  # a backlog builds up before the subscriber comes
    out, err = open(tmp_path / "out.jsonl", "wb"), open(tmp_path / "err.log", "wb")
    subscriber = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "subscribe", "--queue", f"kupang-{uuid.uuid4().hex[:8]}",
         "--events", "kegiatan.kegiatan.dijadwalkan", "--wilayah", "53.71", "--since", started,
         "--api", api.base, "--token", token("pemantau", "53.71"), "--amqp", env["AMQP_URI"], *output.args()],
        env=env, cwd=ROOT, stdout=out, stderr=err, preexec_fn=lambda: die_with_parent(signal.SIGKILL))
    try:
        # Writes go on through the switch from the log to the queue, and a while after it.
        deadline = time.monotonic() + 120
        while "caught up with" not in (tmp_path / "err.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "caught up with" in (tmp_path / "err.log").read_text(), "the subscriber never caught up with the log"
        # A few more writes after the switch, however slowly a loaded machine answers them.
        caught_up_at, deadline = len(writer.ids), time.monotonic() + 30
        while len(writer.ids) < caught_up_at + 5 and writer.failure is None and time.monotonic() < deadline:
            time.sleep(0.2)
        writer.stopping.set()
        writer.join()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(output.ids()) < len(writer.ids):
            time.sleep(0.2)
        time.sleep(1)  # anything more would be a repeat
        received = list(output.ids())
    finally:
        subscriber.terminate()
        subscriber.wait(timeout=10)
        out.close()
        err.close()
    log = (tmp_path / "err.log").read_text()
    assert writer.failure is None, writer.failure
    assert received == writer.ids, log[-2000:]  # every one, once, in the order written
    from_log = int(log.split("caught up with ")[1].split(" ")[0])
    assert 0 < from_log < len(writer.ids), log[-2000:]  # some came from the log, the rest live
