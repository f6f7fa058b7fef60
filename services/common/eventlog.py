"""The public event log: every event a service published, in its public form, so a subscriber
that joins late can catch up (GET /api/v1/events, `bkpm subscribe --since`).

Each service's outbox is its log: the relay gives every event its place (`seq`) when it
publishes it, in publishing order. The gateway reads the logs of all services after a cursor
that holds one place per service, and merges them by publishing time.

Adapter (pymongo): imported by services' entrypoints (BaseService) and the gateway's schemas.
"""
import base64
import binascii
import json
import re
from datetime import datetime

from marshmallow import ValidationError, fields, validate, validates

from services.common.access import KODE_WILAYAH_PATTERN
from services.common.mongo import area_filter
from services.common.schema import BaseSchema, aturan, regexp

OUTBOX = "outbox"
TYPE_PATTERN = r"^(\*|[a-z_]+)\.(\*|[a-z_]+(\.v[0-9]+)?)$"


CURSOR_DOC = aturan("Harus `next_cursor` yang diberikan halaman sebelumnya.", {
    "description": "`next_cursor` halaman sebelumnya."})


class EventLogQuerySchema(BaseSchema):
    since = fields.AwareDateTime(metadata={"description": "Hanya event sejak waktu ini (ISO 8601)."})
    type = fields.String(validate=regexp(TYPE_PATTERN, "Jenis event tidak valid (contoh 'penyaluran.dicatat', "
                                                       "'penyaluran.*', '*.dibatalkan')."))
    wilayah = fields.String(validate=regexp(KODE_WILAYAH_PATTERN, "Kode wilayah tidak valid."), metadata={
        "description": "Hanya event di wilayah ini dan di bawahnya."})
    cursor = fields.String(metadata=CURSOR_DOC)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))

    @validates("cursor")
    def readable(self, value, **kwargs):
        decode_cursor(value)


class EventLogPageSchema(BaseSchema):
    items = fields.List(fields.Dict(), required=True, metadata={
        "description": "CloudEvent publik, urut waktu terbit (sama dengan yang diterbitkan ke bkpm.publik)."})
    next_cursor = fields.String(required=True, metadata={"description": "Untuk halaman berikutnya."})
    pending_since = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Waktu event tertua yang sudah tersimpan tetapi belum terbit; null bila tidak ada."})


def encode_cursor(places):
    return base64.urlsafe_b64encode(json.dumps(places, sort_keys=True).encode()).decode()


def decode_cursor(cursor):
    """{service: last place read}; a cursor that is not one of ours is a field error."""
    if not cursor:
        return {}
    try:
        places = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(places, dict) and all(type(v) is int and 0 <= v < 2 ** 63 for v in places.values()):
            return places
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        pass
    raise ValidationError("Cursor tidak dikenal.")


def type_filter(pattern):
    """'penyaluran.*' -> a regex over event types, each '*' one word; a '*' verb takes the
    versioned types too (`penyaluran.dicatat.v2`), as the feed's routing keys do."""
    entity, verb, *version = pattern.split(".")
    words = ["[a-z_]+" if entity == "*" else re.escape(entity),
             r"[a-z_]+(\.v[0-9]+)?" if verb == "*" else re.escape(".".join([verb, *version]))]
    return {"public.event.type": {"$regex": "^" + r"\.".join(words) + "$"}}


def read_log(db, after, query, area):
    """One service's published events after place `after`, as far as `query` and the caller's
    `area` let them be seen; with the time of its oldest event not yet published. Internal
    events (no public form) are not in the log: skipped, and not waited for."""
    criteria = {"seq": {"$gt": after}, "public": {"$ne": None}, **area_filter("public.event.wilayah", area)}
    if "since" in query:
        criteria["published"] = {"$gte": query["since"]}
    if "type" in query:
        criteria.update(type_filter(query["type"]))
    entries = db[OUTBOX].find(criteria, {"seq": 1, "published": 1, "public.event": 1}).sort("seq", 1)
    pending = db[OUTBOX].find_one({"published": None, "public": {"$ne": None}}, {"created": 1}, sort=[("_id", 1)])
    return {"items": [{"seq": e["seq"], "published": e["published"].isoformat(timespec="milliseconds"),
                       "event": e["public"]["event"]} for e in entries.limit(query["limit"])],
            "pending_since": pending["created"].isoformat(timespec="milliseconds") if pending else None}


def merge_pages(pages, places, limit):
    """The first `limit` events of several services' pages ({service: page}), by publishing
    time, with the cursor after them: a service's place moves only past events handed out."""
    merged = sorted(((item["published"], service, item["seq"], item["event"])
                     for service, page in pages.items() for item in page["items"]))[:limit]
    places = dict(places)
    for _, service, seq, _ in merged:
        places[service] = max(places.get(service, 0), seq)
    pending = [page["pending_since"] for page in pages.values() if page["pending_since"]]
    return {"items": [event for *_, event in merged], "next_cursor": encode_cursor(places),
            "pending_since": min(pending, key=datetime.fromisoformat) if pending else None}
