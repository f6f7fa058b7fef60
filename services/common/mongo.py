"""MongoDB access shared by services, jobs and tools (no Nameko here).

Adapter (pymongo): imported by repositories, the outbox, jobs and tools."""
import re
import uuid
from datetime import datetime, timezone

from pymongo import MongoClient


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
    the outbox, its declared indexes, pages of records, and a ping for readiness."""

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

    def ping(self):
        self.db.command("ping")
