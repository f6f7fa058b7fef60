"""The bantuan service's use cases: programs, their recipients, and distributions that are fair
under concurrency, each written down in the audit trail.

Each is a plain function of the caller, the validated input, the store (the repository with its
unit of work) and the services it asks (organisasi, kegiatan). Framework-free: called by the
entrypoints (services/bantuan/service.py) and by the unit tests with fakes."""
import csv
import io
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError

from services.bantuan import domain
from services.bantuan.domain import IMPOR, PENERIMA, PENYALURAN, PROGRAM
from services.bantuan.schemas import (AuditSchema, PekerjaanSchema, PenerimaBaruSchema, PenerimaSchema,
                                      PenyaluranSchema, ProgramSchema, RekapProgramSchema)
from services.common.access import Actor, within
from services.common import attachments
from services.common.access_log import record_read
from services.common.rincian import BULAN, WILAYAH
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, changed_meanwhile
from services.common.patch import Correction, require_version
from services.common.privacy import mask_phone_number
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
# What the audit trail shows masked of the values it keeps, each as the lists of recipients show it.
MASKED_IN_AUDIT = {"nik": domain.mask_number, "no_kk": domain.mask_number, "telepon": mask_phone_number}
# Corrections (JSON merge patches against the version the caller read: services/common/patch.py).
PROGRAM_DIUBAH = Correction(PROGRAM, domain.PROGRAM_KOREKSI, "program.diubah")
PENERIMA_DIUBAH = Correction(PENERIMA, domain.PENERIMA_KOREKSI, "penerima.diubah")


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
                    "telepon": mask_phone_number(penerima.get("telepon")), "tanggal_lahir": None}
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


def visible_program(actor, program_id, store, tx=None):
    """The program, if the caller sees it: from an area it reaches (domain.reaches), or as one
    who covers the unit running it; 404 or 403 otherwise."""
    program = found(store.program(program_id, tx), "Program", program_id)
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


def ubah_program(actor, program_id, patch, if_match, store):
    """Correct a program's quota, end date or eligibility note (a JSON merge patch) as its
    managers, against the version the caller read (`if_match`), while it is not closed. The
    quota and the distributed count live on the program's document, where a distribution takes
    a unit only while some is left: the correction sets what is left from the count it read and
    writes only if the document is still as read, so no distribution racing it goes past the
    new quota. A changed quota is a new one: a raise opens distributions again, and the board
    hears when it is all given out (`kuota.habis`), at once when lowered to what was given."""
    def correct(tx):
        before = visible_program(actor, program_id, store, tx)
        require_program_manager(actor, before["unit_kode"])
        require_version(if_match, program_view(before))
        domain.require_open(before)
        after, changes = PROGRAM_DIUBAH.apply(before, patch)
        domain.check_program_correction(before, after,
                                        "selesai" in changes and store.last_distribution_date(tx, program_id))
        if not changes:
            return before
        after["sisa"] = after["kuota"] - before["tersalur"]
        new_quota = "kuota" in changes
        if new_quota:  # announced once it is all given out (store.mark_quota_exhausted), maybe at once
            after["kuota_habis"] = after["sisa"] == 0
        PROGRAM_DIUBAH.save(tx, store, before, after, changes, f"program/{program_id}", after["unit_kode"])
        if new_quota and after["kuota_habis"]:
            announce_exhausted(tx, after)
        audit_changes(store, tx, PROGRAM, program_id, actor, changes)
        return after

    return program_view(store.uow.commit(correct))


def audit_changes(store, tx, entitas, entitas_id, actor, changes):
    """A correction in the audit trail: each changed field's old and new value."""
    store.audit(tx, entitas, entitas_id, "diubah", actor.sub,
                {name: change["lama"] for name, change in changes.items()},
                {name: change["baru"] for name, change in changes.items()})


def announce_exhausted(tx, program):
    """`kuota.habis`, to the board of the program's unit: the program's quota is all given out."""
    tx.emit("kuota.habis", f"program/{program['id']}",
            {"program_id": program["id"], "nama": program["nama"], "unit_id": program["unit_id"],
             "kuota": program["kuota"]},
            program["unit_kode"])


