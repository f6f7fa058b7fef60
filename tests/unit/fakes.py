"""In-memory stand-ins for what use cases need from the outside world, as Cosmic Python's
FakeUnitOfWork: a store's tables, the unit of work over them (with its events), and
organisasi's lookups. Each service's fake repository (tests/unit/fake_<name>.py) builds on
`FakeStore`, so its use cases are tested in milliseconds without a broker or a database."""
import copy
import itertools
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from services.common.access import Actor, area_and_ancestors, within
from services.common.access_log import AKSES, Reader, chained
from services.common.attachments import COUNT
from services.common.errors import Unavailable
from services.common.unit_of_work import DuplicateKey, Transaction, UnitOfWork

ADMIN = Actor("admin-nasional", ("admin",))
# Who a use case's reads are logged as, in tests that do not look at the access log.
READER = Reader("tes.baca", sub="penguji", roles=("admin",))


def actor(role="admin", wilayah=None, sub=None):
    return Actor(sub or f"{role}-{wilayah or 'nasional'}", (role,), wilayah)


class FakeTransaction(Transaction):
    """Keeps the events a change emits, as the real one dumps them: through the event type's
    data schema and its public projection, so an event the schemas cannot carry fails here too."""

    def __init__(self, event_schemas):
        self.event_schemas = event_schemas
        self.events = []

    def emit(self, event_type, subject, record, wilayah=None):
        data_schema, public_schema = self.event_schemas[event_type]
        event = {"type": event_type, "subject": subject, "data": data_schema().dump(record),
                 "public": public_schema and public_schema().dump(record),  # none for an internal event
                 "wilayah": wilayah}
        self.events.append(event)
        return event


class FakeUnitOfWork(UnitOfWork):
    """Runs a change on the store's tables; a change that raises leaves them as they were and
    emits nothing. `events` are every committed event, oldest first."""

    def __init__(self, store, data_schemas, public_schemas):
        self.store = store
        self.event_schemas = {name: (schema, public_schemas[name]) for name, schema in data_schemas.items()}
        self.events = []
        self.commits = 0

    def commit(self, work):
        before = copy.deepcopy(self.store.tables)
        tx = FakeTransaction(self.event_schemas)
        try:
            result = work(tx)
        except BaseException:
            self.store.tables = before
            raise
        self.events.extend(tx.events)
        self.commits += 1
        return result

    def types(self):
        """The types of the committed events, in order."""
        return [event["type"] for event in self.events]


class FakeStore:
    """What every fake repository has: tables of records by id, the unit of work over them,
    ids in order, and pages of records as the real repositories give them."""

    DATA_SCHEMAS = {}
    PUBLIC_SCHEMAS = {}

    def __init__(self):
        self.tables = defaultdict(dict)
        self.uow = FakeUnitOfWork(self, self.DATA_SCHEMAS, self.PUBLIC_SCHEMAS)
        self._ids = itertools.count(1)
        self.access_log_down = False  # the access log cannot be written (its database is gone)

    def new_id(self, prefix):
        return f"{prefix}-{next(self._ids)}"

    def put(self, table, record):
        self.tables[table][record["id"]] = copy.deepcopy(record)
        return copy.deepcopy(record)

    def get(self, table, record_id):
        return copy.deepcopy(self.tables[table].get(record_id))

    def rows(self, table, where=lambda record: True):
        return [copy.deepcopy(record) for record in self.tables[table].values() if where(record)]

    def replace_if_unchanged(self, tx, table, before, after):
        """As Repository.replace_if_unchanged: False when the stored record is no longer `before`."""
        if self.tables[table].get(before["id"]) != before:
            return False
        self.put(table, {**after, "id": before["id"]})
        return True

    def unique(self, table, record, fields, where=lambda other: True):
        """Refuse `record` as the database's unique index on `fields` would (for the records
        `where` selects, as a partial index)."""
        key = tuple(record.get(name) for name in fields)
        for other in self.tables[table].values():
            if other["id"] != record["id"] and where(other) and tuple(other.get(n) for n in fields) == key:
                raise DuplicateKey(fields)

    def page(self, table, where, order, page, per_page, reverse=False):
        """(records, total) as Repository._page: `order` a key function (`reverse` for newest
        first), per_page 0 is all."""
        records = sorted(self.rows(table, where), key=order, reverse=reverse)
        total = len(records)
        if per_page:
            records = records[(page - 1) * per_page:page * per_page]
        return records, total

    @staticmethod
    def in_area(kode, area):
        return within(kode, area)

    # The access log of personal data, as services.common.mongo.Repository keeps it

    def record_access(self, entries):
        if self.access_log_down:
            raise Unavailable("Pembacaan data pribadi tidak dapat dicatat saat ini, jadi datanya tidak diberikan.")
        last = (self.access_log() or [None])[-1]
        for document in chained(last, entries, datetime.now(timezone.utc)):
            self.put(AKSES, {"id": self.new_id(AKSES), **document})

    def access_log(self):
        return sorted(self.rows(AKSES), key=lambda entry: entry["urutan"])

    def access_entries(self, after, area, query):
        def wanted(entry):
            return (entry["urutan"] > after and (area is None or within(entry["wilayah"], area))
                    and query.get("sejak", entry["waktu"]) <= entry["waktu"]
                    and ("sampai" not in query or entry["waktu"] < query["sampai"])
                    and query.get("jenis", entry["jenis"]) == entry["jenis"])
        return [entry for entry in self.access_log() if wanted(entry)][:query["limit"]]

    def ping(self):
        return True


