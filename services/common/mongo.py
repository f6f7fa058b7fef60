"""MongoDB access shared by services, jobs and tools (no Nameko here).

Adapter (pymongo): imported by repositories, the outbox, jobs and tools."""
import random
import re
import time
import uuid
from datetime import datetime, timezone

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.errors import BulkWriteError

from services.common.access_log import AKSES, chained
from services.common.errors import Unavailable

# The indexes of the access log of personal data (services/common/access_log.py).
ACCESS_LOG_INDEXES = {AKSES: [IndexModel([("urutan", ASCENDING)], unique=True, name="urutan"),
                              IndexModel([("wilayah", ASCENDING), ("urutan", ASCENDING)], name="wilayah")]}
# How often an append to the access log is tried when other reads took the next places first,
# and the longest pause before the next try, in seconds (a random part of it, growing with each
# try, so the appends that collided do not collide again).
ACCESS_LOG_TRIES = 20
ACCESS_LOG_PAUSE = 0.005
DUPLICATE_KEY = 11000


def connect(uri, **kwargs):
    """A client with the options every part of the platform uses: aware datetimes, short
    server selection so an unreachable database is reported quickly instead of hanging."""
    return MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000,
                       appname="bkpm", **kwargs)


def ensure_indexes(db, indexes):
    """Create the indexes declared as {collection: [IndexModel, ...]}; existing ones are kept."""
    for collection, models in indexes.items():
        db[collection].create_indexes(models)


def utcnow():
    """The current UTC time at the millisecond precision BSON stores, so what a service
    returns after a write equals what it reads back later."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def area_filter(field, kode):
    """Documents whose area code `field` is the area `kode` or inside it (the query form of
    services.common.access.within); national (None) is everything."""
    if not kode:
        return {}
    return {field: {"$regex": f"^{re.escape(kode)}(\\.|$)"}}


def new_id():
    return str(uuid.uuid4())


def as_record(document):
    """A stored document as services hand it out: `_id` becomes `id`."""
    if document is None:
        return None
    record = dict(document)
    record["id"] = record.pop("_id")
    return record


class Repository:
    """What every service's repository has: its database, the unit of work that writes through
    the outbox, its declared indexes, pages of records, its access log of personal data (a
    repository that appends to it declares ACCESS_LOG_INDEXES among its own), and a ping for
    readiness."""

    INDEXES = {}

    def __init__(self, db, unit_of_work):
        self.db = db
        self.uow = unit_of_work

    def _page(self, collection, criteria, order, page, per_page):
        """One page of records and the count of all that match; per_page 0 is everything."""
        cursor = self.db[collection].find(criteria).sort(order).skip((page - 1) * per_page).limit(per_page)
        records = [as_record(document) for document in cursor]
        total = len(records) if not per_page else self.db[collection].count_documents(criteria)
        return records, total

    def replace_if_unchanged(self, tx, collection, before, after):
        """Write `after` (a record as services hand them out) over `before` only while the stored
        document is still `before`, field for field: False when someone changed it meanwhile (a
        correction then answers 412, services.common.patch)."""
        stored = {"_id": before["id"], **{name: value for name, value in before.items() if name != "id"}}
        replacement = {name: value for name, value in after.items() if name != "id"}
        return self.db[collection].replace_one(stored, replacement, session=tx.session).matched_count == 1

    # The access log: appended to and read, never changed (no update or delete here or anywhere).

    def record_access(self, entries):
        """Append `entries` to the service's access log, chained after the newest one. Two
        appends at once want the same places: the unique place makes one of them try again."""
        pending = list(entries)
        for attempt in range(ACCESS_LOG_TRIES):
            if attempt:
                time.sleep(random.uniform(0, ACCESS_LOG_PAUSE * attempt))
            last = self.db[AKSES].find_one({}, {"urutan": 1, "waktu": 1, "hash": 1}, sort=[("urutan", DESCENDING)])
            documents = [{"_id": new_id(), **document} for document in chained(last, pending, utcnow())]
            try:
                self.db[AKSES].insert_many(documents, ordered=True)
                return
            except BulkWriteError as exc:
                if exc.details.get("writeConcernErrors") or any(
                        error["code"] != DUPLICATE_KEY for error in exc.details["writeErrors"]):
                    raise
                pending = pending[exc.details["nInserted"]:]
        raise Unavailable("Pembacaan data pribadi tidak dapat dicatat saat ini, jadi datanya tidak diberikan.")

    def access_entries(self, after, area, query):
        """The access log after place `after`, in `area` (None: all), as `query` narrows it
        (`sejak` inclusive, `sampai` exclusive, `jenis`), at most `query['limit']`."""
        criteria = {"urutan": {"$gt": after}, **area_filter("wilayah", area)}
        period = {op: query[name] for name, op in (("sejak", "$gte"), ("sampai", "$lt")) if name in query}
        if period:
            criteria["waktu"] = period
        if "jenis" in query:
            criteria["jenis"] = query["jenis"]
        found = self.db[AKSES].find(criteria).sort("urutan", ASCENDING).limit(query["limit"])
        return [as_record(document) for document in found]

    def access_log(self):
        """The whole access log in order, to check its chain (access_log.first_break)."""
        return self.db[AKSES].find({}).sort("urutan", ASCENDING)

    def ping(self):
        self.db.command("ping")
