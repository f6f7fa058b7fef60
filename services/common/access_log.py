"""The access log of personal data (UU No. 27/2022): each time a whole NIK, No. KK or a person's
contacts leave a service, who was handed them, when, which records (kind and id), which fields
(names only, never the values), through which route (the RPC method: the gateway passes no
HTTP path to the services, and each route has one method) and the records' area, so that the
admins of that area can read it (GET /api/v1/akses).

Each service keeps its own log in its own database (collection `akses`), insert-only: no code
path updates or deletes an entry. Each entry carries its place (`urutan`) and the hash of the
entry before it in that service, so an entry changed, added or removed straight in the database
breaks the chain (`first_break`).

An entry is written before the data are handed out, outside the read's transaction; a read
whose entry cannot be written is refused (fails closed): no entry, no data.

Framework-free core: imported by use cases, the repositories (services/common/mongo.py),
BaseService's `list_akses` and the gateway's schemas."""
import hashlib
import json
from dataclasses import dataclass

from marshmallow import fields, validate

from services.common.access import KODE_WILAYAH_PATTERN
from services.common.errors import Forbidden
from services.common.schema import BaseSchema, instance, one_of, regexp

AKSES = "akses"
# The services that hand out such data, and so keep a log (the others' is empty).
SERVICES_WITH_LOG = ("organisasi", "kegiatan", "bantuan")
# The kinds of record whose personal data are logged when read whole.
JENIS = ("penerima", "pengurus", "anggota", "pelapor", "peserta")
ADMIN_ONLY = "Hanya admin yang dapat membaca catatan akses data pribadi."
# The hash the first entry of a service's log links to.
GENESIS = "0" * 64


@dataclass(frozen=True)
class Reader:
    """Who is handed personal data: a person (their token's `sub` and roles) or, for the
    internal lookups, the calling service; and `route`, the RPC method ('bantuan.get_penerima')."""
    route: str
    sub: str | None = None
    roles: tuple = ()
    service: str | None = None

    def who(self):
        return {"layanan": self.service} if self.service else {"sub": self.sub, "peran": list(self.roles)}


def record_read(store, reader, shown):
    """Write down, before they are handed out, that `reader` reads the records `shown`: (kind
    of record, its id, its area, {field: value handed out whole}) each. Records with none of
    those values are left out (nothing of theirs is read); one entry per kind and area, so each
    is read by the admins of its own area, all in one write. A failure to write raises: the
    caller hands nothing out."""
    entries = {}
    for jenis, record_id, wilayah, values in shown:
        read = [name for name, value in values.items() if value]
        if read:
            ids, names = entries.setdefault((jenis, wilayah), ([], set()))
            ids.append(record_id)
            names.update(read)
    if entries:
        store.record_access([{"oleh": reader.who(), "rute": reader.route, "jenis": jenis, "data_id": ids,
                              "kolom": sorted(names), "wilayah": wilayah}
                             for (jenis, wilayah), (ids, names) in entries.items()])


# The chain

def chain_hash(previous, entry):
    """The hash of `entry` (its fields as stored, but `hash`) linked to the one before it."""
    content = {name: entry[name] for name in ("urutan", "oleh", "rute", "jenis", "data_id", "kolom", "wilayah")}
    content["waktu"] = entry["waktu"].isoformat(timespec="milliseconds")
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()


def chained(last, entries, now):
    """`entries` as the next ones after `last` (the newest stored entry, or None): each with
    its place, its time (never before the last one's, so places and times agree) and its link."""
    place, previous = (last["urutan"], last["hash"]) if last else (0, GENESIS)
    moment = max(now, last["waktu"]) if last else now
    documents = []
    for entry in entries:
        place += 1
        document = {**entry, "urutan": place, "waktu": moment, "sebelumnya": previous}
        document["hash"] = previous = chain_hash(previous, document)
        documents.append(document)
    return documents


def first_break(entries):
    """The place of the first of `entries` (a service's whole log, in order) that was changed,
    or that follows a removed or inserted one; None when the chain holds."""
    previous, place = GENESIS, 0
    for entry in entries:
        place += 1
        try:
            intact = entry["urutan"] == place and entry["sebelumnya"] == previous and \
                entry["hash"] == chain_hash(previous, entry)
        except (KeyError, TypeError, AttributeError, ValueError):  # a field removed or of another type
            return place
        if not intact:
            return entry["urutan"]
        previous = entry["hash"]
    return None


# Reading it

class AksesQuerySchema(BaseSchema):
    wilayah = fields.String(validate=regexp(KODE_WILAYAH_PATTERN, "Kode wilayah tidak valid."), metadata={
        "description": "Hanya catatan data di wilayah ini dan di bawahnya."})
    sejak = fields.AwareDateTime(metadata={"description": "Hanya pembacaan sejak waktu ini (ISO 8601)."})
    sampai = fields.AwareDateTime(metadata={"description": "Hanya pembacaan sebelum waktu ini (ISO 8601)."})
    jenis = fields.String(validate=one_of(JENIS), metadata={"description": "Jenis data yang dibaca."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AksesSchema(BaseSchema):
    id = fields.String(required=True)
    layanan = fields.String(required=True, metadata={"description": "Layanan yang menyimpan data itu."})
    urutan = fields.Integer(required=True, metadata={"description": "Tempatnya dalam catatan layanan itu."})
    waktu = fields.AwareDateTime(required=True)
    oleh = fields.Dict(required=True, metadata={
        "description": "`{sub, peran}` pengguna, atau `{layanan}` untuk layanan platform yang membaca."})
    rute = fields.String(required=True, metadata={"description": "Metode RPC yang dipanggil (layanan.metode)."})
    jenis = fields.String(required=True)
    data_id = fields.List(fields.String(), required=True, metadata={"description": "Id catatan yang dibaca."})
    kolom = fields.List(fields.String(), required=True, metadata={
        "description": "Nama kolom yang diberikan utuh (nilainya tidak pernah dicatat)."})
    wilayah = fields.String(allow_none=True, required=True)


class AksesPageSchema(BaseSchema):
    items = fields.List(fields.Nested(AksesSchema), required=True, metadata={"description": "Urut waktu baca."})
    next_cursor = fields.String(required=True, metadata={"description": "Untuk halaman berikutnya."})


def list_akses(actor, query, after, store, service):
    """`service`'s access log after place `after`, for an admin, within their area (national:
    all). Shaped as the event log's pages (services.common.eventlog.merge_pages merges them)."""
    if not actor.has_role(("admin",)):
        raise Forbidden(ADMIN_ONLY)
    entries = store.access_entries(after, actor.visible_area(query.get("wilayah")), query)
    return {"items": [{"seq": entry["urutan"], "published": entry["waktu"].isoformat(timespec="milliseconds"),
                       "event": instance(AksesSchema).dump({**entry, "layanan": service})} for entry in entries],
            "pending_since": None}
