"""The line each handled call, event or timer tick leaves in its service's log: a timer that ticks
every second must not bury what people read (`make run`'s banner, a call that failed)."""
import logging
from types import SimpleNamespace

import pytest
from nameko.events import EventHandler
from nameko.rpc import Rpc
from nameko.timer import Timer

from services.common.extensions import CorrelationContext


class Worker:
    """What the extension reads of Nameko's worker context (which it keeps weak references to)."""

    def __init__(self, entrypoint):
        self.entrypoint, self.data = entrypoint, {}


def handled_line(entrypoint, method_name, caplog):
    entrypoint.method_name = method_name
    context = CorrelationContext()
    context.container = SimpleNamespace(service_name="notifikasi")
    context.setup()
    with caplog.at_level(logging.DEBUG, logger="services.common.extensions"):
        context.worker_result(Worker(entrypoint))
    [record] = caplog.records
    return record


def test_a_timer_tick_is_logged_at_debug(caplog):
    record = handled_line(Timer(interval=1), "kirim_ulang", caplog)
    assert record.getMessage() == "notifikasi.kirim_ulang handled" and record.levelno == logging.DEBUG


@pytest.mark.parametrize("entrypoint", [Rpc(), EventHandler("kegiatan", "kegiatan.dibuat")], ids=["rpc", "event"])
def test_a_call_or_an_event_is_logged_at_info(entrypoint, caplog):
    record = handled_line(entrypoint, "kirim_pesan", caplog)
    assert record.getMessage() == "notifikasi.kirim_pesan handled" and record.levelno == logging.INFO
