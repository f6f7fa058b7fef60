"""One-off jobs of the organisasi service, run from the `bkpm` command line against its
database: loading an official area list."""
import csv

from services.common.errors import InvalidInput
from services.common.outbox import emit_after, event_schemas
from services.organisasi.domain import parse_wilayah_rows, plan_wilayah_import
from services.organisasi.repository import OrganisasiRepository
from services.organisasi.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS

EVENTS = event_schemas(EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)


def read_wilayah_csv(lines):
    """Rows `(line number, kode, nama)` of a `kode,nama` CSV (a BOM and extra columns are fine)."""
    reader = csv.reader(lines)
    header = [column.strip().lower().lstrip("\ufeff") for column in next(reader, [])]
    if "kode" not in header or "nama" not in header:
        raise InvalidInput({"file": ["Baris pertama harus berisi kolom 'kode,nama'."]})
    kode_at, nama_at = header.index("kode"), header.index("nama")
    for line, row in enumerate(reader, start=2):
        if row:
            yield (line, row[kode_at] if len(row) > kode_at else "", row[nama_at] if len(row) > nama_at else "")


def import_wilayah(db, lines):
    """Load an official list into the area reference: new codes are added, changed names
    updated, codes no longer listed marked inactive (units using them keep working). A change
    is announced by the event `wilayah.diperbarui` (what the other services hold of the
    reference is forgotten by it), with the counts of what this import changed. Returns a
    report of what changed."""
    repository = OrganisasiRepository(db, unit_of_work=None)
    incoming, rejected = parse_wilayah_rows(read_wilayah_csv(lines))
    plan = plan_wilayah_import(repository.wilayah_snapshot(), incoming, [kode for _, kode, _ in rejected])
    # An import killed between its writes and its announcement leaves its note: this one then
    # announces, even with nothing left to change, so no cache keeps what the other changed.
    unannounced = repository.begin_wilayah_import()
    repository.apply_wilayah_plan(plan)
    changes = {"ditambahkan": len(plan.added), "diganti_nama": len(plan.renamed), "dipulihkan": len(plan.restored),
               "tidak_berlaku": len(plan.removed)}
    if unannounced or any(changes.values()):
        emit_after(db, "organisasi", EVENTS, "wilayah.diperbarui", "wilayah", changes)
    repository.end_wilayah_import()
    units_on_removed = repository.units_in_areas(plan.removed) if plan.removed else []
    return {
        "rows": len(incoming) + len(rejected),
        "added": len(plan.added),
        "renamed": [{"kode": k, "lama": old, "baru": new} for k, (old, new) in sorted(plan.renamed.items())],
        "restored": sorted(plan.restored),
        "removed": plan.removed,
        "units_on_removed": [{"id": u["id"], "kode_wilayah": u["kode_wilayah"], "nama": u["nama"]}
                             for u in units_on_removed],
        "unchanged": plan.unchanged,
        "rejected": [{"line": line, "reason": reason} for line, _, reason in rejected],
    }
