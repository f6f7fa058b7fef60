"""The bantuan service's use cases: programs, their recipients, and distributions that are fair
under concurrency, each written down in the audit trail.

Each is a plain function of the caller, the validated input, the store (the repository with its
unit of work) and the services it asks (organisasi, kegiatan). Framework-free: called by the
entrypoints (services/bantuan/service.py) and by the unit tests with fakes."""
import csv
import io

from marshmallow import ValidationError

from services.bantuan import domain
from services.bantuan.domain import IMPOR, PENERIMA, PENYALURAN, PROGRAM
from services.bantuan.schemas import (AuditSchema, ImporLaporanSchema, PenerimaBaruSchema, PenerimaSchema,
                                      PenyaluranSchema, ProgramSchema, RekapProgramSchema)
from services.common.access import within
from services.common.access_log import record_read
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, changed_meanwhile
from services.common.schema import instance
from services.common.unit_of_work import DuplicateKey
from services.common.usecase import found, found_in_area, page_in_area
from services.common.wilayah import area_problem
from services.organisasi.lookups import known_unit

CSV_COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")
RECORDER_REFUSAL = "Peran Anda tidak berwenang mencatat bantuan."
# How often a distribution is tried when another one to the same household created its lock
# document at the same moment (the store's unit of work retries other transient conflicts).
HOUSEHOLD_LOCK_TRIES = 3
# A recipient's personal data, whole only for one record to those who record aid.
PERSONAL_FIELDS = ("nik", "no_kk", "telepon", "tanggal_lahir")


# What callers see

def program_view(program):
    return instance(ProgramSchema).dump(program)


def shown_whole(actor, in_list=False):
    return not in_list and actor.has_role(domain.ROLES_PENCATAT)


def penerima_view(actor, penerima, in_list=False):
    """NIK, No. KK and phone are personal data: whole only for one record to those who record
    aid, masked in every list and for everyone else; none at all once erased."""
    if penerima.get("dihapus"):
        penerima = {**penerima, "nik": None}  # it holds the record's own id (domain.erasure)
    elif not shown_whole(actor, in_list):
        # The birth date goes too: with the area code it would give back most of the NIK.
        penerima = {**penerima, "nik": domain.mask_number(penerima["nik"]),
                    "no_kk": domain.mask_number(penerima["no_kk"]),
                    "telepon": domain.mask_number(penerima.get("telepon")), "tanggal_lahir": None}
    return instance(PenerimaSchema).dump(penerima)


def penyaluran_view(penyaluran):
    return instance(PenyaluranSchema).dump({**penyaluran, "no_kk": domain.mask_number(penyaluran["no_kk"])})


# Who may do what, where

def require_program_manager(actor, kode):
    actor.require_role(domain.ROLES_PROGRAM, kode, "Peran Anda tidak berwenang mengelola program.")


def require_recorder(actor, kode):
    actor.require_role(domain.ROLES_PENCATAT, kode, RECORDER_REFUSAL)


def recorded_here(actor, record, label, record_id):
    """A recipient or distribution a recorder acts on: 403 for a role that records nothing,
    then 404 for one outside the caller's area, as for one that does not exist."""
    if not actor.has_role(domain.ROLES_PENCATAT):
        raise Forbidden(RECORDER_REFUSAL)
    return found_in_area(actor, record, label, record_id)


def visible_program(actor, program_id, store):
    """The program, if the caller sees it: from an area it reaches (domain.reaches), or as one
    who covers the unit running it; 404 or 403 otherwise."""
    program = found(store.program(program_id), "Program", program_id)
    if not domain.reaches(program, actor.wilayah):
        actor.require_covers(program["unit_kode"])
    return program


def visible_penerima(actor, penerima_id, store):
    return found_in_area(actor, store.penerima(penerima_id), "Penerima", penerima_id)


def named_if_in_area(actor, record, member):
    """`{member: record's id}` for a refusal to name a record by, if the caller may open it;
    nothing for one elsewhere, whose id would tell them where a citizen or household is."""
    return {member: record["id"]} if record and actor.covers(record["kode_wilayah"]) else {}


def area_problems(organisasi, codes):
    """What is wrong with each of `codes` as an area aid is given in (listed and current, as
    services.common.wilayah words it), by code; the codes that are fine are left out."""
    codes = sorted(set(codes))
    listed = {wilayah["kode"]: wilayah for wilayah in organisasi.list_wilayah(codes)}
    problems = {kode: area_problem(listed.get(kode), kode) for kode in codes}
    return {kode: problem for kode, problem in problems.items() if problem}