def get_rekap_program(actor, program_id, query, store):
    """Quota, distributed and left, and the active distributions per area and per proof,
    broken down as `rinci` asks: by the areas one level below the program's unit's, by month
    of their date, or both."""
    program = visible_program(actor, program_id, store)
    counts = store.distribution_counts(program_id)
    per_village, per_proof = domain.per_village_and_proof(counts)
    rinci = set(query.get("rinci", ()))
    rows = domain.rincian(program["unit_kode"], counts, program["mulai"], WILAYAH in rinci,
                          BULAN in rinci) if rinci else []
    return instance(RekapProgramSchema).dump({"program_id": program_id, "kuota": program["kuota"],
                                              "tersalur": program["tersalur"], "sisa": program["sisa"],
                                              "per_wilayah": domain.roll_up(per_village), "per_bukti": per_proof,
                                              "rincian": rows})


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


# Imports of recipients, in the background (domain: "Imports of recipients, as background jobs")

IMPORT_REFUSAL = "Peran Anda tidak berwenang mencatat penerima."
NOT_UPLOADING = "Tidak ada unggahan impor {}; mulai lagi dari awal."
REPEATED = "nik: muncul lebih dari sekali dalam berkas"


@dataclass(frozen=True)
class Pemroses:
    """Who runs import jobs in this process, and how: its name on the jobs it holds, how long a
    hold lasts (renewed with each batch; a process that dies lets go when it runs out), how long
    one turn may run (the service waits for a turn to end before it stops), the clock that
    measures it, what follows each batch (the entrypoint logs progress there), and where the
    checking of a batch's rows runs (`offload(work, *args)`: the service runs it beside its
    event loop, which it would otherwise hold for a good part of a second)."""
    pemegang: str
    lease_seconds: float
    turn_seconds: float
    clock: Callable[[], float] = time.monotonic
    after_batch: Callable[[dict], None] = lambda job: None
    offload: Callable = attachments.run_here


class HoldLost(Exception):
    """Another process took the job over, this one's hold having run out: what it was about to
    write is not written."""


def mulai_impor_penerima(actor, judul, store):
    """Begin an import of recipients from a CSV (header: nik,no_kk,nama,jenis_kelamin,
    tanggal_lahir,kode_wilayah,alamat[,telepon]; commas, or semicolons as spreadsheets in the
    Indonesian locale save): the header line is checked at once, so a file without the
    required columns is refused whole before any of it is sent. Returns the job's id; the
    file's parts follow (tambah_bagian_impor), then selesaikan_unggahan_impor queues it."""
    actor.require_role(domain.ROLES_PENCATAT, actor.wilayah, IMPORT_REFUSAL)
    kolom, pemisah = csv_header(judul)
    job = {"jenis": domain.JENIS_IMPOR_PENERIMA, "status": domain.MENGUNGGAH, "oleh": actor.to_dict(),
           "kode_wilayah": actor.wilayah, "kolom": kolom, "pemisah": pemisah, "garam": secrets.token_hex(16),
           "jumlah_bagian": 0, "baris_diterima": 1, "jumlah_baris": 0, "bagian": 1, "rekaman": 0, "diproses": 0,
           "ditambahkan": 0, "sudah_ada": 0, "jumlah_ditolak": 0, "alasan": None, "pemegang": None, "sampai": None,
           "selesai": None}
    return store.uow.commit(lambda tx: store.insert_impor(tx, job))["id"]


def tambah_bagian_impor(actor, pekerjaan_id, nomor, teks, store):
    """Keep part `nomor` (1, 2, ...) of the file of an upload the caller began, with how many
    lines and records it holds (the job's `jumlah_baris` once all have come). A part sent
    again is kept once."""
    job = uploading(actor, pekerjaan_id, store)
    if nomor <= job["jumlah_bagian"]:
        return
    if nomor != job["jumlah_bagian"] + 1:
        raise Conflict(f"Bagian {nomor} datang sebelum bagian {job['jumlah_bagian'] + 1}; ulangi impor.",
                       code="unggahan_tidak_urut")
    lines = sum(1 for _ in io.StringIO(teks, newline=""))
    records = sum(1 for _ in part_records(job, {"teks": teks, "baris_awal": 0}))
    if not store.uow.commit(lambda tx: store.add_bagian_impor(tx, job, teks, lines, records)):
        raise Conflict("Unggahan ini sedang diubah permintaan lain; ulangi impor.", code="unggahan_tidak_urut")


