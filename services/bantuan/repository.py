"""Storage of the bantuan service: programs, recipients, distributions and the audit trail.

Fairness holds in the database, not in read-then-write: a household receives a program once
(unique index on active distributions), the quota is a conditional decrement, and a
distribution first touches its household's document, so two distributions to one household
never run side by side (the second transaction conflicts and is retried after the first)."""
import re
from datetime import timedelta

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import BulkWriteError

from services.bantuan.domain import ANTRI, BERJALAN, GAGAL, IMPOR, MENGUNGGAH, PENERIMA, PENYALURAN, PROGRAM, SELESAI
from services.common.access import area_and_ancestors
from services.common.errors import Unavailable
from services.common.files import ATTACHMENT_INDEXES, Attachments
from services.common.mongo import ACCESS_LOG_INDEXES, DUPLICATE_KEY, Repository, area_filter, as_record, new_id
from services.common.mongo import utcnow as now
from services.common.outbox import IDEMPOTENSI
from services.common.unit_of_work import DuplicateKey

RUMAH_TANGGA, AUDIT = "rumah_tangga", "audit"
# Import jobs; the parts of their files, the rows they refused and keyed hashes of the NIKs they
# have seen (domain.nik_key), each named `<job id>:...`, so a job's own are one range of `_id`.
PEKERJAAN, IMPOR_BAGIAN, IMPOR_DITOLAK, IMPOR_NIK = "pekerjaan", "impor_bagian", "impor_ditolak", "impor_nik"


