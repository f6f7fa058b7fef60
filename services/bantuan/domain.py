"""Rules of the bantuan domain, in plain Python: programs and their periods, recipients and
their identity numbers (NIK, No. KK), and fair distribution."""
import re
from datetime import date

from services.common.access import area_and_ancestors, within
from services.common.errors import Conflict, InvalidInput
from services.common.lifecycle import Lifecycle, Step
from services.common.privacy import mask_middle

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


def reaches(program, area):
    """Is the program seen from `area`? Those in an area it aims at, below it or above it see
    it (a village officer sees a regency's program; the province sees its villages')."""
    return any(within(code, area) or within(area, code) for code in program["wilayah_sasaran"])


def periods_overlap(a, b):
    return a["mulai"] <= b["selesai"] and b["mulai"] <= a["selesai"]


def check_distribution(program, penerima, tanggal):
    """What must hold before a distribution is even tried (the counts are held by the database)."""
    if penerima.get("dihapus"):
        raise Conflict("Data penerima ini sudah dihapus; daftarkan lagi bila ia menerima bantuan.",
                       code="penerima_dihapus")
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
