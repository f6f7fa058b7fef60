"""Dates and times as Indonesians write them, on the clock of the area they concern (WIB, WITA,
WIT; national: WIB).

Framework-free core: the notifications' messages and the web front-end's pages write them."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.common.wilayah import ZONES, zona_waktu

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def moment(value):
    """A moment, given as one or as ISO 8601 text (a missing value raises, as it should)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def local(value, kode_wilayah=None):
    """The moment on the clock of `kode_wilayah`'s province, and that clock's name."""
    zone = zona_waktu(kode_wilayah)
    return moment(value).astimezone(ZoneInfo(ZONES[zone])), zone


def waktu(value, kode_wilayah=None):
    """'Rabu, 2 Desember 2026 pukul 09.00 WIB' ('pukul 10.00 WITA' in Kupang)."""
    when, zone = local(value, kode_wilayah)
    return f"{HARI[when.weekday()]}, {when.day} {BULAN[when.month - 1]} {when.year} pukul {when:%H.%M} {zone}"


def tanggal(value, kode_wilayah=None):
    """'2 Desember 2026': of a date as it is, of a moment on the area's clock."""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if not isinstance(value, date) or isinstance(value, datetime):
        value = local(value, kode_wilayah)[0]
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"
