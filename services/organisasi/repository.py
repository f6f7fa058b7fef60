"""Storage of the organisasi service: area reference, units, board and members."""
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne

from services.common.mongo import ACCESS_LOG_INDEXES, Repository, area_filter, as_record, new_id
from services.common.mongo import utcnow as now

WILAYAH, UNITS, PENGURUS, ANGGOTA = "wilayah", "units", "pengurus", "anggota"
# An import of the area list under way, or one that died before announcing its changes; and the
# reference's version (VERSION: when an import last changed it).
IMPORTS = "impor_wilayah"
VERSION = "versi"
# Optional fields are stored as null, so every record has the same keys.
PERSON_OPTIONAL = {
    PENGURUS: dict.fromkeys(("nrp", "pangkat", "jabatan_polri", "telepon", "email", "selesai", "alasan_berhenti")),
    ANGGOTA: dict.fromkeys(("telepon", "email", "keluar", "alasan_keluar")),
}
PEOPLE_ORDER = {PENGURUS: [("mulai", DESCENDING), ("dicatat", DESCENDING)], ANGGOTA: [("nama", ASCENDING)]}
# The current areas' names by database, casefolded once and kept in the process's memory with the
# reference's version: a search by name reads them instead of scanning about 91,600 documents
# with a regex, which took seconds and, under load, more than the gateway waits for an answer.
_NAMES = {}


def as_wilayah(document):
    return document and {"kode": document["_id"], "nama": document["nama"], "aktif": document["aktif"]}


