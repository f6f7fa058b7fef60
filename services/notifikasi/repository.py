"""Storage of the notifikasi service: the delivery log (the source of truth for exactly once)
and people's preferences."""
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.mongo import Repository, as_record
from services.common.mongo import utcnow as now

PENGIRIMAN, PREFERENSI = "pengiriman", "preferensi"


class NotifikasiRepository(Repository):
    INDEXES = {
        PENGIRIMAN: [IndexModel([("event_id", ASCENDING)], name="event"),
                     IndexModel([("status", ASCENDING), ("dibuat", DESCENDING)], name="status")],
    }

    def claim(self, key, entry):
        """The delivery with this key: created now as 'antri', or the one that exists already
        (the same event delivered twice, or a retry). `_id` is the key: one per (event,
        recipient, channel), also under concurrency."""
        stamp = now()
        try:
            document = {"_id": key, "status": "antri", "percobaan": 0, "galat_terakhir": None, "dibuat": stamp,
                        "diperbarui": stamp, **entry}
            self.db[PENGIRIMAN].insert_one(document)
            return as_record(document)
        except DuplicateKeyError:
            return as_record(self.db[PENGIRIMAN].find_one({"_id": key}))

    def settle(self, tx, key, status, error=None):
        return as_record(self.db[PENGIRIMAN].find_one_and_update(
            {"_id": key}, {"$set": {"status": status, "galat_terakhir": error, "diperbarui": now()},
                           "$inc": {"percobaan": 0 if status == "dilewati" else 1}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def preferences(self, recipient_id):
        return (self.db[PREFERENSI].find_one({"_id": recipient_id}) or {}).get("kanal", {})

    def find_deliveries(self, criteria, page, per_page):
        return self._page(PENGIRIMAN, criteria, [("dibuat", DESCENDING), ("_id", ASCENDING)], page, per_page)
