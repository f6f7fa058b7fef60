"""organisasi's repository in memory, with the rules its indexes keep: one unit per area code,
one active holder per board position of a unit."""
from datetime import datetime, timezone

from services.common.access import within
from services.organisasi.repository import PEOPLE_ORDER, PERSON_OPTIONAL, PENGURUS
from services.organisasi.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from tests.unit.fakes import FakeStore

UNITS, WILAYAH = "units", "wilayah"
STAMP = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeOrganisasiRepository(FakeStore):
    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    def add_wilayah(self, kode, nama=None, aktif=True):
        self.tables[WILAYAH][kode] = {"id": kode, "kode": kode, "nama": nama or f"Wilayah {kode}", "aktif": aktif}

    # Area reference

    def wilayah(self, kode):
        found = self.get(WILAYAH, kode)
        return found and {name: found[name] for name in ("kode", "nama", "aktif")}

    def wilayah_many(self, codes):
        return [self.wilayah(kode) for kode in sorted(set(codes)) if kode in self.tables[WILAYAH]]

    def current_wilayah_many(self, codes):
        return [area for area in self.wilayah_many(codes) if area["aktif"]]

    def wilayah_named(self, text, induk=None):
        return [self.wilayah(kode) for kode, area in self.tables[WILAYAH].items()
                if text.casefold() in area["nama"].casefold() and area["aktif"]
                and (not induk or kode.startswith(f"{induk}."))]

    def units_in_areas(self, codes):
        return self.rows(UNITS, lambda unit: unit["kode_wilayah"] in codes)

    # Units

    def unit(self, unit_id):
        return self.get(UNITS, unit_id)

    def unit_at(self, kode_wilayah):
        return next(iter(self.rows(UNITS, lambda unit: unit["kode_wilayah"] == kode_wilayah)), None)

    def insert_unit(self, tx, unit):
        record = {"id": self.new_id("unit"), "dibentuk": STAMP, **unit}
        self.unique(UNITS, record, ("kode_wilayah",))
        return self.put(UNITS, record)

    def find_units(self, area, filters, page, per_page):
        return self.page(UNITS, lambda unit: within(unit["kode_wilayah"], area) and _matches(unit, filters),
                         lambda unit: (unit["tingkat_urut"], unit["kode_wilayah"] or ""), page, per_page)

    # Board and members

    def insert_person(self, tx, collection, person):
        record = {"id": self.new_id(collection), **PERSON_OPTIONAL[collection], "aktif": True, "dicatat": STAMP,
                  **person}
        if collection == PENGURUS:
            self.unique(collection, record, ("unit_id", "jabatan"), where=lambda other: other["aktif"])
        return self.put(collection, record)

    def person(self, collection, unit_id, person_id):
        found = self.get(collection, person_id)
        return found if found and found["unit_id"] == unit_id else None

    def end_person(self, tx, collection, unit_id, person_id, changes):
        current = self.person(collection, unit_id, person_id)
        if current is None or not current["aktif"]:
            return None
        return self.put(collection, {**current, "aktif": False, **changes})

    def people(self, collection, unit_id, aktif=None, page=1, per_page=0):
        (field, direction), *_ = PEOPLE_ORDER[collection]
        return self.page(collection, lambda p: p["unit_id"] == unit_id and (aktif is None or p["aktif"] == aktif),
                         lambda p: p[field] or "", page, per_page, reverse=direction < 0)

    def active_holder(self, unit_id, jabatan):
        return next(iter(self.rows(PENGURUS, lambda p: p["unit_id"] == unit_id and p["jabatan"] == jabatan
                                   and p["aktif"])), None)


def _matches(record, filters):
    return all(record.get(name) == value for name, value in filters.items())
