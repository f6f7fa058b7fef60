"""A consumer service for the tests of reliable event handling: it records every call of its
handler, fails on purpose (or finds another service down, or fails until the test mends it)
when a unit's name asks it to, and
records what it handled (and which instance handled it)."""
import os

from services.common.consumer import event_handler
from services.common.errors import Unavailable
from services.common.extensions import BaseService
from services.common.mongo import Repository
from services.common.store import Store


# More calls than EVENT_MAX_ATTEMPTS in the tests: an outage must not use up an event's tries.
OUTAGE_CALLS = 5


class ProbeRepository(Repository):
    pass


class ProbeService(BaseService):
    name = "probe"

    store = Store(ProbeRepository, data_schemas={}, public_schemas={})

    @event_handler("organisasi", "unit.dibentuk")
    def on_unit_dibentuk(self, event):
        db = self.store.db
        db.calls.insert_one({"event_id": event["id"], "correlation_id": self.context})
        nama = event["data"]["nama"]
        if "GAGAL-SELALU" in nama:
            raise RuntimeError("gagal disengaja")
        if "TIDAK-TERSEDIA" in nama and db.calls.count_documents({"event_id": event["id"]}) <= OUTAGE_CALLS:
            raise Unavailable("layanan lain tidak menjawab (disengaja)")
        if "GAGAL-SAMPAI-DIPERBAIKI" in nama and db.perbaikan.count_documents({}) == 0:
            raise RuntimeError("gagal sampai diperbaiki (disengaja)")
        if "GAGAL-SEKALI" in nama and db.calls.count_documents({"event_id": event["id"]}) == 1:
            raise RuntimeError("gagal sekali disengaja")
        db.handled.insert_one({"event_id": event["id"], "nama": nama, "instance": os.getpid()})
