"""Rules of the organisasi domain, in plain Python: area codes and levels, who may act where,
board appointments, and what a revised area list changes."""
import heapq
import re
from dataclasses import dataclass, field

from services.common.access import KODE_WILAYAH_PATTERN
from services.common.errors import InvalidInput
from services.common import privacy

# A unit's level is the depth of its area code: national has none, a kecamatan has three parts.
TINGKAT_DEPTH = {"nasional": 0, "provinsi": 1, "kabupaten_kota": 2, "kecamatan": 3}
TINGKAT = tuple(TINGKAT_DEPTH)
TINGKAT_LABEL = {"nasional": "nasional", "provinsi": "provinsi", "kabupaten_kota": "kabupaten/kota",
                 "kecamatan": "kecamatan"}
TINGKAT_WILAYAH = {1: "provinsi", 2: "kabupaten/kota", 3: "kecamatan", 4: "desa/kelurahan"}
# An area's level in the area reference's answers, by the depth of its code.
TINGKAT_KODE_WILAYAH = {1: "provinsi", 2: "kabupaten_kota", 3: "kecamatan", 4: "desa_kelurahan"}
# A picker shows a short list: more than this many names means the text typed is too short.
BATAS_PENCARIAN_WILAYAH = 20

JABATAN = ("ketua", "wakil_ketua", "sekretaris")
# Ketua and sekretaris are Polri personnel; wakil_ketua is a community figure.
JABATAN_POLRI = ("ketua", "sekretaris")
NRP_PATTERN = r"^[0-9]{8}$"
# The ketua of a province unit is its Kapolda, of a regency/city unit its Kapolres (Kapolresta
# and Kapolrestabes included).
KETUA_JABATAN_POLRI = {"provinsi": "Kapolda", "kabupaten_kota": "Kapolres"}

KATEGORI_ANGGOTA = ("masyarakat", "tokoh_agama", "tokoh_adat", "akademisi", "pelaku_usaha")

# What a correction (PATCH) may change. A unit's level and area make it another unit; a board
# member's position, name and start, or a member's name and kind, make another appointment or
# membership (ended, and a new one begun), so the history keeps what was in force when.
UNIT_KOREKSI = ("nama",)
PENGURUS_KOREKSI = ("telepon", "email", "selesai")
ANGGOTA_KOREKSI = ("telepon", "email")

# Who may change the organisation: units, boards and members.
ROLES_MENGELOLA = ("admin", "pengurus")


def code_depth(kode):
    return len(kode.split(".")) if kode else 0


def parent_code(kode):
    """The area code of the unit above: '31.71.01' -> '31.71'; a province's parent is national
    (None)."""
    return kode.rsplit(".", 1)[0] if kode and "." in kode else None


def child_codes(induk):
    """Every code one level below `induk` (None: the provinces) that the Kemendagri format allows:
    two digits a level, four for a village; a village has none. Looked up by these codes, the
    children are found by the database's index on the code, not by reading the whole list."""
    depth = code_depth(induk)
    if depth >= len(TINGKAT_KODE_WILAYAH):
        return []
    width = 4 if depth == len(TINGKAT_KODE_WILAYAH) - 1 else 2
    prefix = f"{induk}." if induk else ""
    return [f"{prefix}{number:0{width}d}" for number in range(10 ** width)]


def rank_by_name(text, areas, limit=BATAS_PENCARIAN_WILAYAH):
    """The areas whose name contains `text` (whatever the case), best first: names that start
    with it, then shorter names (the more of the name the text is, the likelier the one meant),
    then by name and code; at most `limit`."""
    wanted = text.casefold()
    return heapq.nsmallest(limit, (area for area in areas if wanted in area["nama"].casefold()),
                           key=lambda area: (not area["nama"].casefold().startswith(wanted), len(area["nama"]),
                                             area["nama"], area["kode"]))


def check_unit_level(tingkat, kode_wilayah):
    """The area code must match the level: none for nasional, one part for provinsi, ..."""
    depth = TINGKAT_DEPTH[tingkat]
    if depth == 0 and kode_wilayah:
        raise InvalidInput({"kode_wilayah": ["Unit nasional tidak memiliki kode wilayah."]})
    if depth and not kode_wilayah:
        raise InvalidInput({"kode_wilayah": [f"Wajib diisi untuk unit tingkat {TINGKAT_LABEL[tingkat]}."]})
    if depth and code_depth(kode_wilayah) != depth:
        level = TINGKAT_WILAYAH.get(code_depth(kode_wilayah), "tidak dikenal")
        raise InvalidInput({"kode_wilayah": [
            f"Kode {kode_wilayah} adalah wilayah tingkat {level}, bukan {TINGKAT_LABEL[tingkat]}."]})


