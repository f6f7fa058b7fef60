"""What other services ask organisasi, and which of its answers they may keep.

Each lookup answers from units, boards, members and the area reference, which change only with
an organisasi event (`bkpm wilayah import` announces its changes with `wilayah.diperbarui`), so
a caller may keep its answers in memory until the next one (CachedRpcProxy, docs/architecture.md
"Lookups in organisasi"). `list_wilayah` is not among them: asked with a whole import's
villages, its answers would be large and seldom asked again.

Framework-free: imported by other services' use cases and entrypoints."""
from services.common.errors import InvalidInput

CACHEABLE = ("get_unit_ringkas", "get_unit_dan_wilayah", "get_penanggung_jawab_wilayah", "list_kontak_unit",
             "get_kontak_pengurus", "list_kontak_sekretaris")


def found_unit(unit, unit_id):
    """`unit`, what organisasi answered for `unit_id`; a field error on `unit_id` if None."""
    if unit is None:
        raise InvalidInput({"unit_id": [f"Unit {unit_id} tidak ditemukan."]})
    return unit


def known_unit(organisasi, unit_id):
    """The unit `unit_id` as organisasi knows it; a field error on `unit_id` if there is none."""
    return found_unit(organisasi.get_unit_ringkas(unit_id), unit_id)