def selesaikan_unggahan_impor(actor, pekerjaan_id, jumlah_bagian, store):
    """The whole file has come, in `jumlah_bagian` parts: the job is queued (`antri`) for the
    background and shown as its owner will follow it (get_pekerjaan)."""
    job = uploading(actor, pekerjaan_id, store)
    if jumlah_bagian != job["jumlah_bagian"]:
        raise Conflict(f"Baru {job['jumlah_bagian']} dari {jumlah_bagian} bagian berkas yang diterima; ulangi impor.",
                       code="unggahan_tidak_lengkap")
    queued = store.uow.commit(lambda tx: store.queue_impor(tx, job))
    if queued is None:
        raise NotFound(NOT_UPLOADING.format(pekerjaan_id))
    return pekerjaan_view(queued, store)


def uploading(actor, pekerjaan_id, store):
    """The caller's own upload, still being sent; 404 for any other."""
    job = store.pekerjaan(pekerjaan_id)
    if job is None or job["status"] != domain.MENGUNGGAH or job["oleh"]["sub"] != actor.sub:
        raise NotFound(NOT_UPLOADING.format(pekerjaan_id))
    return job


def get_pekerjaan(actor, pekerjaan_id, store):
    """A background job, for the one who started it and for the auditors of the area it was
    started in (who read its entry in the imports' audit trail too); anyone else finds none,
    as for one that does not exist."""
    job = store.pekerjaan(pekerjaan_id)
    readable = job is not None and job["status"] != domain.MENGUNGGAH and (
        job["oleh"]["sub"] == actor.sub or (actor.has_role(domain.ROLES_PROGRAM) and actor.covers(job["kode_wilayah"])))
    if not readable:
        raise NotFound(f"Tidak ada pekerjaan {pekerjaan_id}.")
    return pekerjaan_view(job, store)


def pekerjaan_view(job, store):
    """Progress, the first refused rows, and once done the report the import used to answer
    with (every refused row)."""
    refused = store.ditolak_impor(job["id"], domain.REFUSED_SHOWN)
    report = None
    if job["status"] == domain.SELESAI:
        every = refused if job["jumlah_ditolak"] <= len(refused) else store.ditolak_impor(job["id"])
        report = {**impor_counts(job), "ditolak": every}
    return instance(PekerjaanSchema).dump({**job, "oleh": job["oleh"]["sub"], "ditolak": refused, "laporan": report})


def impor_counts(job):
    return {"jumlah_baris": job["diproses"], "ditambahkan": job["ditambahkan"], "sudah_ada": job["sudah_ada"]}


def jalankan_impor(store, organisasi, pemroses):
    """One turn of the background import: take the oldest job waiting or running that no other
    process holds, and go on with it batch by batch from where it stands, until it ends or the
    turn is over (the next turn goes on). True when there was a job."""
    job = store.take_impor(pemroses.pemegang, pemroses.lease_seconds)
    if job is None:
        return False
    turn_ends = pemroses.clock() + pemroses.turn_seconds
    try:
        while pemroses.clock() < turn_ends:
            part = store.bagian_impor(job["id"], job["bagian"]) if job["bagian"] <= job["jumlah_bagian"] else None
            if part is None:
                end_impor(job, store, pemroses, None if job["bagian"] > job["jumlah_bagian"] else
                          f"Bagian {job['bagian']} berkas tidak ditemukan lagi; impor dihentikan, ulangi dengan "
                          "berkas yang sama (baris yang sudah masuk akan dilewati).")
                return True
            records = itertools.islice(part_records(job, part), job["rekaman"], None)
            for batch, last in batches(records, domain.BATCH_ROWS):
                job = import_batch(job, batch, last, store, organisasi, pemroses)
                pemroses.after_batch(job)
                if not last and pemroses.clock() >= turn_ends:
                    return True
    except HoldLost:
        pass
    return True


