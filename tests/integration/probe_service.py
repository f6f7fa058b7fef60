"""A consumer service for the tests of reliable event handling: it records every call of its
handler, fails on purpose when a unit's name asks it to, and records what it handled (and which
instance handled it)."""
import os

from services.common.consumer import event_handler
from services.common.extensions import BaseService
from services.common.mongo import Repository
from services.common.store import Store


class ProbeRepository(Repository):
    pass


class ProbeService(BaseService):
    name = "probe"

    store = Store(ProbeRepository, event_schemas={}, public_schemas={})

    @event_handler("organisasi", "unit.dibentuk")
    def on_unit_dibentuk(self, event):
        db = self.store.db
        db.calls.insert_one({"event_id": event["id"], "correlation_id": self.context})
        nama = event["data"]["nama"]
        if "GAGAL-SELALU" in nama:
            raise RuntimeError("gagal disengaja")
        if "GAGAL-SEKALI" in nama and db.calls.count_documents({"event_id": event["id"]}) == 1:
            raise RuntimeError("gagal sekali disengaja")
        db.handled.insert_one({"event_id": event["id"], "nama": nama, "instance": os.getpid()})