def can_manage(actor):
    return actor.has_role(ROLES_MENGELOLA)


def require_manage(actor, kode):
    actor.require_role(ROLES_MENGELOLA, kode, "Peran Anda tidak berwenang mengubah data organisasi.")


def check_appointment(unit_tingkat, pengurus):
    """Field rules of a board appointment that depend on the position and the unit's level."""
    errors = {}
    jabatan = pengurus["jabatan"]
    if jabatan in JABATAN_POLRI:
        for name, label in (("nrp", "NRP"), ("pangkat", "Pangkat"), ("jabatan_polri", "Jabatan Polri")):
            if not pengurus.get(name):
                errors[name] = [f"{label} wajib diisi untuk {jabatan} (anggota Polri)."]
        if pengurus.get("nrp") and not re.fullmatch(NRP_PATTERN, pengurus["nrp"]):
            errors["nrp"] = ["NRP harus terdiri dari 8 angka."]
        expected = KETUA_JABATAN_POLRI.get(unit_tingkat)
        polri_post = pengurus.get("jabatan_polri") or ""
        if jabatan == "ketua" and expected and polri_post and not polri_post.lower().startswith(expected.lower()):
            errors["jabatan_polri"] = [
                f"Ketua BKPM tingkat {TINGKAT_LABEL[unit_tingkat]} dijabat oleh {expected} (jabatan_polri "
                f"harus diawali '{expected}')."]
    else:
        for name in ("nrp", "pangkat", "jabatan_polri"):
            if pengurus.get(name):
                errors[name] = ["Wakil ketua adalah tokoh masyarakat, bukan anggota Polri: "
                                "kosongkan field ini."]
    if pengurus.get("selesai") and pengurus["selesai"] < pengurus["mulai"]:
        errors["selesai"] = ["Tanggal selesai tidak boleh sebelum tanggal mulai."]
    if errors:
        raise InvalidInput(errors)


def mask_contact(record):
    """A board member's or member's record with contacts and NRP masked, for roles that need
    not see them whole."""
    return {**privacy.mask_contact(record), "nrp": privacy.mask_middle(record.get("nrp"), 2, 2)}


@dataclass
class WilayahImportPlan:
    """What importing a list changes, computed from the current reference and the new list."""
    added: dict = field(default_factory=dict)       # kode -> nama
    renamed: dict = field(default_factory=dict)     # kode -> (old nama, new nama)
    restored: dict = field(default_factory=dict)    # kode -> nama, back after a removal
    removed: list = field(default_factory=list)     # codes no longer in the official list
    unchanged: int = 0


def parse_wilayah_rows(rows):
    """Check `(line, kode, nama)` rows of an official list; returns ({kode: nama}, rejected)
    where rejected lists (line, kode, reason) for rows that were not taken."""
    accepted, lines, rejected = {}, {}, []
    for line, kode, nama in rows:
        kode, nama = (kode or "").strip(), (nama or "").strip()
        if not re.fullmatch(KODE_WILAYAH_PATTERN, kode):
            rejected.append((line, kode, f"kode '{kode}' tidak berformat kode wilayah Kemendagri"))
        elif not nama:
            rejected.append((line, kode, f"nama wilayah {kode} kosong"))
        elif kode in accepted:
            rejected.append((line, kode, f"kode {kode} muncul lebih dari sekali"))
        else:
            accepted[kode], lines[kode] = nama, line
    # Parents first, so a child of a rejected parent is rejected too.
    for kode in sorted(accepted, key=code_depth):
        parent = parent_code(kode)
        if parent and parent not in accepted:
            del accepted[kode]
            rejected.append((lines[kode], kode, f"kode {kode}: wilayah induk {parent} tidak ada dalam daftar"))
    return accepted, rejected


def plan_wilayah_import(current, incoming, rejected_codes=()):
    """`current` maps kode -> (nama, aktif) for the stored reference; `incoming` kode -> nama.

    Codes missing from the new list are not deleted but marked inactive: units and records
    that use them keep resolving. A code whose row was rejected is left as it is: a typo in
    the file must not retire a real area."""
    plan = WilayahImportPlan()
    for kode, nama in incoming.items():
        if kode not in current:
            plan.added[kode] = nama
            continue
        old_nama, aktif = current[kode]
        if not aktif:
            plan.restored[kode] = nama
        elif old_nama != nama:
            plan.renamed[kode] = (old_nama, nama)
        else:
            plan.unchanged += 1
    keep = set(rejected_codes)
    plan.removed = sorted(k for k, (_, aktif) in current.items() if aktif and k not in incoming and k not in keep)
    return plan
