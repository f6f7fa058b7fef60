"""Storage of the kegiatan service: activities, their participants, aspirations."""
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument

from services.common.files import ATTACHMENT_INDEXES, Attachments
from services.common.mongo import ACCESS_LOG_INDEXES, Repository, area_filter, as_record, new_id
from services.common.mongo import utcnow as now
from services.kegiatan.domain import FINAL_STATUSES, WIB

KEGIATAN, PESERTA, ASPIRASI, SURVEI = "kegiatan", "peserta", "aspirasi", "survei"
# The orders aspirations are listed in (domain.URUTAN_ASPIRASI): the newest first, or the inbox's
# (domain.inbox_order: open ones by the deadline they wait on, then closed ones newest first).
ASPIRASI_ORDER = {
    "terbaru": [("diterima", DESCENDING), ("_id", ASCENDING)],
    "tenggat": [("terbuka", DESCENDING), ("tenggat_berikut", ASCENDING), ("diterima", DESCENDING), ("_id", ASCENDING)],
}


class KegiatanRepository(Repository):
    INDEXES = {
        **ACCESS_LOG_INDEXES,
        **ATTACHMENT_INDEXES,
        KEGIATAN: [
            IndexModel([("unit_id", ASCENDING), ("mulai", DESCENDING)], name="unit"),
            IndexModel([("lokasi.kode_wilayah", ASCENDING), ("mulai", DESCENDING)], name="wilayah"),
            IndexModel([("status", ASCENDING), ("mulai", DESCENDING)], name="status"),
        ],
        # Participants and survey answers carry their activity's place and start, so the
        # summary of a province is one indexed match per collection.
        PESERTA: [IndexModel([("kegiatan_id", ASCENDING), ("nama", ASCENDING)], name="kegiatan"),
                  IndexModel([("kode_wilayah", ASCENDING), ("mulai", ASCENDING)], name="rekap")],
        SURVEI: [IndexModel([("kegiatan_id", ASCENDING), ("kode", ASCENDING)], unique=True, name="kode"),
                 IndexModel([("kode_wilayah", ASCENDING), ("mulai", ASCENDING)], name="rekap")],
        ASPIRASI: [
            IndexModel([("nomor_tiket", ASCENDING)], unique=True, name="tiket"),
            IndexModel([("unit_id", ASCENDING), ("diterima", DESCENDING)], name="unit"),
            IndexModel([("kode_wilayah", ASCENDING), ("diterima", DESCENDING)], name="wilayah"),
            IndexModel([("status", ASCENDING), ("batas_verifikasi", ASCENDING)], name="tenggat_verifikasi"),
            IndexModel([("status", ASCENDING), ("batas_jawaban", ASCENDING)], name="tenggat_jawaban"),
            IndexModel([("status", ASCENDING), ("ditutup", ASCENDING)], name="ditutup"),
            # The inbox of an area (ASPIRASI_ORDER["tenggat"]).
            IndexModel([("kode_wilayah", ASCENDING), ("terbuka", DESCENDING), ("tenggat_berikut", ASCENDING),
                        ("diterima", DESCENDING)], name="wilayah_tenggat"),
        ],
    }

    @property
    def lampiran(self):
        """The activities' photos and documents, counted in each activity's document."""
        return Attachments(self.db, KEGIATAN)

    # Activities

    def insert_kegiatan(self, tx, kegiatan):
        document = {"_id": new_id(), "status": "direncanakan", "laporan": None, "alasan_batal": None,
                    "jumlah_peserta_tercatat": 0, "dibuat": now(), **kegiatan}
        self.db[KEGIATAN].insert_one(document, session=tx.session)
        return as_record(document)

    def kegiatan(self, kegiatan_id):
        return as_record(self.db[KEGIATAN].find_one({"_id": kegiatan_id}))

    def move_kegiatan(self, tx, kegiatan_id, allowed_from, changes):
        """Change the status atomically, only from one of `allowed_from`; None if it was not."""
        return as_record(self.db[KEGIATAN].find_one_and_update(
            {"_id": kegiatan_id, "status": {"$in": list(allowed_from)}}, {"$set": changes},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def find_kegiatan(self, area, filters, page, per_page):
        """Activities taking place in `area`, latest start first, matching `filters`: field
        values, and `dari` (inclusive) and `sampai` (exclusive) bounding the start."""
        criteria = {**area_filter("lokasi.kode_wilayah", area), **filters}
        period = {op: criteria.pop(name) for name, op in (("dari", "$gte"), ("sampai", "$lt")) if name in criteria}
        if period:
            criteria["mulai"] = period
        return self._page(KEGIATAN, criteria, [("mulai", DESCENDING), ("_id", ASCENDING)], page, per_page)

    # Participants

    def insert_peserta(self, tx, peserta):
        """`peserta` carries its activity's `kode_wilayah` and `mulai` for the summaries."""
        document = {"_id": new_id(), "telepon": None, "email": None, "dicatat": now(), **peserta}
        self.db[PESERTA].insert_one(document, session=tx.session)
        self.db[KEGIATAN].update_one({"_id": peserta["kegiatan_id"]}, {"$inc": {"jumlah_peserta_tercatat": 1}},
                                     session=tx.session)
        return as_record(document)

    def peserta(self, kegiatan_id, page, per_page):
        return self._page(PESERTA, {"kegiatan_id": kegiatan_id}, [("nama", ASCENDING), ("_id", ASCENDING)],
                          page, per_page)

    # Survey

    def insert_survey_codes(self, tx, kegiatan, codes):
        if codes:
            self.db[SURVEI].insert_many([
                {"_id": new_id(), "kode": code, "kegiatan_id": kegiatan["id"], "unit_id": kegiatan["unit_id"],
                 "kode_wilayah": kegiatan["lokasi"]["kode_wilayah"], "mulai": kegiatan["mulai"], "dipakai": False}
                for code in codes], session=tx.session)

    def answer_survey(self, tx, kegiatan_id, kode, answer):
        """Use a code once: None when it is unknown for this activity or already used."""
        return as_record(self.db[SURVEI].find_one_and_update(
            {"kegiatan_id": kegiatan_id, "kode": kode, "dipakai": False},
            {"$set": {"dipakai": True, "dijawab": now(), **answer}}, session=tx.session,
            return_document=ReturnDocument.AFTER))

    def survey_code(self, kegiatan_id, kode):
        return self.db[SURVEI].find_one({"kegiatan_id": kegiatan_id, "kode": kode})

    def unused_survey_codes(self, kegiatan_id):
        codes = self.db[SURVEI].find({"kegiatan_id": kegiatan_id}, {"kode": 1, "dipakai": 1}).sort("kode")
        unused, used = [], 0
        for code in codes:
            if code["dipakai"]:
                used += 1
            else:
                unused.append(code["kode"])
        return unused, used

    def survey_comments(self, kegiatan_id, page, per_page):
        """The comments left with an activity's survey answers, in the order of their random
        codes: neither the time nor the order of answering shows."""
        return self._page(SURVEI, {"kegiatan_id": kegiatan_id, "dipakai": True, "komentar": {"$nin": [None, ""]}},
                          [("kode", ASCENDING)], page, per_page)

    # Summary

    def summary_counts(self, kode, start, end, unit_id=None, per_bulan=False):
        """The grouped counts a summary is made of, for activities starting and aspirations
        received in [start, end) in the area `kode` and below (of one unit, if given), each
        row led by the area code it was recorded in (domain.counts_by_area folds them):
        kegiatan [(kode, jenis, status, n)], peserta [(kode, unsur, n)], aspirasi
        [(kode, status, late, n)], survei [(kode, jumlah, kepercayaan_total, kepuasan_total)].
        `per_bulan`: {calendar month in WIB ('2027-03'): those counts} for the months with any."""
        period = {"$gte": start, "$lt": end}
        of_unit = {} if unit_id is None else {"unit_id": unit_id}

        def grouped(collection, area, moment, keys, sums, **match):
            month = {"bulan": {"$dateToString": {"format": "%Y-%m", "date": f"${moment}", "timezone": WIB.key}}}
            return [{**row.pop("_id"), **row} for row in self.db[collection].aggregate([
                {"$match": {**area_filter(area, kode), moment: period, **of_unit, **match}},
                {"$group": {"_id": {"kode": f"${area}", **keys, **(month if per_bulan else {})},
                            **{name: {"$sum": value} for name, value in sums.items()}}}])]

        kegiatan = grouped(KEGIATAN, "lokasi.kode_wilayah", "mulai", {"jenis": "$jenis", "status": "$status"}, {"n": 1})
        peserta = grouped(PESERTA, "kode_wilayah", "mulai", {"unsur": "$unsur"}, {"n": 1})
        aspirasi = grouped(ASPIRASI, "kode_wilayah", "diterima",
                           {"status": "$status", "late": {"$gt": [{"$size": "$terlambat"}, 0]}}, {"n": 1})
        survei = grouped(SURVEI, "kode_wilayah", "mulai", {},
                         {"jumlah": 1, "kepercayaan_total": "$kepercayaan", "kepuasan_total": "$kepuasan"},
                         dipakai=True)

        def counts(of_month=lambda g: True):
            return {
                "kegiatan": [(g["kode"], g["jenis"], g["status"], g["n"]) for g in kegiatan if of_month(g)],
                "peserta": [(g["kode"], g["unsur"], g["n"]) for g in peserta if of_month(g)],
                "aspirasi": [(g["kode"], g["status"], g["late"], g["n"]) for g in aspirasi if of_month(g)],
                "survei": [(g["kode"], g["jumlah"], g["kepercayaan_total"], g["kepuasan_total"])
                           for g in survei if of_month(g)],
            }

        if not per_bulan:
            return counts()
        months = {g["bulan"] for rows in (kegiatan, peserta, aspirasi, survei) for g in rows}
        return {month: counts(lambda g, month=month: g["bulan"] == month) for month in sorted(months)}

    # Aspirations

    def insert_aspirasi(self, tx, aspirasi):
        document = {"_id": new_id(), "status": "diterima", "batas_jawaban": None, "terlambat": [], "riwayat": [],
                    "diterima": now(), **aspirasi}
        self.db[ASPIRASI].insert_one(document, session=tx.session)
        return as_record(document)

    def aspirasi(self, aspirasi_id):
        return as_record(self.db[ASPIRASI].find_one({"_id": aspirasi_id}))

    def aspirasi_by_ticket(self, nomor_tiket):
        return as_record(self.db[ASPIRASI].find_one({"nomor_tiket": nomor_tiket}))

    def update_aspirasi(self, tx, aspirasi_id, expected_status, changes, entry):
        """Apply a follow-up only if the status is still the one it was decided on."""
        return as_record(self.db[ASPIRASI].find_one_and_update(
            {"_id": aspirasi_id, "status": expected_status},
            {"$set": changes, "$push": {"riwayat": entry}}, session=tx.session,
            return_document=ReturnDocument.AFTER))

    def find_aspirasi(self, area, filters, page, per_page, urut="terbaru"):
        """Aspirations from `area` in the order `urut` names (ASPIRASI_ORDER), matching
        `filters` (field values; `terlambat` true for those that missed a deadline, false for
        those that never did)."""
        criteria = {**area_filter("kode_wilayah", area), **filters}
        if "terlambat" in criteria:
            criteria["terlambat"] = {"$ne": []} if criteria["terlambat"] else []
        return self._page(ASPIRASI, criteria, ASPIRASI_ORDER[urut], page, per_page)

    def stale_inbox_order(self, limit=500):
        """Aspirations whose stored inbox order (domain.inbox_order) is missing or does not fit
        their status: stored before it was kept, or received, closed or verified by an older
        instance (which leaves it out, open, or on the verification deadline)."""
        return [as_record(d) for d in self.db[ASPIRASI].find({"$or": [
            {"terbuka": {"$exists": False}},
            {"status": {"$in": list(FINAL_STATUSES)}, "terbuka": {"$ne": False}},
            {"status": {"$nin": ["diterima", *FINAL_STATUSES]},
             "$expr": {"$ne": ["$tenggat_berikut", "$batas_jawaban"]}},
        ]}).limit(limit)]

    def record_inbox_order(self, aspirasi_id, status, order):
        """Store `order` if the status is still the one it was made for: whether it changed."""
        return self.db[ASPIRASI].update_one({"_id": aspirasi_id, "status": status},
                                            {"$set": order}).modified_count == 1

    def overdue_candidates(self, moment, limit=500):
        """Open aspirations with a deadline at or before `moment` (late or about to be judged)."""
        return [as_record(d) for d in self.db[ASPIRASI].find({"$or": [
            {"status": "diterima", "batas_verifikasi": {"$lte": moment}, "terlambat": {"$ne": "verifikasi"}},
            {"status": {"$in": ["diverifikasi", "diproses"]}, "batas_jawaban": {"$lte": moment},
             "terlambat": {"$ne": "jawaban"}},
        ]}).limit(limit)]

    def flag_late(self, tx, aspirasi_id, tenggat):
        """Record a breach once: None when it was already recorded (by another instance, say)."""
        return as_record(self.db[ASPIRASI].find_one_and_update(
            {"_id": aspirasi_id, "terlambat": {"$ne": tenggat}}, {"$addToSet": {"terlambat": tenggat}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def closed_with_reporter(self, cutoff, limit=500):
        """Closed aspirations that still keep their reporter: closed at or before `cutoff`, and
        those closed before their closing time was recorded (`ditutup`), whenever that was."""
        return [as_record(d) for d in self.db[ASPIRASI].find({
            "status": {"$in": list(FINAL_STATUSES)}, "pelapor": {"$ne": None},
            "$or": [{"ditutup": {"$lte": cutoff}}, {"ditutup": None}]}).limit(limit)]

    def record_closed(self, aspirasi_id, ditutup):
        self.db[ASPIRASI].update_one({"_id": aspirasi_id}, {"$set": {"ditutup": ditutup}})

    def erase_reporter(self, tx, aspirasi_id, moment):
        """Remove the reporter's name and contacts, once: None when they are gone already."""
        return as_record(self.db[ASPIRASI].find_one_and_update(
            {"_id": aspirasi_id, "pelapor": {"$ne": None}}, {"$set": {"pelapor": None, "pelapor_dihapus": moment}},
            session=tx.session, return_document=ReturnDocument.AFTER))
