"""bantuan's repository in memory, with the database's fairness rules: one active distribution
per program and household (a unique index), the quota a conditional decrement, and `kuota.habis`
marked once; imports run as jobs, as the gateway sends them and the background runs them; and
kegiatan as bantuan asks it."""
import copy
import io
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from services.bantuan import usecases
from services.bantuan.domain import (ANTRI, BERJALAN, GAGAL, IMPOR, MENGUNGGAH, PART_BYTES, PENERIMA, PENYALURAN,
                                     PROGRAM, SELESAI, csv_upload, reaches)
from services.bantuan.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from services.common.access import within
from services.common.unit_of_work import DuplicateKey
from tests.unit.fakes import FakeAttachments, FakeStore

RUMAH_TANGGA, AUDIT = "rumah_tangga", "audit"
PEKERJAAN, IMPOR_BAGIAN, IMPOR_DITOLAK, IMPOR_NIK = "pekerjaan", "impor_bagian", "impor_ditolak", "impor_nik"


def now():
    """The time as the real repository stamps it: UTC, to the millisecond."""
    moment = datetime.now(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def matches(record, filters):
    return all(record.get(name) == value for name, value in filters.items())


class FakeBantuanRepository(FakeStore):
    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    @property
    def lampiran(self):
        return FakeAttachments(self, PENYALURAN)

    def __init__(self):
        super().__init__()
        # How many of the next household locks lose the race to create the household's lock
        # document (as two first distributions to one household at once do).
        self.lock_races = 0
        self.forgotten_answers = []  # recipients whose kept idempotent answers were dropped

    def audit(self, tx, entitas, entitas_id, aksi, oleh, lama, baru, kode_wilayah=None):
        self.put(AUDIT, {"id": self.new_id(AUDIT), "entitas": entitas, "entitas_id": entitas_id, "aksi": aksi,
                         "oleh": oleh, "waktu": now(), "lama": lama, "baru": baru, "kode_wilayah": kode_wilayah})

    def area_of(self, entitas_id):
        for table, field in ((PENYALURAN, "kode_wilayah"), (PENERIMA, "kode_wilayah"), (PROGRAM, "unit_kode")):
            found = self.get(table, entitas_id)
            if found is not None:
                return found.get(field)
        return False

    def forget_answers_naming(self, tx, penerima_id):
        self.forgotten_answers.append(penerima_id)

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

    def program(self, program_id, tx=None):
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

    def penerima(self, penerima_id, tx=None):
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

    # Import jobs, as the real repository keeps them: a job's parts, refused rows and seen NIKs
    # by (job id, ...); a hold changes hands only when it has run out.

    def insert_impor(self, tx, job):
        stamp = now()
        return self.put(PEKERJAAN, {"id": self.new_id(PEKERJAAN), "dibuat": stamp, "diperbarui": stamp, **job})

    def pekerjaan(self, pekerjaan_id):
        return self.get(PEKERJAAN, pekerjaan_id)

    def add_bagian_impor(self, tx, job, teks, lines, records):
        stored = self.tables[PEKERJAAN].get(job["id"])
        if stored is None or stored["status"] != MENGUNGGAH or stored["jumlah_bagian"] != job["jumlah_bagian"]:
            return False
        stored.update(jumlah_bagian=job["jumlah_bagian"] + 1, baris_diterima=job["baris_diterima"] + lines,
                      jumlah_baris=job["jumlah_baris"] + records, diperbarui=now())
        self.put(IMPOR_BAGIAN, {"id": (job["id"], stored["jumlah_bagian"]), "teks": teks,
                                "baris_awal": job["baris_diterima"] + 1})
        return True

    def queue_impor(self, tx, job):
        stored = self.tables[PEKERJAAN].get(job["id"])
        if stored is None or stored["status"] != MENGUNGGAH:
            return None
        stored.update(status=ANTRI, diperbarui=now())
        return copy.deepcopy(stored)

    def take_impor(self, holder, lease_seconds):
        stamp = now()
        free = [job for job in self.tables[PEKERJAAN].values() if job["status"] in (ANTRI, BERJALAN) and (
            job["pemegang"] in (holder, None) or job["sampai"] is None or job["sampai"] < stamp)]
        if not free:
            return None
        job = min(free, key=lambda job: job["dibuat"])
        job.update(status=BERJALAN, pemegang=holder, sampai=stamp + timedelta(seconds=lease_seconds))
        return copy.deepcopy(job)

    def bagian_impor(self, job_id, nomor):
        return self.get(IMPOR_BAGIAN, (job_id, nomor))

    def seen_nik(self, job_id, keys):
        return {key for key in keys if (job_id, key) in self.tables[IMPOR_NIK]}

    def insert_new_penerima(self, tx, rows):
        added = 0
        for row in rows:
            if self.penerima_by_nik(row["nik"]) is None:
                self.put(PENERIMA, {"id": self.new_id(PENERIMA), "telepon": None, "dicatat": now(), **row})
                added += 1
        return added

    def remember_nik(self, tx, job_id, keys):
        for key in keys:
            self.put(IMPOR_NIK, {"id": (job_id, key)})

    def add_ditolak(self, tx, job_id, rows):
        for row in rows:
            self.put(IMPOR_DITOLAK, {"id": (job_id, row["baris"]), **row})

    def ditolak_impor(self, job_id, limit=0):
        rows = sorted((row for row in self.tables[IMPOR_DITOLAK].values() if row["id"][0] == job_id),
                      key=lambda row: row["baris"])
        return [{"baris": row["baris"], "alasan": row["alasan"]} for row in (rows[:limit] if limit else rows)]

    def _held(self, job, holder):
        """The stored job, if it still stands where `job` did and `holder` holds it."""
        stored = self.tables[PEKERJAAN].get(job["id"])
        if stored and stored["status"] == BERJALAN and stored["pemegang"] == holder and (
                stored["bagian"], stored["rekaman"]) == (job["bagian"], job["rekaman"]):
            return stored
        return None

    def advance_impor(self, tx, job, holder, lease_seconds, position, counts):
        stored = self._held(job, holder)
        if stored is None:
            return None
        stored.update(position, sampai=now() + timedelta(seconds=lease_seconds), diperbarui=now())
        for name, count in counts.items():
            stored[name] += count
        return copy.deepcopy(stored)

    def end_impor(self, tx, job, holder, status, alasan):
        stored = self._held(job, holder)
        if stored is None:
            return None
        stored.update(status=status, alasan=alasan, selesai=now(), diperbarui=now(), pemegang=None, sampai=None)
        stored.pop("garam")
        return copy.deepcopy(stored)

    def ended_impor(self):
        return [job["id"] for job in self.tables[PEKERJAAN].values() if job["status"] in (SELESAI, GAGAL)]

    def old_impor(self, ended_before, uploading_since):
        return [job["id"] for job in self.tables[PEKERJAAN].values()
                if (job["status"] in (SELESAI, GAGAL) and job["selesai"] < ended_before)
                or (job["status"] == MENGUNGGAH and job["dibuat"] < uploading_since)]

    def forget_impor_work(self, job_id):
        for table in (IMPOR_BAGIAN, IMPOR_NIK):
            self.tables[table] = {key: row for key, row in self.tables[table].items() if key[0] != job_id}

    def forget_impor(self, job_id):
        self.forget_impor_work(job_id)
        self.tables[IMPOR_DITOLAK] = {key: row for key, row in self.tables[IMPOR_DITOLAK].items()
                                      if key[0] != job_id}
        self.tables[PEKERJAAN].pop(job_id, None)

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

    def last_distribution_date(self, tx, program_id):
        return max((p["tanggal"] for p in self.rows(PENYALURAN, lambda p: matches(
            p, {"program_id": program_id, "status": "aktif"}))), default=None)

    def distribution_counts(self, program_id):
        active = self.rows(PENYALURAN, lambda p: p["program_id"] == program_id and p["status"] == "aktif")
        counted = Counter((p["kode_wilayah"], p["tanggal"][:7], p["jenis_bukti"]) for p in active)
        return [(*key, n) for key, n in counted.items()]


class FakeKegiatan:
    """kegiatan's lookup bantuan asks: activities a test adds, as get_kegiatan_ringkas answers."""

    service_name = "kegiatan"

    def __init__(self):
        self.activities = {}

    def add(self, kegiatan_id, jenis, program_id=None):
        self.activities[kegiatan_id] = {"id": kegiatan_id, "jenis": jenis, "program_id": program_id}

    def get_kegiatan_ringkas(self, kegiatan_id):
        return copy.deepcopy(self.activities.get(kegiatan_id))


# What runs the imports in these tests: one process, never out of time.
IMPORTER = usecases.Pemroses(pemegang="tes", lease_seconds=30, turn_seconds=3600)


def import_file(actor, text, store, organisasi, part_bytes=PART_BYTES, importer=IMPORTER):
    """Import `text` as the gateway sends a file (its header, then its parts) and the background
    runs the job to its end; the job's view, as its owner reads it."""
    header, parts = csv_upload(io.BytesIO(text.encode()).read, part_bytes, 4 * part_bytes)
    job_id = usecases.mulai_impor_penerima(actor, header.decode(), store)
    count = 0
    for count, part in enumerate(parts, start=1):
        usecases.tambah_bagian_impor(actor, job_id, count, part.decode(), store)
    usecases.selesaikan_unggahan_impor(actor, job_id, count, store)
    while usecases.jalankan_impor(store, organisasi, importer):
        pass
    return usecases.get_pekerjaan(actor, job_id, store)