def require_current_areas(organisasi, codes, field):
    problems = area_problems(organisasi, codes)
    if problems:
        raise InvalidInput({field: list(problems.values())})


# Lookups for other services

def get_program_ringkas(program_id, store):
    """For other services: a program's id, kind, unit and status, or None."""
    program = store.program(program_id)
    return program_view(program) if program else None


def get_kontak_penerima(penerima_id, store, reader):
    """For notifikasi: a recipient's name and phone, or None; the read is logged."""
    penerima = store.penerima(penerima_id)
    if penerima is None or penerima.get("dihapus"):
        return None
    record_read(store, reader, [(PENERIMA, penerima["id"], penerima["kode_wilayah"],
                                 {"telepon": penerima.get("telepon")})])
    return {"id": penerima["id"], "nama": penerima["nama"], "telepon": penerima.get("telepon")}


# Programs

def buat_program(actor, data, store, organisasi):
    """A program in draft, run by a unit the caller manages, aimed at current areas inside the
    unit's own; exclusivity binds both programs, so only with programs the caller manages too."""
    domain.check_program(data)
    require_program_manager(actor, actor.wilayah)
    unit = known_unit(organisasi, data["unit_id"])
    require_program_manager(actor, unit["kode_wilayah"])
    outside = [code for code in data["wilayah_sasaran"] if not within(code, unit["kode_wilayah"])]
    if outside:
        raise InvalidInput({"wilayah_sasaran": [f"Di luar wilayah unit: {', '.join(outside)}."]})
    require_current_areas(organisasi, data["wilayah_sasaran"], "wilayah_sasaran")
    others = store.programs(data["eksklusif_dengan"])
    unknown = set(data["eksklusif_dengan"]) - {p["id"] for p in others}
    if unknown:
        raise InvalidInput({"eksklusif_dengan": [f"Program tidak ditemukan: {', '.join(sorted(unknown))}."]})
    for other in others:
        require_program_manager(actor, other["unit_kode"])

    def create(tx):
        program = store.insert_program(tx, {**data, "unit_kode": unit["kode_wilayah"]})
        tx.emit("program.dibuat", f"program/{program['id']}", program, program["unit_kode"])
        store.audit(tx, PROGRAM, program["id"], "dibuat", actor.sub, None, program_view(program))
        return program

    return program_view(store.uow.commit(create))


def get_program(actor, program_id, store):
    return program_view(visible_program(actor, program_id, store))


def list_program(actor, query, store):
    """Programs seen from the caller's area (domain.reaches)."""
    return page_in_area(actor, query, store.find_programs, lambda programs: [program_view(p) for p in programs],
                        filters=("status", "jenis", "unit_id"))


def aktifkan_program(actor, program_id, store):
    return move_program(actor, program_id, "aktifkan", store)


def tutup_program(actor, program_id, store):
    return move_program(actor, program_id, "tutup", store)


def move_program(actor, program_id, action, store):
    """Take the program's lifecycle step `action` (domain.PROGRAM_LIFECYCLE), unless someone
    else moved it first."""
    program = visible_program(actor, program_id, store)
    require_program_manager(actor, program["unit_kode"])
    step = domain.PROGRAM_LIFECYCLE.next(program["status"], action)

    def move(tx):
        moved = store.move_program(tx, program_id, step.allowed_from, step.target)
        if moved is not None:
            tx.emit(step.event, f"program/{program_id}", moved, moved["unit_kode"])
            store.audit(tx, PROGRAM, program_id, action, actor.sub, {"status": program["status"]},
                        {"status": step.target})
        return moved

    moved = store.uow.commit(move)
    if moved is None:
        current = store.program(program_id)["status"]
        domain.PROGRAM_LIFECYCLE.next(current, action)  # the usual 409 when the step is no longer allowed
        raise changed_meanwhile("Program", current)
    return program_view(moved)


def get_rekap_program(actor, program_id, store):
    """Quota, distributed and left, and the active distributions per area and per proof."""
    program = visible_program(actor, program_id, store)
    per_village, per_proof = store.distribution_counts(program_id)
    return instance(RekapProgramSchema).dump({"program_id": program_id, "kuota": program["kuota"],
                                              "tersalur": program["tersalur"], "sisa": program["sisa"],
                                              "per_wilayah": domain.roll_up(per_village), "per_bukti": per_proof})


