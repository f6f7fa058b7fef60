"""Rules of the bantuan domain, in plain Python: programs and their periods, recipients and
their identity numbers (NIK, No. KK), and fair distribution."""
import hashlib
import itertools
import re
from datetime import date, timedelta

from services.common.access import area_and_ancestors, within
from services.common.errors import Conflict, InvalidInput
from services.common.lifecycle import Lifecycle, Step
from services.common.privacy import mask_middle
from services.common.rincian import area_below, grid, months

JENIS_PROGRAM = ("sembako", "pengobatan_gratis", "bantuan_pendidikan", "lainnya")
STATUS_PROGRAM = ("draf", "aktif", "ditutup")
PROGRAM_LIFECYCLE = Lifecycle("Program", "status_program", {
    "aktifkan": Step(("draf",), "aktif", "program.diaktifkan", "diaktifkan"),
    "tutup": Step(("aktif",), "ditutup", "program.ditutup", "ditutup"),
})
JENIS_KELAMIN = ("L", "P")
JENIS_BUKTI = ("tanda_tangan", "foto", "voucher")

# Who manages programs; who records recipients and distributions; who sees NIK and No. KK whole;
# who erases a recipient on request.
ROLES_PROGRAM = ("admin", "pengurus")
ROLES_PENCATAT = ("admin", "pengurus", "petugas")
ROLES_PENGHAPUS = ("admin",)

# What identifies a recipient (UU No. 27/2022): all of it goes when they ask to be erased.
PERSONAL_DATA = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "alamat", "telepon")
# What a correction may change (issue 18): a program's quota, end date and eligibility note; a
# recipient's name, address, phone and village, never the numbers that identify them (a wrong NIK
# is a new record) nor what the NIK itself encodes (birth date, sex).
PROGRAM_KOREKSI = ("kuota", "selesai", "syarat")
PENERIMA_KOREKSI = ("nama", "alamat", "telepon", "kode_wilayah")

# The kinds of record the audit trail follows (and the collections that keep them).
PROGRAM, PENERIMA, PENYALURAN = "program", "penerima", "penyaluran"
# The audit trail's id of every import of recipients, which is no record of its own: its entries
# carry the importer's area instead.
IMPOR = "impor"

# Province codes a NIK may begin with: the provinces of the official list, and those whose codes
# NIKs issued before a split still carry (91 Papua and 92 Papua Barat before 2022).
KODE_PROVINSI = frozenset("11 12 13 14 15 16 17 18 19 21 31 32 33 34 35 36 51 52 53 61 62 63 64 65 71 72 73 74 75 "
                          "76 81 82 91 92 93 94 95 96 97".split())
DIGITS_16 = re.compile(r"[0-9]{16}\Z")


def nik_problems(nik, tanggal_lahir=None, jenis_kelamin=None):
    """What is wrong with a NIK, one message per broken rule (empty when valid).

    Digits 1-6 are where it was issued (1-2 the province), 7-12 the birth date DDMMYY with 40
    added to the day for women, 13-16 a sequence from 0001."""
    if not DIGITS_16.match(nik or ""):
        return ["NIK harus terdiri dari 16 angka."]
    problems = []
    if nik[:2] not in KODE_PROVINSI:
        problems.append(f"Dua angka pertama NIK ({nik[:2]}) bukan kode provinsi yang valid.")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > 40
    born = _birth_date(day - 40 if female else day, month, year, tanggal_lahir)
    if born is None:
        problems.append(f"Angka ke-7 sampai ke-12 NIK ({nik[6:12]}) bukan tanggal lahir yang valid "
                        "(perempuan: tanggal ditambah 40).")
    else:
        if tanggal_lahir and born != tanggal_lahir:
            problems.append(f"Tanggal lahir pada NIK ({born.isoformat()}) tidak sama dengan tanggal_lahir "
                            f"({tanggal_lahir.isoformat()}).")
        if jenis_kelamin and (jenis_kelamin == "P") != female:
            problems.append("Tanggal pada NIK tidak sesuai jenis kelamin (perempuan: tanggal ditambah 40).")
    if nik[12:] == "0000":
        problems.append("Nomor urut NIK (empat angka terakhir) tidak boleh 0000.")
    return problems


