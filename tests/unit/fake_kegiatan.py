"""kegiatan's repository in memory, with the rules its indexes and conditional updates keep (a
ticket number once, a survey code once per activity, a status changed only from the one it
was decided on), and bantuan's one lookup that kegiatan makes."""
import copy
from collections import Counter
from datetime import datetime, timedelta, timezone

from services.common.access import within
from services.common.errors import Unavailable
from services.common.rincian import months
from services.kegiatan.domain import FINAL_STATUSES, WIB, inbox_order
from services.kegiatan.repository import ASPIRASI, KEGIATAN, PESERTA, SURVEI
from services.kegiatan.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from tests.unit.fakes import FakeAttachments, FakeStore

STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc)  # the repository's own clock, where it keeps one


class FakeKegiatanRepository(FakeStore):
    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    @property
    def lampiran(self):
        return FakeAttachments(self, KEGIATAN)

    # Activities

    def insert_kegiatan(self, tx, kegiatan):
        return self.put(KEGIATAN, {"id": self.new_id("kegiatan"), "status": "direncanakan", "laporan": None,
                                   "alasan_batal": None, "jumlah_peserta_tercatat": 0, "dibuat": STAMP, **kegiatan})

    def kegiatan(self, kegiatan_id):
        return self.get(KEGIATAN, kegiatan_id)

    def move_kegiatan(self, tx, kegiatan_id, allowed_from, changes):
        current = self.get(KEGIATAN, kegiatan_id)
        if current is None or current["status"] not in allowed_from:
            return None
        return self.put(KEGIATAN, {**current, **changes})

    def find_kegiatan(self, area, filters, page, per_page):
        fields = {name: value for name, value in filters.items() if name not in ("dari", "sampai")}

        def where(kegiatan):
            return (within(kegiatan["lokasi"]["kode_wilayah"], area) and _matches(kegiatan, fields)
                    and ("dari" not in filters or kegiatan["mulai"] >= filters["dari"])
                    and ("sampai" not in filters or kegiatan["mulai"] < filters["sampai"]))

        return self.page(KEGIATAN, where, lambda k: (-k["mulai"].timestamp(), k["id"]), page, per_page)

    # Participants

    def insert_peserta(self, tx, peserta):
        record = self.put(PESERTA, {"id": self.new_id("peserta"), "telepon": None, "email": None, "dicatat": STAMP,
                                    **peserta})
        kegiatan = self.tables[KEGIATAN][peserta["kegiatan_id"]]
        kegiatan["jumlah_peserta_tercatat"] += 1
        return record

    def peserta(self, kegiatan_id, page, per_page):
        return self.page(PESERTA, lambda p: p["kegiatan_id"] == kegiatan_id, lambda p: (p["nama"], p["id"]),
                         page, per_page)

    # Survey

    def insert_survey_codes(self, tx, kegiatan, codes):
        for code in codes:
            record = {"id": self.new_id("survei"), "kode": code, "kegiatan_id": kegiatan["id"],
                      "unit_id": kegiatan["unit_id"], "kode_wilayah": kegiatan["lokasi"]["kode_wilayah"],
                      "mulai": kegiatan["mulai"], "dipakai": False}
            self.unique(SURVEI, record, ("kegiatan_id", "kode"))
            self.put(SURVEI, record)

    def answer_survey(self, tx, kegiatan_id, kode, answer):
        code = self.survey_code(kegiatan_id, kode)
        if code is None or code["dipakai"]:
            return None
        return self.put(SURVEI, {**code, "dipakai": True, "dijawab": STAMP, **answer})

    def survey_code(self, kegiatan_id, kode):
        return next(iter(self.rows(SURVEI, lambda c: c["kegiatan_id"] == kegiatan_id and c["kode"] == kode)), None)

    def unused_survey_codes(self, kegiatan_id):
        codes = sorted(self.rows(SURVEI, lambda c: c["kegiatan_id"] == kegiatan_id), key=lambda c: c["kode"])
        return [c["kode"] for c in codes if not c["dipakai"]], sum(c["dipakai"] for c in codes)

    def survey_comments(self, kegiatan_id, page, per_page):
        return self.page(SURVEI, lambda c: c["kegiatan_id"] == kegiatan_id and c["dipakai"] and c.get("komentar"),
                         lambda c: c["kode"], page, per_page)

    # Summary

    def summary_counts(self, kode, start, end, unit_id=None, per_bulan=False):
        if per_bulan:  # the counts of each month's days within [start, end), for the months with any
            first, last = (moment.astimezone(WIB).date().isoformat() for moment in (start, end - timedelta(seconds=1)))
            by_month = {}
            for month in months(first, last):
                month_start = datetime.fromisoformat(f"{month}-01T00:00:00+07:00")
                month_end = (month_start + timedelta(days=32)).replace(day=1)
                counts = self.summary_counts(kode, max(start, month_start), min(end, month_end), unit_id)
                if any(counts.values()):
                    by_month[month] = counts
            return by_month

        def counted(area_of, moment):
            return lambda record: (within(area_of(record), kode) and start <= record[moment] < end
                                   and unit_id in (None, record["unit_id"]))

        kegiatan = Counter((k["lokasi"]["kode_wilayah"], k["jenis"], k["status"])
                           for k in self.rows(KEGIATAN, counted(lambda k: k["lokasi"]["kode_wilayah"], "mulai")))
        peserta = Counter((p["kode_wilayah"], p["unsur"])
                          for p in self.rows(PESERTA, counted(lambda p: p["kode_wilayah"], "mulai")))
        aspirasi = Counter((a["kode_wilayah"], a["status"], bool(a["terlambat"]))
                           for a in self.rows(ASPIRASI, counted(lambda a: a["kode_wilayah"], "diterima")))
        survei = {}
        for answer in self.rows(SURVEI, lambda c: counted(lambda c: c["kode_wilayah"], "mulai")(c) and c["dipakai"]):
            jumlah, kepercayaan, kepuasan = survei.get(answer["kode_wilayah"], (0, 0, 0))
            survei[answer["kode_wilayah"]] = (jumlah + 1, kepercayaan + answer["kepercayaan"],
                                              kepuasan + answer["kepuasan"])
        return {"kegiatan": [(*key, n) for key, n in kegiatan.items()],
                "peserta": [(*key, n) for key, n in peserta.items()],
                "aspirasi": [(*key, n) for key, n in aspirasi.items()],
                "survei": [(area, *sums) for area, sums in survei.items()]}

    # Aspirations

    def insert_aspirasi(self, tx, aspirasi):
        record = {"id": self.new_id("aspirasi"), "status": "diterima", "batas_jawaban": None, "terlambat": [],
                  "riwayat": [], "diterima": STAMP, **aspirasi}
        self.unique(ASPIRASI, record, ("nomor_tiket",))
        return self.put(ASPIRASI, record)

    def aspirasi(self, aspirasi_id):
        return self.get(ASPIRASI, aspirasi_id)

    def aspirasi_by_ticket(self, nomor_tiket):
        return next(iter(self.rows(ASPIRASI, lambda a: a["nomor_tiket"] == nomor_tiket)), None)

    def update_aspirasi(self, tx, aspirasi_id, expected_status, changes, entry):
        current = self.get(ASPIRASI, aspirasi_id)
        if current is None or current["status"] != expected_status:
            return None
        return self.put(ASPIRASI, {**current, **changes, "riwayat": [*current["riwayat"], entry]})

    def find_aspirasi(self, area, filters, page, per_page, urut="terbaru"):
        fields = {name: value for name, value in filters.items() if name != "terlambat"}

        def where(aspirasi):
            return (within(aspirasi["kode_wilayah"], area) and _matches(aspirasi, fields)
                    and filters.get("terlambat", bool(aspirasi["terlambat"])) == bool(aspirasi["terlambat"]))

        return self.page(ASPIRASI, where, ASPIRASI_ORDER[urut], page, per_page)

    def stale_inbox_order(self, limit=500):
        def stale(a):
            return {name: a.get(name, "missing") for name in ("terbuka", "tenggat_berikut")} != inbox_order(a)

        return self.rows(ASPIRASI, stale)[:limit]

    def record_inbox_order(self, aspirasi_id, status, order):
        current = self.tables[ASPIRASI][aspirasi_id]
        if current["status"] != status or all(current.get(name) == value for name, value in order.items()):
            return False
        current.update(order)
        return True

    def overdue_candidates(self, moment, limit=500):
        def overdue(a):
            if a["status"] == "diterima":
                return a["batas_verifikasi"] <= moment and "verifikasi" not in a["terlambat"]
            return (a["status"] in ("diverifikasi", "diproses") and a["batas_jawaban"] is not None
                    and a["batas_jawaban"] <= moment and "jawaban" not in a["terlambat"])

        return self.rows(ASPIRASI, overdue)[:limit]

    def flag_late(self, tx, aspirasi_id, tenggat):
        current = self.get(ASPIRASI, aspirasi_id)
        if current is None or tenggat in current["terlambat"]:
            return None
        return self.put(ASPIRASI, {**current, "terlambat": [*current["terlambat"], tenggat]})

    def closed_with_reporter(self, cutoff, limit=500):
        def kept(a):
            return (a["status"] in FINAL_STATUSES and a.get("pelapor") is not None
                    and (a.get("ditutup") is None or a["ditutup"] <= cutoff))

        return self.rows(ASPIRASI, kept)[:limit]

    def record_closed(self, aspirasi_id, ditutup):
        self.tables[ASPIRASI][aspirasi_id]["ditutup"] = ditutup

    def erase_reporter(self, tx, aspirasi_id, moment):
        current = self.get(ASPIRASI, aspirasi_id)
        if current is None or current.get("pelapor") is None:
            return None
        return self.put(ASPIRASI, {**current, "pelapor": None, "pelapor_dihapus": moment})


# The stored orders of aspirations (repository.ASPIRASI_ORDER) as sort keys: the newest first, or
# the inbox's (open ones first, by the deadline they wait on, then the newest first).
ASPIRASI_ORDER = {
    "terbaru": lambda a: (-a["diterima"].timestamp(), a["id"]),
    "tenggat": lambda a: (not a["terbuka"], a["tenggat_berikut"].timestamp() if a["terbuka"] else 0,
                          -a["diterima"].timestamp(), a["id"]),
}


class FakeBantuan:
    """bantuan as kegiatan asks it: `get_program_ringkas` over the programs a test gives."""

    service_name = "bantuan"

    def __init__(self, *program_ids):
        self.programs = {program_id: {"id": program_id, "nama": f"Program {program_id}"} for program_id in program_ids}
        self.down = False

    def get_program_ringkas(self, program_id):
        if self.down:
            raise Unavailable("Layanan bantuan tidak menjawab; coba lagi sebentar lagi.")
        return copy.deepcopy(self.programs.get(program_id))


def _matches(record, filters):
    return all(record.get(name) == value for name, value in filters.items())