# Recipients

def daftarkan_penerima(actor, data, store, organisasi):
    """One record per NIK, in a current village the caller records aid in."""
    domain.check_penerima(data)
    require_recorder(actor, data["kode_wilayah"])
    require_current_areas(organisasi, [data["kode_wilayah"]], "kode_wilayah")

    def register(tx):
        penerima = store.insert_penerima(tx, {**data, "dicatat_oleh": actor.sub})
        store.audit(tx, PENERIMA, penerima["id"], "didaftarkan", actor.sub, None,
                    {"kode_wilayah": penerima["kode_wilayah"]})
        return penerima

    try:
        return penerima_view(actor, store.uow.commit(register))
    except DuplicateKey:
        registered = store.penerima_by_nik(data["nik"])
        raise Conflict("NIK ini sudah terdaftar.", code="nik_sudah_terdaftar",
                       **named_if_in_area(actor, registered, "penerima_id")) from None


def impor_penerima(actor, csv_text, store, organisasi):
    """A CSV of recipients (header: nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,
    alamat[,telepon]). Each row is taken or refused with its reason; one bad row never stops
    the rest; a NIK already registered is left as it is, so the same file twice adds nothing."""
    actor.require_role(domain.ROLES_PENCATAT, actor.wilayah, "Peran Anda tidak berwenang mencatat penerima.")
    rows, rejected = read_rows(actor, csv_text)
    read = len(rows) + len(rejected)
    problems = area_problems(organisasi, [row["kode_wilayah"] for _, row in rows])
    accepted = []
    for line, row in rows:
        if row["kode_wilayah"] in problems:
            rejected.append({"baris": line, "alasan": f"kode_wilayah: {problems[row['kode_wilayah']]}"})
        else:
            accepted.append({**row, "dicatat_oleh": actor.sub})
    added = store.insert_many_penerima(accepted)
    report = {"jumlah_baris": read, "ditambahkan": added, "sudah_ada": len(accepted) - added,
              "ditolak": sorted(rejected, key=lambda r: r["baris"])}
    # Every row taken lies in the importer's area: the entry is read by those who cover it
    # (list_jejak_audit_impor).
    store.uow.commit(lambda tx: store.audit(
        tx, PENERIMA, IMPOR, "diimpor", actor.sub, None,
        {key: report[key] for key in ("jumlah_baris", "ditambahkan", "sudah_ada")} | {"ditolak": len(rejected)},
        kode_wilayah=actor.wilayah))
    return instance(ImporLaporanSchema).dump(report)


def read_rows(actor, csv_text):
    """The file's valid rows in the caller's area as (line, row), and the refused ones with
    their reason. A comma or, as spreadsheets in the Indonesian locale save, a semicolon."""
    text = (csv_text or "").lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        fieldnames = reader.fieldnames or ()
    except csv.Error:
        raise InvalidInput({"csv": ["Baris judul CSV tidak dapat dibaca."]}) from None
    missing = set(CSV_COLUMNS[:-1]) - {name.strip().lower() for name in fieldnames}
    if missing:
        raise InvalidInput({"csv": [f"Kolom wajib tidak ada: {', '.join(sorted(missing))}."]})
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    rows, rejected, seen = [], [], set()
    for line, raw in csv_records(reader, rejected):
        values = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS if (raw.get(k) or "").strip()}
        try:
            row = instance(PenerimaBaruSchema).load(values)
            domain.check_penerima(row)
        except (ValidationError, InvalidInput) as exc:
            errors = exc.messages if isinstance(exc, ValidationError) else exc.payload["errors"]
            rejected.append({"baris": line, "alasan": "; ".join(f"{field}: {' '.join(map(str, msgs))}"
                                                                for field, msgs in errors.items())})
            continue
        if not actor.covers(row["kode_wilayah"]):
            rejected.append({"baris": line, "alasan": f"kode_wilayah: {row['kode_wilayah']} di luar wilayah Anda"})
        elif row["nik"] in seen:
            rejected.append({"baris": line, "alasan": "nik: muncul lebih dari sekali dalam berkas"})
        else:
            seen.add(row["nik"])
            rows.append((line, row))
    return rows, rejected