def import_batch(job, batch, last, store, organisasi, pemroses):
    """Write what one batch of records takes, its refused rows and the job's progress in one
    transaction, while this process still holds the job: a process killed before the commit
    left nothing of the batch, one killed after it goes on at the next. Returns the job as it
    now stands."""
    accepted, refused, seen = checked_batch(job, batch, store, organisasi, pemroses.offload)
    to = {"bagian": job["bagian"] + 1, "rekaman": 0} if last else {"rekaman": job["rekaman"] + len(batch)}

    def write(tx):
        added = store.insert_new_penerima(tx, accepted)
        store.remember_nik(tx, job["id"], seen)
        store.add_ditolak(tx, job["id"], refused)
        moved = store.advance_impor(tx, job, pemroses.pemegang, pemroses.lease_seconds, to, {
            "diproses": len(batch), "ditambahkan": added, "sudah_ada": len(accepted) - added,
            "jumlah_ditolak": len(refused)})
        if moved is None:
            raise HoldLost()
        return moved

    try:
        return store.uow.commit(write)
    except DuplicateKey:  # a NIK of the batch registered meanwhile: now found registered
        return store.uow.commit(write)


def checked_batch(job, batch, store, organisasi, offload):
    """The rows of a batch to insert, the refused ones with their reason, and the keys of the
    NIKs it takes (domain.nik_key), checked as one file: a NIK seen earlier in it, in this
    batch or an earlier one, is refused; areas are asked of organisasi once per batch."""
    actor = Actor.from_dict(job["oleh"])
    rows, refused = offload(checked_rows, actor, job["garam"], batch)
    seen = store.seen_nik(job["id"], [key for _, _, key in rows])
    fresh = []
    for line, row, key in rows:
        if key in seen:
            refused.append({"baris": line, "alasan": REPEATED})
        else:
            seen.add(key)
            fresh.append((line, row, key))
    problems = area_problems(organisasi, [row["kode_wilayah"] for _, row, _ in fresh]) if fresh else {}
    accepted = []
    for line, row, _ in fresh:
        if row["kode_wilayah"] in problems:
            refused.append({"baris": line, "alasan": f"kode_wilayah: {problems[row['kode_wilayah']]}"})
        else:
            accepted.append({**row, "dicatat_oleh": actor.sub})
    return accepted, refused, [key for _, _, key in fresh]


def checked_rows(actor, salt, batch):
    """(line, row, key of its NIK) for each valid record in the importer's area, and the
    refused ones with their reason."""
    rows, refused = [], []
    for line, raw, unreadable in batch:
        row, reason = (None, unreadable) if unreadable else checked_row(actor, raw)
        if reason:
            refused.append({"baris": line, "alasan": reason})
        else:
            rows.append((line, row, domain.nik_key(salt, row["nik"])))
    return rows, refused


def checked_row(actor, raw):
    """(row, None) for a valid record in the importer's area; (None, reason) otherwise."""
    values = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS if (raw.get(k) or "").strip()}
    try:
        row = instance(PenerimaBaruSchema).load(values)
        domain.check_penerima(row)
    except (ValidationError, InvalidInput) as exc:
        errors = exc.messages if isinstance(exc, ValidationError) else exc.payload["errors"]
        return None, "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())
    if not actor.covers(row["kode_wilayah"]):
        return None, f"kode_wilayah: {row['kode_wilayah']} di luar wilayah Anda"
    return row, None