class BantuanRepository(Repository):
    INDEXES = {
        **ACCESS_LOG_INDEXES,
        **ATTACHMENT_INDEXES,
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
        PEKERJAAN: [IndexModel([("status", ASCENDING), ("dibuat", ASCENDING)], name="antrian")],
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

    def program(self, program_id, tx=None):
        """Within `tx`, as that transaction sees it: a write made meanwhile makes it retry."""
        return as_record(self.db[PROGRAM].find_one({"_id": program_id}, session=tx and tx.session))

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

    def penerima(self, penerima_id, tx=None):
        return as_record(self.db[PENERIMA].find_one({"_id": penerima_id}, session=tx and tx.session))

    def erase_penerima(self, tx, penerima_id, changes, by):
        """Apply an erasure's `changes` once: None when the recipient was erased already."""
        return as_record(self.db[PENERIMA].find_one_and_update(
            {"_id": penerima_id, "dihapus": None}, {"$set": {**changes, "dihapus": now(), "dihapus_oleh": by}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def forget_answers_naming(self, tx, penerima_id):
        """Drop the answers kept for repeated requests (Idempotency-Key, 24 hours) that show this
        recipient: the registration's answer holds the personal data an erasure removes."""
        self.db[IDEMPOTENSI].delete_many({"jawaban.hasil": {"$regex": re.escape(penerima_id)}}, session=tx.session)

    def penerima_by_nik(self, nik):
        return as_record(self.db[PENERIMA].find_one({"nik": nik}))

    def find_penerima(self, area, filters, page, per_page):
        return self._page(PENERIMA, {**area_filter("kode_wilayah", area), **filters},
                          [("kode_wilayah", ASCENDING), ("nama", ASCENDING)], page, per_page)

    # Import jobs

    def insert_impor(self, tx, job):
        stamp = now()
        document = {"_id": new_id(), "dibuat": stamp, "diperbarui": stamp, **job}
        self.db[PEKERJAAN].insert_one(document, session=tx.session)
        return as_record(document)

    def pekerjaan(self, pekerjaan_id):
        return as_record(self.db[PEKERJAAN].find_one({"_id": pekerjaan_id}))

    def add_bagian_impor(self, tx, job, teks, lines, records):
        """Keep the next part of an upload as `job` last stood; False when it has moved on since."""
        moved = self.db[PEKERJAAN].update_one(
            {"_id": job["id"], "status": MENGUNGGAH, "jumlah_bagian": job["jumlah_bagian"]},
            {"$inc": {"jumlah_bagian": 1, "baris_diterima": lines, "jumlah_baris": records},
             "$set": {"diperbarui": now()}}, session=tx.session)
        if moved.modified_count != 1:
            return False
        self.db[IMPOR_BAGIAN].insert_one({"_id": part_of(job["id"], job["jumlah_bagian"] + 1), "teks": teks,
                                          "baris_awal": job["baris_diterima"] + 1}, session=tx.session)
        return True

    def queue_impor(self, tx, job):
        return as_record(self.db[PEKERJAAN].find_one_and_update(
            {"_id": job["id"], "status": MENGUNGGAH}, {"$set": {"status": ANTRI, "diperbarui": now()}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def take_impor(self, holder, lease_seconds):
        """The oldest job waiting or running that nobody else holds (a holder that died lets go
        when its hold runs out), now held by `holder` for `lease_seconds`; None if none is free."""
        stamp = now()
        return as_record(self.db[PEKERJAAN].find_one_and_update(
            {"status": {"$in": [ANTRI, BERJALAN]},
             "$or": [{"pemegang": holder}, {"sampai": None}, {"sampai": {"$lt": stamp}}]},
            {"$set": {"status": BERJALAN, "pemegang": holder, "sampai": stamp + timedelta(seconds=lease_seconds)}},
            sort=[("dibuat", ASCENDING)], return_document=ReturnDocument.AFTER))

    def bagian_impor(self, job_id, nomor):
        return as_record(self.db[IMPOR_BAGIAN].find_one({"_id": part_of(job_id, nomor)}))

    def seen_nik(self, job_id, keys):
        """Which of these keys of NIKs (domain.nik_key) the job has taken before."""
        found = self.db[IMPOR_NIK].find({"_id": {"$in": [f"{job_id}:{key}" for key in keys]}}, {"_id": 1})
        return {document["_id"].split(":", 1)[1] for document in found}

    def insert_new_penerima(self, tx, rows):
        """Insert the rows whose NIK is not registered yet; how many were. A NIK registered by
        another transaction meanwhile is a DuplicateKey: tried again, this finds it registered."""
        registered = {p["nik"] for p in self.db[PENERIMA].find(
            {"nik": {"$in": [row["nik"] for row in rows]}}, {"nik": 1}, session=tx.session)} if rows else set()
        documents = [{"_id": new_id(), "telepon": None, "dicatat": now(), **row}
                     for row in rows if row["nik"] not in registered]
        if not documents:
            return 0
        try:
            self.db[PENERIMA].insert_many(documents, session=tx.session)
        except BulkWriteError as exc:
            # The error's text holds the rows (NIK, No. KK): it is never passed on.
            if all(error["code"] == DUPLICATE_KEY for error in exc.details.get("writeErrors", ())):
                raise DuplicateKey(("nik",)) from None
            raise Unavailable("Sebagian data impor tidak dapat disimpan; impor dilanjutkan nanti.") from None
        return len(documents)

    def remember_nik(self, tx, job_id, keys):
        if keys:
            self.db[IMPOR_NIK].insert_many([{"_id": f"{job_id}:{key}"} for key in keys], session=tx.session)

    def add_ditolak(self, tx, job_id, rows):
        """A job's refused rows, named by their line so they come back in its order."""
        if rows:
            self.db[IMPOR_DITOLAK].insert_many([{"_id": f"{job_id}:{row['baris']:010d}", **row} for row in rows],
                                               session=tx.session)

    def ditolak_impor(self, job_id, limit=0):
        found = self.db[IMPOR_DITOLAK].find(own(job_id), {"_id": 0}).sort("_id", ASCENDING).limit(limit)
        return list(found)

    def advance_impor(self, tx, job, holder, lease_seconds, position, counts):
        """Move the job on from where `job` stood to `position`, adding `counts`, and renew the
        hold, while `holder` still holds it: the job as it now stands, or None."""
        stamp = now()
        return as_record(self.db[PEKERJAAN].find_one_and_update(
            {"_id": job["id"], "status": BERJALAN, "pemegang": holder, "bagian": job["bagian"],
             "rekaman": job["rekaman"]},
            {"$set": {**position, "sampai": stamp + timedelta(seconds=lease_seconds), "diperbarui": stamp},
             "$inc": counts}, session=tx.session, return_document=ReturnDocument.AFTER))

    def end_impor(self, tx, job, holder, status, alasan):
        """End the job where `job` stood, while `holder` still holds it; None otherwise. The key
        its NIKs were hashed with goes."""
        stamp = now()
        return as_record(self.db[PEKERJAAN].find_one_and_update(
            {"_id": job["id"], "status": BERJALAN, "pemegang": holder, "bagian": job["bagian"],
             "rekaman": job["rekaman"]},
            {"$set": {"status": status, "alasan": alasan, "selesai": stamp, "diperbarui": stamp, "pemegang": None,
                      "sampai": None}, "$unset": {"garam": ""}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def ended_impor(self):
        return self.db[PEKERJAAN].distinct("_id", {"status": {"$in": [SELESAI, GAGAL]}})

    def old_impor(self, ended_before, uploading_since):
        """Jobs that ended before `ended_before`, and uploads begun before `uploading_since` that
        never ended."""
        return self.db[PEKERJAAN].distinct("_id", {"$or": [
            {"status": {"$in": [SELESAI, GAGAL]}, "selesai": {"$lt": ended_before}},
            {"status": MENGUNGGAH, "dibuat": {"$lt": uploading_since}}]})

    def forget_impor_work(self, job_id):
        """The parts of a job's file and the NIKs it has seen, once it has ended."""
        for collection in (IMPOR_BAGIAN, IMPOR_NIK):
            self.db[collection].delete_many(own(job_id))

    def forget_impor(self, job_id):
        self.forget_impor_work(job_id)
        self.db[IMPOR_DITOLAK].delete_many(own(job_id))
        self.db[PEKERJAAN].delete_one({"_id": job_id})

    # Distributions

    @property
    def lampiran(self):
        """The distributions' photos and documents, counted in each distribution's document."""
        return Attachments(self.db, PENYALURAN)

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

    def last_distribution_date(self, tx, program_id):
        """The date of the program's latest active distribution, or None."""
        latest = self.db[PENYALURAN].find_one({"program_id": program_id, "status": "aktif"}, {"tanggal": 1},
                                              sort=[("tanggal", DESCENDING)], session=tx.session)
        return latest and latest["tanggal"]

    def distribution_counts(self, program_id):
        """Active distributions of a program by village, month of their date ('2027-03') and
        kind of proof: [(kode_wilayah, bulan, jenis_bukti, n)] (domain.DistributionCounts)."""
        groups = self.db[PENYALURAN].aggregate([
            {"$match": {"program_id": program_id, "status": "aktif"}},
            {"$group": {"_id": {"kode": "$kode_wilayah", "bulan": {"$substrBytes": ["$tanggal", 0, 7]},
                                "bukti": "$jenis_bukti"}, "n": {"$sum": 1}}}])
        return [(g["_id"]["kode"], g["_id"]["bulan"], g["_id"]["bukti"], g["n"]) for g in groups]


def part_of(job_id, nomor):
    return f"{job_id}:{nomor:06d}"


def own(job_id):
    """What belongs to a job in the collections that name it first: one range of `_id`."""
    return {"_id": {"$gte": f"{job_id}:", "$lt": f"{job_id};"}}