class OrganisasiRepository(Repository):
    INDEXES = {
        **ACCESS_LOG_INDEXES,
        WILAYAH: [IndexModel([("aktif", ASCENDING)], name="aktif")],
        # One unit per area code; national units have none, so there is one national unit too.
        UNITS: [
            IndexModel([("kode_wilayah", ASCENDING)], unique=True, name="satu_unit_per_wilayah"),
            IndexModel([("induk_id", ASCENDING)], name="induk"),
            IndexModel([("tingkat", ASCENDING), ("kode_wilayah", ASCENDING)], name="tingkat"),
        ],
        # One active holder per position per unit, held by the database under concurrency.
        PENGURUS: [
            IndexModel([("unit_id", ASCENDING), ("jabatan", ASCENDING)], unique=True,
                       partialFilterExpression={"aktif": True}, name="satu_pemegang_aktif"),
            IndexModel([("unit_id", ASCENDING), ("mulai", DESCENDING)], name="riwayat"),
        ],
        ANGGOTA: [IndexModel([("unit_id", ASCENDING), ("aktif", ASCENDING), ("nama", ASCENDING)],
                             name="anggota_unit")],
    }

    # Area reference

    def wilayah(self, kode):
        """The area of `kode` as the reference lists it ({"kode", "nama", "aktif"}), or None."""
        return as_wilayah(self.db[WILAYAH].find_one({"_id": kode}))

    def wilayah_many(self, codes):
        """The areas of those of `codes` the reference lists, by code."""
        return [as_wilayah(w) for w in self.db[WILAYAH].find({"_id": {"$in": list(codes)}}).sort("_id")]

    def current_wilayah_many(self, codes):
        """The current areas of those of `codes` the reference lists, by code."""
        return [as_wilayah(w) for w in self.db[WILAYAH].find({"_id": {"$in": list(codes)}, "aktif": True}).sort("_id")]

    def wilayah_named(self, text, induk=None):
        """The current areas whose name contains `text`, whatever the case; below `induk` if given."""
        wanted, below = text.casefold(), f"{induk}." if induk else ""
        return [{"kode": kode, "nama": nama, "aktif": True} for folded, kode, nama in self._current_names()
                if wanted in folded and kode.startswith(below)]

    def _current_names(self):
        """[(casefolded name, kode, nama)] of the current areas, read again only once an import
        has changed the reference."""
        version = (self.db[IMPORTS].find_one({"_id": VERSION}) or {}).get("diperbarui")
        kept = _NAMES.get(self.db.name)
        if kept is None or kept[0] != version:
            names = [(w["nama"].casefold(), w["_id"], w["nama"]) for w in self.db[WILAYAH].find({"aktif": True})]
            kept = _NAMES[self.db.name] = (version, names)
        return kept[1]

    def wilayah_snapshot(self):
        """{kode: (nama, aktif)} of the whole reference, for planning an import."""
        return {w["_id"]: (w["nama"], w["aktif"])
                for w in self.db[WILAYAH].find({}, {"nama": 1, "aktif": 1})}

    def apply_wilayah_plan(self, plan, batch_size=10_000):
        """Write only what the plan changes: a first import is plain inserts; a revision touches
        the renamed, restored and removed codes."""
        stamp = now()
        added = [{"_id": kode, "nama": nama, "aktif": True, "diperbarui": stamp}
                 for kode, nama in plan.added.items()]
        for start in range(0, len(added), batch_size):
            self.db[WILAYAH].insert_many(added[start:start + batch_size], ordered=False)
        updates = [UpdateOne({"_id": kode}, {"$set": {"nama": new, "diperbarui": stamp}})
                   for kode, (_, new) in plan.renamed.items()]
        updates += [UpdateOne({"_id": kode}, {"$set": {"nama": nama, "aktif": True, "diperbarui": stamp}})
                    for kode, nama in plan.restored.items()]
        updates += [UpdateOne({"_id": kode}, {"$set": {"aktif": False, "diperbarui": stamp}})
                    for kode in plan.removed]
        for start in range(0, len(updates), batch_size):
            self.db[WILAYAH].bulk_write(updates[start:start + batch_size], ordered=False)
        self.db[IMPORTS].replace_one({"_id": VERSION}, {"diperbarui": stamp}, upsert=True)

    def begin_wilayah_import(self):
        """Note that an import is changing the reference until `end_wilayah_import`; True if an
        earlier one died before announcing what it changed."""
        return self.db[IMPORTS].find_one_and_update({"_id": WILAYAH}, {"$set": {"mulai": now()}},
                                                    upsert=True) is not None

    def end_wilayah_import(self):
        self.db[IMPORTS].delete_one({"_id": WILAYAH})

    def units_in_areas(self, codes):
        return [as_record(u) for u in self.db[UNITS].find({"kode_wilayah": {"$in": list(codes)}})]

    # Units

    def unit(self, unit_id):
        return as_record(self.db[UNITS].find_one({"_id": unit_id}))

    def unit_at(self, kode_wilayah, session=None):
        return as_record(self.db[UNITS].find_one({"kode_wilayah": kode_wilayah}, session=session))

    def insert_unit(self, tx, unit):
        document = {"_id": new_id(), "dibentuk": now(), **unit}
        self.db[UNITS].insert_one(document, session=tx.session)
        return as_record(document)

    def find_units(self, area, filters, page, per_page):
        """Units in `area` and below (national: all) with the given field values."""
        return self._page(UNITS, {**area_filter("kode_wilayah", area), **filters},
                          [("tingkat_urut", ASCENDING), ("kode_wilayah", ASCENDING)], page, per_page)

    # Board (pengurus) and members (anggota): people of a unit, kept with their history

    def insert_person(self, tx, collection, person):
        document = {"_id": new_id(), **PERSON_OPTIONAL[collection], "aktif": True, "dicatat": now(), **person}
        self.db[collection].insert_one(document, session=tx.session)
        return as_record(document)

    def person(self, collection, unit_id, person_id):
        return as_record(self.db[collection].find_one({"_id": person_id, "unit_id": unit_id}))

    def end_person(self, tx, collection, unit_id, person_id, changes):
        """Ends an active appointment or membership; None when there was no active one."""
        result = self.db[collection].find_one_and_update(
            {"_id": person_id, "unit_id": unit_id, "aktif": True},
            {"$set": {"aktif": False, **changes}}, session=tx.session, return_document=True)
        return as_record(result)

    def people(self, collection, unit_id, aktif=None, page=1, per_page=0):
        """A unit's board (newest appointment first) or members (by name), and their count;
        `aktif` narrows to current or past ones."""
        criteria = {"unit_id": unit_id} if aktif is None else {"unit_id": unit_id, "aktif": aktif}
        return self._page(collection, criteria, PEOPLE_ORDER[collection], page, per_page)

    def active_holder(self, unit_id, jabatan):
        return as_record(self.db[PENGURUS].find_one({"unit_id": unit_id, "jabatan": jabatan, "aktif": True}))