def csv_records(reader, rejected):
    """(line, record) for each readable record; an unreadable one is reported and skipped, so
    one broken row never stops the rest. The line is where the record ends in the file."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rejected.append({"baris": reader.line_num, "alasan": f"baris CSV tidak dapat dibaca ({exc})"})
            continue
        yield reader.line_num, record


def get_penerima(actor, penerima_id, store, reader):
    """One recipient; a read of their whole NIK, No. KK and phone is logged."""
    penerima = visible_penerima(actor, penerima_id, store)
    if shown_whole(actor):
        record_read(store, reader, [(PENERIMA, penerima["id"], penerima["kode_wilayah"],
                                     {name: penerima.get(name) for name in PERSONAL_FIELDS})])
    return penerima_view(actor, penerima)


def list_penerima(actor, query, store):
    """Recipients in the caller's area, masked; who belongs to a family card (`no_kk`) only for
    those who record aid."""
    if "no_kk" in query:
        require_recorder(actor, actor.wilayah)
    return page_in_area(actor, query, store.find_penerima,
                        lambda records: [penerima_view(actor, p, in_list=True) for p in records], filters=("no_kk",))


def list_penerima_menurut_nomor(actor, query, store, reader):
    """The recipients in the caller's area with the NIK or No. KK the query gives, masked as in
    every list, for those who record aid. The answer ties the whole number the caller typed to
    a named person, so each record found is logged as a read of that number."""
    require_recorder(actor, actor.wilayah)
    number = "nik" if "nik" in query else "no_kk"

    def shown(records):
        record_read(store, reader, [(PENERIMA, p["id"], p["kode_wilayah"], {number: p.get(number)}) for p in records])
        return [penerima_view(actor, p, in_list=True) for p in records]

    return page_in_area(actor, query, store.find_penerima, shown, filters=(number,))


def hapus_penerima(actor, penerima_id, data, store):
    """Erase a recipient on their request (UU No. 27/2022), by an admin of their area: their
    personal data leaves the record and the audit trail; the record (id, area) and its
    distributions stay, so the quota and the audit still add up. The services that copied their
    contacts hear `penerima.dihapus`. 409 once erased."""
    if not actor.has_role(domain.ROLES_PENGHAPUS):
        raise Forbidden("Hanya admin yang dapat menghapus data penerima.")
    visible_penerima(actor, penerima_id, store)

    def erase(tx):
        erased = store.erase_penerima(tx, penerima_id, domain.erasure(penerima_id), actor.sub)
        if erased is not None:
            store.scrub_audit(tx, penerima_id, domain.PERSONAL_DATA)
            store.audit(tx, PENERIMA, penerima_id, "dihapus", actor.sub, None, {"alasan": data["alasan"]})
            tx.emit("penerima.dihapus", f"penerima/{penerima_id}", erased, erased["kode_wilayah"])
        return erased

    erased = store.uow.commit(erase)
    if erased is None:
        raise Conflict("Data penerima ini sudah dihapus.", code="sudah_dihapus")
    return penerima_view(actor, erased)


# Distributions

def catat_penyaluran(actor, data, store, kegiatan):
    """One household (No. KK) receives a program once, within its quota, and never together
    with a program that excludes it in an overlapping period; the database holds the counts."""
    program = store.program(data["program_id"])
    if program is None:
        raise InvalidInput({"program_id": [f"Program {data['program_id']} tidak ditemukan."]})
    penerima = recorded_here(actor, store.penerima(data["penerima_id"]), "Penerima", data["penerima_id"])
    domain.check_distribution(program, penerima, data["tanggal"])
    if data.get("kegiatan_id"):
        activity = kegiatan.get_kegiatan_ringkas(data["kegiatan_id"])
        if activity is None or activity["jenis"] != "bantuan_sosial" or activity["program_id"] != program["id"]:
            raise InvalidInput({"kegiatan_id": ["Bukan kegiatan bantuan sosial untuk program ini."]})
    record = {**data, "no_kk": penerima["no_kk"], "kode_wilayah": penerima["kode_wilayah"],
              "dicatat_oleh": actor.sub}

    def distribute(tx):
        store.lock_household(tx, penerima["no_kk"])
        other = domain.exclusive_conflict(program, store.programs_received(tx, penerima["no_kk"]))
        if other is not None:
            raise Conflict(f"Keluarga ini sudah menerima program '{other['nama']}', yang tidak boleh diterima "
                           "bersamaan dengan program ini.", code="program_eksklusif", program_lain_id=other["id"])
        taken = store.take_quota(tx, program["id"])
        if taken is None:
            raise Conflict("Kuota program sudah habis.", code="kuota_habis", program_id=program["id"])
        penyaluran = store.insert_penyaluran(tx, record)
        tx.emit("penyaluran.dicatat", f"penyaluran/{penyaluran['id']}", penyaluran, penyaluran["kode_wilayah"])
        if taken["sisa"] == 0 and store.mark_quota_exhausted(tx, program["id"]):
            tx.emit("kuota.habis", f"program/{program['id']}",
                    {"program_id": program["id"], "nama": program["nama"], "unit_id": program["unit_id"],
                     "kuota": program["kuota"]},
                    program["unit_kode"])
        store.audit(tx, PENYALURAN, penyaluran["id"], "dicatat", actor.sub, None,
                    {"status": "aktif", "program_id": program["id"], "penerima_id": penerima["id"]})
        return penyaluran

    for _ in range(HOUSEHOLD_LOCK_TRIES):
        try:
            return penyaluran_view(store.uow.commit(distribute))
        except DuplicateKey as exc:
            if "program_id" in exc.fields:
                earlier = store.active_penyaluran(program["id"], penerima["no_kk"])
                raise Conflict("Keluarga (No. KK) ini sudah menerima bantuan dari program ini.",
                               code="sudah_menerima", **named_if_in_area(actor, earlier, "penyaluran_id")) from None
            # Two first distributions to one household created its lock document at once: it
            # exists now, so the next try queues behind the other.
    raise Unavailable("Penyaluran tidak dapat dicatat saat ini; coba lagi.")


def batalkan_penyaluran(actor, penyaluran_id, data, store):
    """Cancelling frees the quota and the household's slot; nothing is deleted."""
    recorded_here(actor, store.penyaluran(penyaluran_id), "Penyaluran", penyaluran_id)

    def cancel(tx):
        cancelled = store.cancel_penyaluran(tx, penyaluran_id, {"alasan_batal": data["alasan"],
                                                                "dibatalkan_oleh": actor.sub})
        if cancelled is not None:
            store.give_back_quota(tx, cancelled["program_id"])
            tx.emit("penyaluran.dibatalkan", f"penyaluran/{penyaluran_id}", cancelled, cancelled["kode_wilayah"])
            store.audit(tx, PENYALURAN, penyaluran_id, "dibatalkan", actor.sub, {"status": "aktif"},
                        {"status": "batal", "alasan_batal": data["alasan"]})
        return cancelled

    cancelled = store.uow.commit(cancel)
    if cancelled is None:
        raise Conflict("Penyaluran ini sudah dibatalkan.", code="sudah_dibatalkan")
    return penyaluran_view(cancelled)