def end_impor(job, store, pemroses, reason=None):
    """Done (`selesai`), or failed for `reason` (`gagal`): the import's entry goes in the audit
    trail with the status, so once, whatever it took; then the file's parts and the NIKs seen
    are forgotten (what a process killed in between leaves, lupakan_impor_lama forgets)."""
    def end(tx):
        ended = store.end_impor(tx, job, pemroses.pemegang, domain.GAGAL if reason else domain.SELESAI, reason)
        if ended is None:
            raise HoldLost()
        # Every row taken lies in the importer's area: the entry is read by those who cover it
        # (list_jejak_audit_impor).
        store.audit(tx, PENERIMA, IMPOR, "diimpor", job["oleh"]["sub"], None,
                    {**impor_counts(job), "ditolak": job["jumlah_ditolak"]}, kode_wilayah=job["kode_wilayah"])

    store.uow.commit(end)
    store.forget_impor_work(job["id"])


def lupakan_impor_lama(store, now):
    """Jobs ended longer than domain.JOB_KEPT ago go with their report, uploads abandoned for
    domain.UPLOAD_ABANDONED with their parts, and whatever a killed process left of the parts
    and seen NIKs of a job that ended."""
    for job_id in store.old_impor(now - domain.JOB_KEPT, now - domain.UPLOAD_ABANDONED):
        store.forget_impor(job_id)
    for job_id in store.ended_impor():
        store.forget_impor_work(job_id)


def csv_header(judul):
    """The columns and the delimiter a file's header line names: a comma or a semicolon,
    whichever it has more of. 400 when a required column is missing."""
    header = (judul or "").lstrip("\ufeff").rstrip("\r\n")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    try:
        names = next(csv.reader([header], delimiter=delimiter), [])
    except csv.Error:
        raise InvalidInput({"csv": ["Baris judul CSV tidak dapat dibaca."]}) from None
    kolom = [name.strip().lower() for name in names]
    missing = set(CSV_COLUMNS[:-1]) - set(kolom)
    if missing:
        raise InvalidInput({"csv": [f"Kolom wajib tidak ada: {', '.join(sorted(missing))}."]})
    return kolom, delimiter


def part_records(job, part):
    """(line, record, None) for each record of a part of the file, or (line, None, reason) for
    one that cannot be read, so one broken row never stops the rest. The line is where the
    record ends in the file (the header being line 1)."""
    reader = csv.DictReader(io.StringIO(part["teks"], newline=""), fieldnames=job["kolom"],
                            delimiter=job["pemisah"])
    before = part["baris_awal"] - 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield before + reader.line_num, None, f"baris CSV tidak dapat dibaca ({exc})"
            continue
        yield before + reader.line_num, record, None


def batches(records, size):
    """(batch, last): the records in lists of `size`, the last one marked (and possibly empty)."""
    batch = []
    for record in records:
        if len(batch) == size:
            yield batch, False
            batch = []
        batch.append(record)
    yield batch, True


def get_penerima(actor, penerima_id, store, reader):
    """One recipient; a read of their whole NIK, No. KK and phone is logged."""
    return shown_to_recorder(actor, visible_penerima(actor, penerima_id, store), store, reader)


def shown_to_recorder(actor, penerima, store, reader):
    """One recipient as `actor` sees them; a read of their whole numbers is logged first."""
    if shown_whole(actor):
        record_read(store, reader, [(PENERIMA, penerima["id"], penerima["kode_wilayah"],
                                     {name: penerima.get(name) for name in PERSONAL_FIELDS})])
    return penerima_view(actor, penerima)


def ubah_penerima(actor, penerima_id, patch, if_match, store, organisasi, reader):
    """Correct a recipient's name, address, phone or village (a JSON merge patch) as one who
    records aid in their area, against the version the caller read (`if_match`); never their
    NIK or No. KK (the schema refuses them), nor once erased (409). The answer shows the record
    as its GET does, so it is logged as that read is."""
    require_recorder(actor, actor.wilayah)
    if "kode_wilayah" in patch:
        # Moved only to a current village the caller records aid in, as at registration.
        if not actor.covers(patch["kode_wilayah"]):
            raise InvalidInput({"kode_wilayah": [f"{patch['kode_wilayah']} di luar wilayah Anda."]})
        require_current_areas(organisasi, [patch["kode_wilayah"]], "kode_wilayah")

    def correct(tx):
        before = recorded_here(actor, store.penerima(penerima_id, tx), "Penerima", penerima_id)
        require_version(if_match, penerima_view(actor, before))
        domain.require_not_erased(before)
        after, changes = PENERIMA_DIUBAH.apply(before, patch)
        if not changes:
            return before
        PENERIMA_DIUBAH.save(tx, store, before, after, changes, f"penerima/{penerima_id}", after["kode_wilayah"],
                             {"id": penerima_id, "kode_wilayah": after["kode_wilayah"]})
        audit_changes(store, tx, PENERIMA, penerima_id, actor, changes)
        return after

    return shown_to_recorder(actor, store.uow.commit(correct), store, reader)


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
            store.forget_answers_naming(tx, penerima_id)
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
            announce_exhausted(tx, taken)
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


