"""bantuan's repository in memory, with the database's fairness rules: one active distribution
per program and household (a unique index), the quota a conditional decrement, and `kuota.habis`
marked once; and kegiatan as bantuan asks it."""
import copy
from collections import Counter
from datetime import date, datetime, timezone

from services.bantuan.domain import IMPOR, PENERIMA, PENYALURAN, PROGRAM, reaches
from services.bantuan.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from services.common.access import within
from services.common.unit_of_work import DuplicateKey
from tests.unit.fakes import FakeStore

RUMAH_TANGGA, AUDIT = "rumah_tangga", "audit"


def now():
    """The time as the real repository stamps it: UTC, to the millisecond."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def matches(record, filters):
    return all(record.get(name) == value for name, value in filters.items())


class FakeBantuanRepository(FakeStore):
    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    def __init__(self):
        super().__init__()
        # How many of the next household locks lose the race to create the household's lock
        # document (as two first distributions to one household at once do).
        self.lock_races = 0

    def audit(self, tx, entitas, entitas_id, aksi, oleh, lama, baru, kode_wilayah=None):
        self.put(AUDIT, {"id": self.new_id(AUDIT), "entitas": entitas, "entitas_id": entitas_id, "aksi": aksi,
                         "oleh": oleh, "waktu": now(), "lama": lama, "baru": baru, "kode_wilayah": kode_wilayah})

    def area_of(self, entitas_id):
        for table, field in ((PENYALURAN, "kode_wilayah"), (PENERIMA, "kode_wilayah"), (PROGRAM, "unit_kode")):
            found = self.get(table, entitas_id)
            if found is not None:
                return found.get(field)
        return False

    def scrub_audit(self, tx, penerima_id, fields):
        ids = {penerima_id} | {p["id"] for p in self.rows(PENYALURAN, lambda p: p["penerima_id"] == penerima_id)}
        for entry in self.tables[AUDIT].values():
            if entry["entitas_id"] in ids:
                for side in ("lama", "baru"):
                    if entry[side]:
                        entry[side] = {name: value for name, value in entry[side].items() if name not in fields}

    def audit_trail(self, entitas_id):
        return sorted(self.rows(AUDIT, lambda entry: entry["entitas_id"] == entitas_id),
                      key=lambda entry: entry["waktu"])

    def find_audit_impor(self, area, filters, page, per_page):
        return self.page(AUDIT, lambda e: e["entitas_id"] == IMPOR and within(e["kode_wilayah"], area),
                         lambda e: (e["waktu"], e["id"]), page, per_page, reverse=True)

    # Programs

    def insert_program(self, tx, program):
        return self.put(PROGRAM, {"id": self.new_id(PROGRAM), "status": "draf", "tersalur": 0,
                                  "sisa": program["kuota"], "dibuat": now(), "syarat": None, **program})

    def program(self, program_id):
        return self.get(PROGRAM, program_id)

    def programs(self, ids):
        return self.rows(PROGRAM, lambda program: program["id"] in ids)

    def move_program(self, tx, program_id, allowed_from, target):
        program = self.tables[PROGRAM].get(program_id)
        if program is None or program["status"] not in allowed_from:
            return None
        program["status"] = target
        return copy.deepcopy(program)

    def find_programs(self, area, filters, page, per_page):
        return self.page(PROGRAM, lambda p: matches(p, filters) and reaches(p, area),
                         lambda p: (-date.fromisoformat(p["mulai"]).toordinal(), p["id"]), page, per_page)

    # Recipients

    def insert_penerima(self, tx, penerima):
        record = {"id": self.new_id(PENERIMA), "telepon": None, "dicatat": now(), **penerima}
        self.unique(PENERIMA, record, ("nik",))
        return self.put(PENERIMA, record)

    def insert_many_penerima(self, rows):
        """As the real one: outside a transaction, a registered NIK skipped; how many were added."""
        added = 0
        for row in rows:
            if self.penerima_by_nik(row["nik"]) is None:
                self.put(PENERIMA, {"id": self.new_id(PENERIMA), "telepon": None, "dicatat": now(), **row})
                added += 1
        return added

    def penerima(self, penerima_id):
        return self.get(PENERIMA, penerima_id)

    def erase_penerima(self, tx, penerima_id, changes, by):
        penerima = self.get(PENERIMA, penerima_id)
        if penerima is None or penerima.get("dihapus"):
            return None
        return self.put(PENERIMA, {**penerima, **changes, "dihapus": now(), "dihapus_oleh": by})

    def penerima_by_nik(self, nik):
        return next(iter(self.rows(PENERIMA, lambda p: p["nik"] == nik)), None)

    def find_penerima(self, area, filters, page, per_page):
        return self.page(PENERIMA, lambda p: within(p["kode_wilayah"], area) and matches(p, filters),
                         lambda p: (p["kode_wilayah"], p["nama"]), page, per_page)

    # Distributions

    def lock_household(self, tx, no_kk):
        if self.lock_races:
            self.lock_races -= 1
            raise DuplicateKey(("_id",))
        household = self.tables[RUMAH_TANGGA].setdefault(no_kk, {"id": no_kk, "versi": 0})
        household["versi"] += 1

    def programs_received(self, tx, no_kk):
        ids = {p["program_id"] for p in self.rows(PENYALURAN, lambda p: p["no_kk"] == no_kk and p["status"] == "aktif")}
        return self.programs(ids)

    def take_quota(self, tx, program_id):
        program = self.tables[PROGRAM].get(program_id)
        if program is None or program["status"] != "aktif" or program["sisa"] <= 0:
            return None
        program["sisa"] -= 1
        program["tersalur"] += 1
        return copy.deepcopy(program)

    def mark_quota_exhausted(self, tx, program_id):
        program = self.tables[PROGRAM][program_id]
        if program.get("kuota_habis"):
            return False
        program["kuota_habis"] = True
        return True

    def give_back_quota(self, tx, program_id):
        program = self.tables[PROGRAM][program_id]
        program["sisa"] += 1
        program["tersalur"] -= 1

    def insert_penyaluran(self, tx, penyaluran):
        record = {"id": self.new_id(PENYALURAN), "status": "aktif", "alasan_batal": None, "kegiatan_id": None,
                  "dicatat": now(), **penyaluran}
        self.unique(PENYALURAN, record, ("program_id", "no_kk"), where=lambda other: other["status"] == "aktif")
        return self.put(PENYALURAN, record)

    def active_penyaluran(self, program_id, no_kk):
        return next(iter(self.rows(PENYALURAN, lambda p: matches(
            p, {"program_id": program_id, "no_kk": no_kk, "status": "aktif"}))), None)

    def penyaluran(self, penyaluran_id):
        return self.get(PENYALURAN, penyaluran_id)

    def cancel_penyaluran(self, tx, penyaluran_id, changes):
        penyaluran = self.tables[PENYALURAN].get(penyaluran_id)
        if penyaluran is None or penyaluran["status"] != "aktif":
            return None
        penyaluran.update({"status": "batal", **changes})
        return copy.deepcopy(penyaluran)

    def find_penyaluran(self, area, filters, page, per_page):
        return self.page(PENYALURAN, lambda p: within(p["kode_wilayah"], area) and matches(p, filters),
                         lambda p: (-p["dicatat"].timestamp(), p["id"]), page, per_page)

    def distribution_counts(self, program_id):
        active = self.rows(PENYALURAN, lambda p: p["program_id"] == program_id and p["status"] == "aktif")
        return dict(Counter(p["kode_wilayah"] for p in active)), dict(Counter(p["jenis_bukti"] for p in active))


class FakeKegiatan:
    """kegiatan's lookup bantuan asks: activities a test adds, as get_kegiatan_ringkas answers."""

    service_name = "kegiatan"

    def __init__(self):
        self.activities = {}

    def add(self, kegiatan_id, jenis, program_id=None):
        self.activities[kegiatan_id] = {"id": kegiatan_id, "jenis": jenis, "program_id": program_id}

    def get_kegiatan_ringkas(self, kegiatan_id):
        return copy.deepcopy(self.activities.get(kegiatan_id))