def list_penyaluran(actor, query, store):
    """Distributions in the caller's area, No. KK masked."""
    return page_in_area(actor, query, store.find_penyaluran, lambda records: [penyaluran_view(p) for p in records],
                        filters=("program_id", "penerima_id", "status"))


def list_jejak_audit(actor, entitas_id, store):
    """Who did what when to a program, recipient or distribution, with old and new values.
    Whatever is outside the caller's area is not found, as what does not exist (an id of a
    recipient or a distribution says nothing of where they are)."""
    require_audit_reader(actor)
    area = store.area_of(entitas_id)
    if area is False or not actor.covers(area):
        raise NotFound(f"Tidak ada program, penerima atau penyaluran {entitas_id}.")
    return instance(AuditSchema).dump(store.audit_trail(entitas_id), many=True)


def list_jejak_audit_impor(actor, query, store):
    """The imports of recipients done in the caller's area (by whom, when, how many rows were
    taken or refused), newest first; an import done from above the caller's area is not theirs
    to see, as its rows may lie elsewhere too."""
    require_audit_reader(actor)
    return page_in_area(actor, query, store.find_audit_impor,
                        lambda entries: instance(AuditSchema).dump(entries, many=True))


def require_audit_reader(actor):
    if not actor.has_role(domain.ROLES_PROGRAM):
        raise Forbidden("Peran Anda tidak berwenang melihat jejak audit.")