def _birth_date(day, month, year_2, tanggal_lahir):
    """The date DDMMYY stands for, or None when it is no date in any century. The century is
    the birth date's when that makes a real date, else the latest that is not in the future."""
    today = date.today()
    preferred = [tanggal_lahir.year // 100 * 100] if tanggal_lahir else []
    candidates = []
    for century in (*preferred, 2000, 1900):
        try:
            candidates.append(date(century + year_2, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    if preferred and candidates[0].year // 100 * 100 == preferred[0]:
        return candidates[0]
    return next((born for born in candidates if born <= today), candidates[-1])


def kk_problems(no_kk):
    return [] if DIGITS_16.match(no_kk or "") else ["No. KK harus terdiri dari 16 angka."]


def check_penerima(data):
    errors = {}
    born = date.fromisoformat(data["tanggal_lahir"]) if data.get("tanggal_lahir") else None
    nik = nik_problems(data["nik"], born, data.get("jenis_kelamin"))
    if nik:
        errors["nik"] = nik
    kk = kk_problems(data["no_kk"])
    if kk:
        errors["no_kk"] = kk
    if errors:
        raise InvalidInput(errors)


def erasure(penerima_id):
    """The changes that erase a recipient: every personal field emptied; `nik` holds the record's
    own id, which is no NIK, so the unique index of NIKs holds for every erased record and the
    person may be registered again, as a new record (no hash of their NIK is kept: the household
    rules go by No. KK, on the distributions)."""
    return {**dict.fromkeys(PERSONAL_DATA), "nik": penerima_id}


def mask_number(number):
    """'3171234567890001' -> '3171**********01'."""
    return mask_middle(number, 4, 2) if number else number


def check_program(data):
    errors = {}
    if data["selesai"] < data["mulai"]:
        errors["selesai"] = ["Tanggal selesai tidak boleh sebelum tanggal mulai."]
    if errors:
        raise InvalidInput(errors)


def check_program_correction(program, corrected, last_distributed):
    """A program corrected (its quota, end date or eligibility note) as it must still be: the
    period as at creation, a quota no smaller than what was already distributed, and an end no
    earlier than the latest distribution (`last_distributed`, its date, or None)."""
    check_program(corrected)
    if corrected["kuota"] < program["tersalur"]:
        raise Conflict(f"Kuota tidak boleh kurang dari yang sudah tersalur ({program['tersalur']}).",
                       code="kuota_di_bawah_tersalur", tersalur=program["tersalur"])
    if last_distributed and corrected["selesai"] < last_distributed:
        raise Conflict(f"Sudah ada penyaluran pada {last_distributed}; tanggal selesai tidak boleh sebelum itu.",
                       code="penyaluran_setelah_selesai", tanggal_penyaluran_terakhir=last_distributed)


def require_open(program):
    if program["status"] == "ditutup":
        raise Conflict("Program sudah ditutup; datanya tidak dapat dikoreksi lagi.", code="program_ditutup")


def reaches(program, area):
    """Is the program seen from `area`? Those in an area it aims at, below it or above it see
    it (a village officer sees a regency's program; the province sees its villages')."""
    return any(within(code, area) or within(area, code) for code in program["wilayah_sasaran"])


def periods_overlap(a, b):
    return a["mulai"] <= b["selesai"] and b["mulai"] <= a["selesai"]


def require_not_erased(penerima):
    """An erased recipient (their personal data gone on request) takes no more changes."""
    if penerima.get("dihapus"):
        raise Conflict("Data penerima ini sudah dihapus; daftarkan lagi bila ia menerima bantuan.",
                       code="penerima_dihapus")


def check_distribution(program, penerima, tanggal):
    """What must hold before a distribution is even tried (the counts are held by the database)."""
    require_not_erased(penerima)
    if program["status"] != "aktif":
        raise Conflict(f"Program berstatus '{program['status']}'; penyaluran hanya saat program aktif.",
                       code="program_tidak_aktif")
    if not program["mulai"] <= tanggal <= program["selesai"]:
        raise InvalidInput({"tanggal": [f"Di luar periode program ({program['mulai']} s.d. {program['selesai']})."]})
    if not any(within(penerima["kode_wilayah"], area) for area in program["wilayah_sasaran"]):
        raise Conflict(f"Penerima tinggal di {penerima['kode_wilayah']}, di luar wilayah sasaran program.",
                       code="di_luar_wilayah_sasaran")


def exclusive_conflict(program, others):
    """The first program among `others` (programs the household already received) that this one
    excludes, either way round, with an overlapping period; None if there is none."""
    for other in others:
        exclusive = other["id"] in program.get("eksklusif_dengan", []) or \
            program["id"] in other.get("eksklusif_dengan", [])
        if exclusive and other["id"] != program["id"] and periods_overlap(program, other):
            return other
    return None


def roll_up(per_village):
    """Counts per village added up the hierarchy: {'32.73.01.1001': 3} also counts for
    '32.73.01', '32.73' and '32'."""
    totals = {}
    for village, count in per_village.items():
        for area in area_and_ancestors(village):
            totals[area] = totals.get(area, 0) + count
    return dict(sorted(totals.items()))


def per_village_and_proof(counts):
    """The repository's distribution counts [(village, month, proof, n)] as counts per village
    and per kind of proof."""
    per_village, per_proof = {}, {}
    for village, _, proof, n in counts:
        per_village[village] = per_village.get(village, 0) + n
        per_proof[proof] = per_proof.get(proof, 0) + n
    return per_village, per_proof


def rincian(area, counts, mulai, per_wilayah, per_bulan):
    """The rows of a program's breakdown (services/common/rincian.py) from the repository's
    distribution counts: per area one level below `area` (the program's unit's) that received
    any, per month from the program's start `mulai` to the month of its latest distribution
    (a month with none has its row of zeros, so a trend has no gaps), or both."""
    latest = max((month for _, month, _, _ in counts), default=None)
    bulan = (months(mulai, f"{latest}-01") if latest else []) if per_bulan else [None]
    table = {}
    for village, month, proof, n in counts:
        key = (area_below(area, village) if per_wilayah else area, month if per_bulan else None, proof)
        table[key] = table.get(key, 0) + n
    areas = sorted({kode for kode, _, _ in table} - {None}) if per_wilayah else [area]

    def figures(kode, month):
        per_bukti = {proof: table.get((kode, month, proof), 0) for proof in JENIS_BUKTI}
        return {"tersalur": sum(per_bukti.values()), "per_bukti": per_bukti}

    return grid(areas, bulan, figures)


# Imports of recipients, as background jobs: the file arrives in parts of whole CSV records and
# is taken batch by batch, each batch committed with the job's progress, so a job resumes where
# a killed process left it and takes no row twice.

JENIS_IMPOR_PENERIMA = "impor_penerima"
# A job being uploaded is nobody's to see yet; then it waits, runs, and ends done or failed.
MENGUNGGAH, ANTRI, BERJALAN, SELESAI, GAGAL = "mengunggah", "antri", "berjalan", "selesai", "gagal"
STATUS_PEKERJAAN = (ANTRI, BERJALAN, SELESAI, GAGAL)
# The size of the parts a file is sent and stored in (the gateway holds one at a time), and the
# size at which a record that never ends (an unclosed quote) is cut anyway: it is refused
# either way, no CSV field being allowed past the reader's limit of 128 KiB.
PART_BYTES = 1024 * 1024
PART_MAX_BYTES = 4 * PART_BYTES
# Rows checked and written in one transaction.
BATCH_ROWS = 500
# Refused rows a job's view lists while it runs (its final report lists them all).
REFUSED_SHOWN = 1000
# How long a finished job's report stays readable, and after how long an upload the gateway
# never finished (the client went away) is dropped with its parts.
JOB_KEPT = timedelta(days=7)
UPLOAD_ABANDONED = timedelta(hours=1)


def csv_upload(read, part_bytes=PART_BYTES, max_bytes=PART_MAX_BYTES):
    """The header line of a CSV file `read(size)` reads, and the parts of whole records that
    follow it (csv_parts)."""
    parts = csv_parts(read, part_bytes, max_bytes)
    header, _, first = next(parts, b"").partition(b"\n")
    return header, itertools.chain([first] if first else [], parts)


def csv_parts(read, part_bytes=PART_BYTES, max_bytes=PART_MAX_BYTES):
    """The bytes `read(size)` returns until it returns none, in parts of whole CSV records of
    about `part_bytes` each: a part ends after a newline outside quotes (a quoted field may
    hold newlines), never inside a UTF-8 character, so each part decodes and parses alone.
    Only a record still open at `max_bytes` is cut elsewhere."""
    pending, scanned, quotes, boundary = b"", 0, 0, 0
    while data := read(part_bytes):
        pending += data
        while (newline := pending.find(b"\n", scanned)) >= 0:
            quotes += pending.count(b'"', scanned, newline)
            scanned = newline + 1
            if quotes % 2 == 0:
                boundary = scanned
        while boundary >= part_bytes or len(pending) >= max_bytes:
            # Beyond the last whole record there is only a record still open: one that reaches
            # max_bytes is cut after its last line, or else between two characters.
            cut = boundary or pending.rfind(b"\n") + 1 or _character_start(pending, len(pending) - 1) or len(pending)
            yield pending[:cut]
            pending, scanned = pending[cut:], max(scanned - cut, 0)
            quotes, boundary = pending.count(b'"', 0, scanned), 0
    if pending:
        yield pending


def _character_start(data, index):
    """The last place at or before `index` where no UTF-8 character is cut in two."""
    while index > 0 and data[index] & 0xC0 == 0x80:
        index -= 1
    return index


def nik_key(salt, nik):
    """What an import job keeps of each NIK it has seen, to find a NIK repeated in the file: a
    hash keyed with the job's own secret, forgotten with the job."""
    return hashlib.sha256(f"{salt}:{nik}".encode()).hexdigest()
