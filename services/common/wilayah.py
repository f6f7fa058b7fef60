"""The official area reference (Kemendagri codes) as the rules see it: a code the platform
records work in must be listed, and still current (codes are retired by decree).

Framework-free core: imported by domain rules and use cases. `wilayah` is what organisasi's
reference knows of a code ({"kode", "nama", "aktif"}), or None when it does not list it."""
from services.common.errors import InvalidInput


def area_problem(wilayah, kode):
    """What is wrong with recording work in `kode`, in a person's words; None if nothing."""
    if wilayah is None:
        return f"Kode wilayah {kode} tidak ada dalam referensi wilayah Kemendagri."
    if not wilayah["aktif"]:
        return f"Kode wilayah {kode} ({wilayah['nama']}) sudah tidak berlaku dalam daftar resmi terbaru."
    return None


def require_current_area(wilayah, kode, field_path):
    """The area must be listed and current; the error goes on the field at `field_path`
    (('lokasi', 'kode_wilayah') for a nested one)."""
    problem = area_problem(wilayah, kode)
    if problem:
        errors = [problem]
        for name in reversed(field_path):
            errors = {name: errors}
        raise InvalidInput(errors)


# The clock of each province (Kemendagri code), for showing a time where it happens: WIB
# (UTC+7) unless listed here. No zone of Indonesia keeps summer time.
WITA_PROVINCES = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})
WIT_PROVINCES = frozenset({"81", "82", "91", "92", "93", "94", "95", "96"})
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def zona_waktu(kode_wilayah):
    """'WIB', 'WITA' or 'WIT': the zone of the area `kode_wilayah`, by its province (53.71:
    'WITA'); national (None or ''): WIB, the zone the platform's periods use. ZONES names its
    IANA zone."""
    province = (kode_wilayah or "")[:2]
    return "WITA" if province in WITA_PROVINCES else "WIT" if province in WIT_PROVINCES else "WIB"
