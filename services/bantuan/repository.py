"""Storage of the bantuan service: programs, recipients, distributions and the audit trail.

Fairness holds in the database, not in read-then-write: a household receives a program once
(unique index on active distributions), the quota is a conditional decrement, and a
distribution first touches its household's document, so two distributions to one household
never run side by side (the second transaction conflicts and is retried after the first)."""
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError

from services.bantuan.domain import IMPOR, PENERIMA, PENYALURAN, PROGRAM
from services.common.access import area_and_ancestors
from services.common.errors import Unavailable
from services.common.mongo import DUPLICATE_KEY, ACCESS_LOG_INDEXES, Repository, area_filter, as_record, new_id
from services.common.mongo import utcnow as now

RUMAH_TANGGA, AUDIT = "rumah_tangga", "audit"


class BantuanRepository(Repository):
    INDEXES = {
        **ACCESS_LOG_INDEXES,
        PROGRAM: [IndexModel([("unit_id", ASCENDING), ("mulai", DESCENDING)], name="unit"),
                  IndexModel([("status", ASCENDING)], name="status")],
        PENERIMA: [IndexModel([("nik", ASCENDING)], unique=True, name="satu_per_nik"),
                   IndexModel([("no_kk", ASCENDING)], name="kk"),
                   IndexModel([("kode_wilayah", ASCENDING)], name="wilayah")],
        PENYALURAN: [
            IndexModel([("program_id", ASCENDING), ("no_kk", ASCENDING)], unique=True,
                       partialFilterExpression={"status": "aktif"}, name="sekali_per_kk"),
            IndexModel([("no_kk", ASCENDING), ("status", ASCENDING)], name="kk"),
            IndexModel([("program_id", ASCENDING), ("status", ASCENDING), ("kode_wilayah", ASCENDING)],
                       name="rekap"),
        ],
        AUDIT: [IndexModel([("entitas_id", ASCENDING), ("waktu", ASCENDING)], name="entitas")],
    }

    def audit(self, tx, entitas, entitas_id, aksi, oleh, lama, baru, kode_wilayah=None):
        """`kode_wilayah` for an entry of no record of its own (an import), which area_of cannot place."""
        self.db[AUDIT].insert_one({"_id": new_id(), "entitas": entitas, "entitas_id": entitas_id, "aksi": aksi,
                                   "oleh": oleh, "waktu": now(), "lama": lama, "baru": baru,
                                   "kode_wilayah": kode_wilayah}, session=tx.session)

    def area_of(self, entitas_id):
        """The area a program (its unit's), recipient or distribution belongs to; False if none."""
        for collection, field in ((PENYALURAN, "kode_wilayah"), (PENERIMA, "kode_wilayah"), (PROGRAM, "unit_kode")):
            found = self.db[collection].find_one({"_id": entitas_id}, {field: 1})
            if found is not None:
                return found.get(field)
        return False

    def scrub_audit(self, tx, penerima_id, fields):
        """Drop `fields` from the old and new values the audit trail keeps of a recipient and of
        their distributions; who did what when stays."""
        distributions = self.db[PENYALURAN].distinct("_id", {"penerima_id": penerima_id}, session=tx.session)
        for entry in self.db[AUDIT].find({"entitas_id": {"$in": [penerima_id, *distributions]}}, session=tx.session):
            values = {side: {name: value for name, value in entry[side].items() if name not in fields}
                      for side in ("lama", "baru") if entry[side]}
            if any(values[side] != entry[side] for side in values):
                self.db[AUDIT].update_one({"_id": entry["_id"]}, {"$set": values}, session=tx.session)

    def audit_trail(self, entitas_id):
        return [as_record(a) for a in self.db[AUDIT].find({"entitas_id": entitas_id}).sort("waktu", ASCENDING)]

    def find_audit_impor(self, area, filters, page, per_page):
        """The imports' entries in `area`, newest first (index `entitas`); `filters` has none to apply."""
        return self._page(AUDIT, {"entitas_id": IMPOR, **area_filter("kode_wilayah", area)},
                          [("waktu", DESCENDING), ("_id", ASCENDING)], page, per_page)

    # Programs

    def insert_program(self, tx, program):
        document = {"_id": new_id(), "status": "draf", "tersalur": 0, "sisa": program["kuota"], "dibuat": now(),
                    "syarat": None, **program}
        self.db[PROGRAM].insert_one(document, session=tx.session)
        return as_record(document)

    def program(self, program_id):
        return as_record(self.db[PROGRAM].find_one({"_id": program_id}))

    def programs(self, ids):
        return [as_record(p) for p in self.db[PROGRAM].find({"_id": {"$in": list(ids)}})]

    def move_program(self, tx, program_id, allowed_from, target):
        return as_record(self.db[PROGRAM].find_one_and_update(
            {"_id": program_id, "status": {"$in": list(allowed_from)}}, {"$set": {"status": target}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def find_programs(self, area, filters, page, per_page):
        """Programs seen from `area` (domain.reaches): aimed at it, inside it, or at an area
        holding it."""
        criteria = dict(filters)
        if area:
            criteria["$or"] = [area_filter("wilayah_sasaran", area),
                               {"wilayah_sasaran": {"$in": area_and_ancestors(area)}}]
        return self._page(PROGRAM, criteria, [("mulai", DESCENDING), ("_id", ASCENDING)], page, per_page)

    # Recipients

    def insert_penerima(self, tx, penerima):
        document = {"_id": new_id(), "telepon": None, "dicatat": now(), **penerima}
        self.db[PENERIMA].insert_one(document, session=tx.session)
        return as_record(document)

    def insert_many_penerima(self, rows):
        """Insert what is new; rows whose NIK is already registered are left as they are.
        Returns how many were added."""
        documents = [{"_id": new_id(), "telepon": None, "dicatat": now(), **row} for row in rows]
        if not documents:
            return 0
        try:
            return len(self.db[PENERIMA].insert_many(documents, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            # The error's text holds the rows (NIK, No. KK): it is never passed on.
            details = exc.details
            if details.get("writeConcernErrors") or any(e["code"] != DUPLICATE_KEY for e in details["writeErrors"]):
                raise Unavailable("Sebagian data tidak dapat disimpan; ulangi impor (baris yang sudah masuk "
                                  "akan dilewati).") from None
            return details["nInserted"]

    def penerima(self, penerima_id):
        return as_record(self.db[PENERIMA].find_one({"_id": penerima_id}))

    def erase_penerima(self, tx, penerima_id, changes, by):
        """Apply an erasure's `changes` once: None when the recipient was erased already."""
        return as_record(self.db[PENERIMA].find_one_and_update(
            {"_id": penerima_id, "dihapus": None}, {"$set": {**changes, "dihapus": now(), "dihapus_oleh": by}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def penerima_by_nik(self, nik):
        return as_record(self.db[PENERIMA].find_one({"nik": nik}))

    def find_penerima(self, area, filters, page, per_page):
        return self._page(PENERIMA, {**area_filter("kode_wilayah", area), **filters},
                          [("kode_wilayah", ASCENDING), ("nama", ASCENDING)], page, per_page)

    # Distributions

    def lock_household(self, tx, no_kk):
        """Touch the household's document: a concurrent distribution to the same household now
        conflicts with this transaction and waits its turn."""
        self.db[RUMAH_TANGGA].update_one({"_id": no_kk}, {"$inc": {"versi": 1}}, upsert=True, session=tx.session)

    def programs_received(self, tx, no_kk):
        """The programs the household holds an active distribution of."""
        ids = self.db[PENYALURAN].distinct("program_id", {"no_kk": no_kk, "status": "aktif"}, session=tx.session)
        return [as_record(p) for p in self.db[PROGRAM].find({"_id": {"$in": ids}}, session=tx.session)]

    def take_quota(self, tx, program_id):
        """One unit of the quota, if any is left: the updated program, or None."""
        return as_record(self.db[PROGRAM].find_one_and_update(
            {"_id": program_id, "status": "aktif", "sisa": {"$gt": 0}}, {"$inc": {"sisa": -1, "tersalur": 1}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def mark_quota_exhausted(self, tx, program_id):
        """True the first time the program's quota runs out, False ever after."""
        result = self.db[PROGRAM].update_one({"_id": program_id, "kuota_habis": {"$ne": True}},
                                             {"$set": {"kuota_habis": True}}, session=tx.session)
        return result.modified_count == 1

    def give_back_quota(self, tx, program_id):
        self.db[PROGRAM].update_one({"_id": program_id}, {"$inc": {"sisa": 1, "tersalur": -1}}, session=tx.session)

    def insert_penyaluran(self, tx, penyaluran):
        document = {"_id": new_id(), "status": "aktif", "alasan_batal": None, "kegiatan_id": None,
                    "dicatat": now(), **penyaluran}
        self.db[PENYALURAN].insert_one(document, session=tx.session)
        return as_record(document)

    def active_penyaluran(self, program_id, no_kk):
        return as_record(self.db[PENYALURAN].find_one({"program_id": program_id, "no_kk": no_kk, "status": "aktif"}))

    def penyaluran(self, penyaluran_id):
        return as_record(self.db[PENYALURAN].find_one({"_id": penyaluran_id}))

    def cancel_penyaluran(self, tx, penyaluran_id, changes):
        return as_record(self.db[PENYALURAN].find_one_and_update(
            {"_id": penyaluran_id, "status": "aktif"}, {"$set": {"status": "batal", **changes}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def find_penyaluran(self, area, filters, page, per_page):
        return self._page(PENYALURAN, {**area_filter("kode_wilayah", area), **filters},
                          [("dicatat", DESCENDING), ("_id", ASCENDING)], page, per_page)

    def distribution_counts(self, program_id):
        """Active distributions of a program by village and by kind of proof."""
        match = {"$match": {"program_id": program_id, "status": "aktif"}}
        per_area = self.db[PENYALURAN].aggregate([match, {"$group": {"_id": "$kode_wilayah", "n": {"$sum": 1}}}])
        per_proof = self.db[PENYALURAN].aggregate([match, {"$group": {"_id": "$jenis_bukti", "n": {"$sum": 1}}}])
        return {g["_id"]: g["n"] for g in per_area}, {g["_id"]: g["n"] for g in per_proof}