class FakeAttachments:
    """services.common.files.Attachments over a fake store's tables: the files in `lampiran`,
    stored outside any transaction (a failed one leaves them, as GridFS does), the count in the
    record's own table `records`."""

    TABLE = "lampiran"
    SHOWN = ("id", "tipe", "ukuran", "sha256", "nama_berkas", "diunggah", "diunggah_oleh", "induk_id", "status")

    def __init__(self, store, records):
        self.store = store
        self.records = records

    @property
    def files(self):
        return self.store.tables[self.TABLE]

    def put(self, record_id, berkas, by):
        lampiran_id = self.store.new_id("lampiran")
        self.files[lampiran_id] = {
            "id": lampiran_id, "induk_id": record_id, "status": "menunggu", "diunggah_oleh": by,
            "diunggah": datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=len(self.files)),
            **{name: berkas[name] for name in ("isi", "tipe", "ukuran", "sha256", "nama_berkas")}}
        return lampiran_id

    def attach(self, tx, lampiran_id, record_id, limit):
        record = self.store.tables[self.records][record_id]
        if record.get(COUNT, 0) >= limit:
            return None
        record[COUNT] = record.get(COUNT, 0) + 1
        return self._moved(lampiran_id, "tersimpan")

    def detach(self, tx, lampiran_id, record_id):
        if self.find(record_id, lampiran_id) is None:
            return None
        self.store.tables[self.records][record_id][COUNT] -= 1
        return self._moved(lampiran_id, "dihapus")

    def _moved(self, lampiran_id, status):
        self.files[lampiran_id]["status"] = status
        return self._shown(self.files[lampiran_id])

    def _shown(self, lampiran):
        return {name: copy.deepcopy(lampiran[name]) for name in self.SHOWN}

    def discard(self, lampiran_id):
        self.files.pop(lampiran_id, None)

    def find(self, record_id, lampiran_id):
        lampiran = self.files.get(lampiran_id)
        if lampiran is None or lampiran["induk_id"] != record_id or lampiran["status"] != "tersimpan":
            return None
        return self._shown(lampiran)

    def content(self, lampiran_id):
        return self.files.get(lampiran_id, {}).get("isi")

    def page(self, record_id, page, per_page):
        items, total = self.store.page(self.TABLE, lambda f: f["induk_id"] == record_id and f["status"] == "tersimpan",
                                       lambda f: f["diunggah"], page, per_page)
        return [self._shown(lampiran) for lampiran in items], total

    def sweep(self, before):
        swept = [lampiran_id for lampiran_id, f in self.files.items()
                 if f["status"] == "dihapus" or (f["status"] == "menunggu" and f["diunggah"] < before)]
        for lampiran_id in swept:
            self.discard(lampiran_id)
        return len(swept)


class FakeOrganisasi:
    """organisasi's lookups (services.organisasi.lookups) over areas and units a test gives."""

    service_name = "organisasi"

    def __init__(self):
        self.wilayah = {}
        self.units = {}
        self.contacts = defaultdict(list)   # unit id -> contacts, as list_kontak_unit answers
        self.down = False

    def add_wilayah(self, kode, nama=None, aktif=True):
        self.wilayah[kode] = {"kode": kode, "nama": nama or f"Wilayah {kode}", "aktif": aktif}
        return self

    def add_unit(self, kode_wilayah, tingkat=None, unit_id=None, induk_id=None):
        tingkat = tingkat or {0: "nasional", 1: "provinsi", 2: "kabupaten_kota", 3: "kecamatan"}[
            len(kode_wilayah.split(".")) if kode_wilayah else 0]
        unit = {"id": unit_id or f"unit-{kode_wilayah or 'nasional'}", "tingkat": tingkat,
                "kode_wilayah": kode_wilayah, "nama": f"BKPM {kode_wilayah or 'Nasional'}",
                "nama_wilayah": kode_wilayah and self.wilayah.get(kode_wilayah, {}).get("nama"),
                "induk_id": induk_id}
        self.units[unit["id"]] = unit
        return unit

    def _answer(self, value):
        if self.down:
            raise Unavailable("Layanan organisasi tidak menjawab; coba lagi sebentar lagi.")
        return copy.deepcopy(value)

    def get_unit_ringkas(self, unit_id):
        return self._answer(self.units.get(unit_id))

    def get_unit_dan_wilayah(self, unit_id, kode_wilayah):
        return self._answer({"unit": self.units.get(unit_id), "wilayah": self.wilayah.get(kode_wilayah)})

    def get_penanggung_jawab_wilayah(self, kode_wilayah):
        by_area = {unit["kode_wilayah"]: unit for unit in self.units.values()}
        unit = next((by_area[kode] for kode in [*area_and_ancestors(kode_wilayah), None] if kode in by_area), None)
        return self._answer({"wilayah": self.wilayah.get(kode_wilayah), "unit": unit})

    def list_wilayah(self, codes):
        return self._answer([self.wilayah[kode] for kode in sorted(set(codes)) if kode in self.wilayah])

    def list_kontak_unit(self, unit_id):
        return self._answer(self.contacts[unit_id])

    def get_kontak_pengurus(self, unit_id, pengurus_id):
        return self._answer(next((c for c in self.contacts[unit_id] if c["id"] == pengurus_id), None))

    def list_kontak_sekretaris(self, unit_id, with_parent):
        units = [unit_id]
        if with_parent and self.units.get(unit_id, {}).get("induk_id"):
            units.append(self.units[unit_id]["induk_id"])
        return self._answer([c for u in units for c in self.contacts[u] if c["peran"] == "sekretaris"])
