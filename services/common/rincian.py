"""A summary's breakdown (`rinci`): by the areas one level below the summarised one, by calendar
month, or both; the same query parameter and the same rules for every summary.

Framework-free core (marshmallow): imported by the schemas, domain rules and use cases of the
services whose summaries break down (kegiatan, bantuan)."""
from datetime import date

from marshmallow import fields

from services.common.access import within
from services.common.schema import aturan, one_of

WILAYAH, BULAN = "wilayah", "bulan"
RINCI = (WILAYAH, BULAN)


def rinci_field(description, rule=None):
    """The query parameter `rinci`, given once per breakdown (`rinci=wilayah&rinci=bulan`), the
    way OpenAPI's default style for an array in a query (form, exploded) sends it; `rule`, one
    that depends on other parameters (services.common.schema.aturan)."""
    metadata = {"description": (
        "Rincian: `wilayah` (satu baris per wilayah satu tingkat di bawahnya), `bulan` (satu baris per bulan), "
        "atau keduanya dengan parameter yang diulang: `rinci=wilayah&rinci=bulan`. " + description)}
    return fields.List(fields.String(validate=one_of(RINCI)), metadata=aturan(rule, metadata) if rule else metadata)


def area_below(area, kode):
    """The area one level below `area` (None: national, whose areas below are the provinces)
    that `kode` lies in, or None for `area` itself and for a code outside it:
    ('31', '31.71.01') -> '31.71'."""
    depth = len(area.split(".")) + 1 if area else 1
    parts = kode.split(".")
    return ".".join(parts[:depth]) if within(kode, area) and len(parts) >= depth else None


def months(first, last):
    """The calendar months from the one of the ISO date `first` to the one of `last`, both
    included: ('2026-11-15', '2027-01-02') -> ['2026-11', '2026-12', '2027-01']."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [f"{index // 12:04d}-{index % 12 + 1:02d}"
            for index in range(start.year * 12 + start.month - 1, end.year * 12 + end.month)]


def grid(areas, bulan, figures):
    """The rows of a breakdown: one per area of `areas` and month of `bulan` (`[None]` for a
    summary not broken down that way), area by area, each with `figures(area, month)`."""
    return [{"kode_wilayah": area, "bulan": month, **figures(area, month)} for area in areas for month in bulan]