# Photos and documents of a distribution (services/common/attachments.py): read by whoever sees
# distributions in its area, added and removed by those who record them (a cancelled one too),
# each in the audit trail. Outside the caller's area a distribution is not found, as elsewhere.

def tambah_lampiran(actor, penyaluran_id, data, store, offload=attachments.run_here):
    penyaluran = recorded_here(actor, store.penyaluran(penyaluran_id), "Penyaluran", penyaluran_id)
    return attachments.add(actor, _induk(penyaluran), data, store, offload,
                           then=_audit_lampiran(store, penyaluran_id, actor, added=True))


def list_lampiran(actor, penyaluran_id, query, store):
    return attachments.page(_induk(_visible_penyaluran(actor, penyaluran_id, store)), query, store)


def get_lampiran(actor, penyaluran_id, lampiran_id, store):
    return attachments.download(_induk(_visible_penyaluran(actor, penyaluran_id, store)), lampiran_id, store)


def hapus_lampiran(actor, penyaluran_id, lampiran_id, store):
    penyaluran = recorded_here(actor, store.penyaluran(penyaluran_id), "Penyaluran", penyaluran_id)
    attachments.remove(_induk(penyaluran), lampiran_id, store,
                       then=_audit_lampiran(store, penyaluran_id, actor, added=False))


def _visible_penyaluran(actor, penyaluran_id, store):
    return found_in_area(actor, store.penyaluran(penyaluran_id), "Penyaluran", penyaluran_id)


def _induk(penyaluran):
    return attachments.Induk("penyaluran", penyaluran["id"], penyaluran["kode_wilayah"],
                             penyaluran.get(attachments.COUNT, 0))


def _audit_lampiran(store, penyaluran_id, actor, added):
    """The audit entry of an attachment's coming (`added`) or going: what it is, never its name."""
    def write(tx, lampiran):
        what = {"lampiran_id": lampiran["id"], **{name: lampiran[name] for name in ("tipe", "ukuran", "sha256")}}
        store.audit(tx, PENYALURAN, penyaluran_id, "lampiran_ditambahkan" if added else "lampiran_dihapus",
                    actor.sub, None if added else what, what if added else None)
    return write


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
    return audit_view(store.audit_trail(entitas_id))


def list_jejak_audit_impor(actor, query, store):
    """The imports of recipients done in the caller's area (by whom, when, how many rows were
    taken or refused), newest first; an import done from above the caller's area is not theirs
    to see, as its rows may lie elsewhere too."""
    require_audit_reader(actor)
    return page_in_area(actor, query, store.find_audit_impor, audit_view)


def audit_view(entries):
    """Audit entries as their readers see them: a number that identifies or reaches a person (a
    corrected phone's old and new value) masked, as in every list of recipients."""
    def masked(values):
        return values and {name: MASKED_IN_AUDIT[name](value) if name in MASKED_IN_AUDIT else value
                           for name, value in values.items()}
    return instance(AuditSchema).dump([{**entry, "lama": masked(entry["lama"]), "baru": masked(entry["baru"])}
                                       for entry in entries], many=True)


def require_audit_reader(actor):
    if not actor.has_role(domain.ROLES_PROGRAM):
        raise Forbidden("Peran Anda tidak berwenang melihat jejak audit.")
