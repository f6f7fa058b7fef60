"""MongoDB access shared by services, jobs and tools (no Nameko here)."""
import re
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
