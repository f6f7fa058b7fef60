"""Storage of the notifikasi service: the delivery log (the source of truth for exactly once
and for retries), people's preferences, the in-app inbox, the registered webhooks, and which
aspirations an address was told of (by the address's hash)."""
import secrets

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.mongo import Repository, area_filter, as_record, new_id
from services.common.mongo import utcnow as now
from services.notifikasi.domain import SETTLED

PENGIRIMAN, PREFERENSI, KOTAK_MASUK, WEBHOOK = "pengiriman", "preferensi", "kotak_masuk", "webhook"
TAUTAN_BERHENTI = "tautan_berhenti"
# An address's slots for new aspirations, each held for a window by the one it took, and the
# aspirations each address was told of: both keyed by the address's hash.
JATAH_ALAMAT, ALAMAT_DIBERITAHU = "jatah_alamat", "alamat_diberitahu"


class NotifikasiRepository(Repository):
    INDEXES = {
        PENGIRIMAN: [IndexModel([("event_id", ASCENDING)], name="event"),
                     IndexModel([("status", ASCENDING), ("dibuat", DESCENDING)], name="status"),
                     IndexModel([("berikutnya", ASCENDING)], name="due",
                                partialFilterExpression={"status": "antri"}),
                     IndexModel([("penerima", ASCENDING)], name="penerima")],
        KOTAK_MASUK: [IndexModel([("akun", ASCENDING), ("dibuat", DESCENDING)], name="akun"),
                      IndexModel([("dibuat", ASCENDING)], name="age")],
        TAUTAN_BERHENTI: [IndexModel([("penerima", ASCENDING), ("kanal", ASCENDING)], name="penerima_kanal",
                                     unique=True)],
        JATAH_ALAMAT: [IndexModel([("sampai", ASCENDING)], name="until")],
        ALAMAT_DIBERITAHU: [IndexModel([("dibuat", ASCENDING)], name="age"),
                            IndexModel([("penerima", ASCENDING)], name="penerima")],
    }

    # The delivery log

    def claim(self, key, entry, tx=None):
        """Put a delivery in the log as 'antri', due now, unless it is there already (the same
        event delivered twice): `_id` is the key, one per (event, recipient, channel), also
        under concurrency and inside a transaction (`tx`, when it is part of one)."""
        stamp = now()
        result = self.db[PENGIRIMAN].update_one(
            {"_id": key}, {"$setOnInsert": {"status": "antri", "percobaan": 0, "galat_terakhir": None,
                                            "berikutnya": stamp, "dibuat": stamp, "diperbarui": stamp, **entry}},
            upsert=True, session=tx.session if tx else None)
        return result.upserted_id is not None

    def take(self, key, lease_until):
        """Take a delivery that is waiting and due, holding it until `lease_until` so no other
        instance sends it meanwhile, and count the try now (a sender that dies mid-try has
        tried); None when it is not due, done, or held by someone else. A dead sender's
        delivery is taken again when its hold runs out."""
        return as_record(self.db[PENGIRIMAN].find_one_and_update(
            {"_id": key, "status": "antri", "berikutnya": {"$lte": now()}},
            {"$set": {"berikutnya": lease_until}, "$inc": {"percobaan": 1}}, return_document=ReturnDocument.AFTER))

    def due(self, limit=100):
        """Keys of deliveries waiting whose time has come (retries, and any a crash left)."""
        cursor = self.db[PENGIRIMAN].find({"status": "antri", "berikutnya": {"$lte": now()}}, {"_id": 1})
        return [document["_id"] for document in cursor.sort("berikutnya", ASCENDING).limit(limit)]

    def logged(self, key):
        """Is a delivery with this key in the log already?"""
        return self.db[PENGIRIMAN].find_one({"_id": key}, {"_id": 1}) is not None

    def settle(self, tx, taken, status, error=None, tried=True, next_try=None, forget=()):
        """Record how the try of a taken delivery went: done ('terkirim', 'gagal', 'dilewati'),
        or 'antri' again with the time of the next try. Only while the hold is still ours:
        None when it ran out and another sender took the delivery over. A try that did not
        happen (the person opted out) is not counted. The parts of its context named in
        `forget` (a secret it carried) leave the log."""
        update = {"$set": {"status": status, "galat_terakhir": error, "berikutnya": next_try, "diperbarui": now()},
                  "$inc": {"percobaan": 0 if tried else -1}}
        if forget:
            update["$unset"] = {f"konteks.{name}": "" for name in forget}
        return as_record(self.db[PENGIRIMAN].find_one_and_update(
            {"_id": taken["id"], "status": "antri", "berikutnya": taken["berikutnya"]}, update,
            session=tx.session, return_document=ReturnDocument.AFTER))

    def forget_older_than(self, cutoff):
        """Settled deliveries and inbox messages made before `cutoff` leave the log and the
        inboxes, and so do what addresses were told of before it and their slots freed before
        it; a delivery still waiting stays whatever its age. The counts of deliveries and
        messages forgotten."""
        deliveries = self.db[PENGIRIMAN].delete_many({"status": {"$in": list(SETTLED)}, "dibuat": {"$lt": cutoff}})
        messages = self.db[KOTAK_MASUK].delete_many({"dibuat": {"$lt": cutoff}})
        self.db[ALAMAT_DIBERITAHU].delete_many({"dibuat": {"$lt": cutoff}})
        self.db[JATAH_ALAMAT].delete_many({"sampai": {"$lt": cutoff}})
        return deliveries.deleted_count, messages.deleted_count

    def find_deliveries(self, area, filters, page, per_page):
        """A page of the log, newest first: deliveries about events in `area` matching `filters`
        (status, event_id, kanal) exactly (services.common.usecase.page_in_area)."""
        return self._page(PENGIRIMAN, {**filters, **area_filter("wilayah", area)},
                          [("dibuat", DESCENDING), ("_id", ASCENDING)], page, per_page)

    def forget_person(self, recipient_id, reason):
        """What notifikasi copied of one person erased where their record is kept: their
        deliveries keep status and times for the operators but lose the address, the fallback
        chain's addresses, the name, the context and the last error (`reason` instead); one still
        waiting is not sent; their preferences go, and the aspirations their address was told of.
        Doing it again changes nothing."""
        log = self.db[PENGIRIMAN]
        log.update_many({"penerima": recipient_id, "status": "antri"}, {"$set": {"status": "dilewati",
                                                                                  "berikutnya": None}})
        log.update_many({"penerima": recipient_id}, {"$set": {
            "tujuan": None, "cadangan": [], "nama": "", "konteks": {}, "galat_terakhir": reason, "diperbarui": now()}})
        self.db[PREFERENSI].delete_one({"_id": recipient_id})
        self.db[ALAMAT_DIBERITAHU].delete_many({"penerima": recipient_id})

    # What addresses were told of

    def admit(self, address_key, case, now, slots, window):
        """Whether the address of `address_key` may hear of `case` (an aspiration's recipient
        id): yes when it was told of it before; else when one of its `slots` is free, which
        the case then holds for `window`. A slot is taken by one atomic write (the insert of a
        slot still held fails on its key), so senders running at once never give out more."""
        told = f"{address_key}:{case}"
        if self.db[ALAMAT_DIBERITAHU].find_one({"_id": told}, {"_id": 1}) is not None:
            return True
        for slot in range(slots):
            try:
                self.db[JATAH_ALAMAT].update_one({"_id": f"{address_key}:{slot}", "sampai": {"$lte": now}},
                                                 {"$set": {"sampai": now + window}}, upsert=True)
            except DuplicateKeyError:
                continue  # held by another aspiration
            self.db[ALAMAT_DIBERITAHU].update_one({"_id": told}, {"$setOnInsert": {"dibuat": now, "penerima": case}},
                                                  upsert=True)
            return True
        return False

    # Preferences

    def preferences(self, recipient_id):
        return self.preference_record(recipient_id)["kanal"]

    def preference_record(self, recipient_id):
        document = self.db[PREFERENSI].find_one({"_id": recipient_id}) or {}
        return {"penerima": recipient_id, "kanal": document.get("kanal", {}), "diperbarui": document.get("diperbarui")}

    def set_preferences(self, recipient_id, kanal, by):
        self.db[PREFERENSI].update_one(
            {"_id": recipient_id}, {"$set": {**{f"kanal.{name}": value for name, value in kanal.items()},
                                             "diperbarui": now(), "oleh": by}}, upsert=True)
        return self.preference_record(recipient_id)

    def opt_out_token(self, recipient_id, channel):
        """The token of the link with which `recipient_id` stops messages over `channel`: made at
        the first message, the same in every one after, so an old message's link still works."""
        found = {"penerima": recipient_id, "kanal": channel}
        try:
            document = self.db[TAUTAN_BERHENTI].find_one_and_update(
                found, {"$setOnInsert": {"_id": secrets.token_urlsafe(24), "dibuat": now()}}, upsert=True,
                return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:  # another sender made it at the same moment
            document = self.db[TAUTAN_BERHENTI].find_one(found)
        return document["_id"]

    def opt_out_link(self, token):
        """(recipient id, channel) of an opt-out link's token; None for a token never given out."""
        document = self.db[TAUTAN_BERHENTI].find_one({"_id": token})
        return (document["penerima"], document["kanal"]) if document else None

    # The inbox

    def put_in_inbox(self, tx, key, message):
        """One message in someone's inbox, keyed like its delivery so it is there once."""
        self.db[KOTAK_MASUK].update_one({"_id": key}, {"$setOnInsert": {**message, "dibaca": None, "dibuat": now()}},
                                        upsert=True, session=tx.session)

    def inbox(self, akun, read, page, per_page):
        """A page of the inbox of `akun`, newest first: only the messages read (`read` True),
        only those unread (False), or all (None)."""
        criteria = {"akun": akun}
        if read is not None:
            criteria["dibaca"] = {"$ne": None} if read else None
        return self._page(KOTAK_MASUK, criteria, [("dibuat", DESCENDING), ("_id", ASCENDING)], page, per_page)

    def mark_read(self, akun, message_id):
        """Mark one's own message read (the first reading's time stays); None if not theirs."""
        self.db[KOTAK_MASUK].update_one({"_id": message_id, "akun": akun, "dibaca": None}, {"$set": {"dibaca": now()}})
        return as_record(self.db[KOTAK_MASUK].find_one({"_id": message_id, "akun": akun}))

    # Webhooks

    def insert_webhook(self, tx, webhook):
        document = {"_id": new_id(), "dibuat": now(), **webhook}
        self.db[WEBHOOK].insert_one(document, session=tx.session)
        return as_record(document)

    def webhooks(self):
        return [as_record(document) for document in self.db[WEBHOOK].find().sort("dibuat", ASCENDING)]

    def webhook(self, webhook_id):
        return as_record(self.db[WEBHOOK].find_one({"_id": webhook_id}))

    def delete_webhook(self, webhook_id):
        return self.db[WEBHOOK].delete_one({"_id": webhook_id}).deleted_count == 1
