"""How the pages write what the API answers: times on the clock of the area they happen in
(WIB, WITA, WIT), dates and numbers the Indonesian way, and the API's values as words."""
from services.common.waktu import local, moment, tanggal, waktu  # noqa: F401 (the templates' words)

JENIS_KEGIATAN = {
    "dialog": "Dialog",
    "penyuluhan": "Penyuluhan dan sosialisasi",
    "patroli_bersama": "Patroli bersama",
    "bantuan_sosial": "Bantuan sosial",
    "pengembangan_kapasitas": "Pelatihan (pengembangan kapasitas)",
}
STATUS_KEGIATAN = {"direncanakan": "Direncanakan", "berlangsung": "Sedang berlangsung", "selesai": "Selesai",
                   "dibatalkan": "Dibatalkan"}
KATEGORI_ASPIRASI = {"aspirasi": "Aspirasi", "keluhan": "Keluhan", "masukan": "Masukan"}
STATUS_ASPIRASI = {"diterima": "Diterima", "diverifikasi": "Diverifikasi", "diproses": "Sedang diproses",
                   "selesai": "Selesai", "ditolak": "Ditolak"}


def jam(value, kode_wilayah=None):
    """'09.00 WIB'."""
    when, zone = local(value, kode_wilayah)
    return f"{when:%H.%M} {zone}"


def angka(value, digits=0):
    """12345.6 -> '12.345,6' (Indonesian separators); None -> '–'."""
    if value is None:
        return "\u2013"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
