"""One-off jobs of the organisasi service, run from the `bkpm` command line against its
database: loading an official area list, showing how far it has come."""
import csv
from dataclasses import replace

from services.common.errors import InvalidInput
from services.common.outbox import emit_after, event_schemas
from services.organisasi.domain import WilayahImportPlan, parse_wilayah_rows, plan_wilayah_import
from services.organisasi.repository import OrganisasiRepository
from services.organisasi.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS

EVENTS = event_schemas(EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
# The rows written at a time, after each of which the progress is shown.
PROGRESS_ROWS = 10_000


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


def import_wilayah(db, lines, progress=None):
    """Load an official list into the area reference: new codes are added, changed names
    updated, codes no longer listed marked inactive (units using them keep working). A change
    is announced by the event `wilayah.diperbarui` (what the other services hold of the
    reference is forgotten by it), with the counts of what this import changed. Returns a
    report of what changed. `progress(done, total)` hears how many rows of the list are
    settled as they are written (Progress shows it)."""
    repository = OrganisasiRepository(db, unit_of_work=None)
    incoming, rejected = parse_wilayah_rows(read_wilayah_csv(lines))
    plan = plan_wilayah_import(repository.wilayah_snapshot(), incoming, [kode for _, kode, _ in rejected])
    # An import killed between its writes and its announcement leaves its note: this one then
    # announces, even with nothing left to change, so no cache keeps what the other changed.
    unannounced = repository.begin_wilayah_import()
    rows = len(incoming) + len(rejected)
    done = rows - len(plan.added) - len(plan.renamed) - len(plan.restored)  # nothing to write for these
    for part in parts_of(plan, PROGRESS_ROWS):
        repository.apply_wilayah_plan(part)
        done += len(part.added) + len(part.renamed) + len(part.restored)
        if progress:
            progress(done, rows)
    changes = {"ditambahkan": len(plan.added), "diganti_nama": len(plan.renamed), "dipulihkan": len(plan.restored),
               "tidak_berlaku": len(plan.removed)}
    if unannounced or any(changes.values()):
        emit_after(db, "organisasi", EVENTS, "wilayah.diperbarui", "wilayah", changes)
    repository.end_wilayah_import()
    units_on_removed = repository.units_in_areas(plan.removed) if plan.removed else []
    return {
        "rows": rows,
        "added": len(plan.added),
        "renamed": [{"kode": k, "lama": old, "baru": new} for k, (old, new) in sorted(plan.renamed.items())],
        "restored": sorted(plan.restored),
        "removed": plan.removed,
        "units_on_removed": [{"id": u["id"], "kode_wilayah": u["kode_wilayah"], "nama": u["nama"]}
                             for u in units_on_removed],
        "unchanged": plan.unchanged,
        "rejected": [{"line": line, "reason": reason} for line, _, reason in rejected],
    }


def parts_of(plan, size):
    """The plan in parts of at most `size` codes to add, rename or restore (the codes no longer
    listed, which are only marked, go with the last), in the order they are written."""
    changes = [("added", item) for item in plan.added.items()] + [("renamed", item) for item in plan.renamed.items()]
    changes += [("restored", item) for item in plan.restored.items()]
    for start in range(0, max(len(changes), 1), size):
        part = WilayahImportPlan()
        for kind, (kode, value) in changes[start:start + size]:
            getattr(part, kind)[kode] = value
        yield part if start + size < len(changes) else replace(part, removed=plan.removed)


class Progress:
    """How far `bkpm wilayah import` has come, on `stream` (stderr, so the report on stdout stays
    as it is): one line rewritten in place on a terminal, a line for each step otherwise (a log
    has no use for carriage returns)."""

    def __init__(self, stream):
        self.stream = stream
        self.terminal = stream.isatty()

    def __call__(self, done, total):
        percent = done * 100 // total if total else 100
        line = f"Mengimpor wilayah: {done:,}/{total:,} ({percent} %)".replace(",", ".")
        if self.terminal:
            self.stream.write(f"\r{line}" + ("\n" if done >= total else ""))
        else:
            self.stream.write(f"{line}\n")
        self.stream.flush()
