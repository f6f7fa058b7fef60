"""The import of recipients as a background job, over an in-memory store: a file cut into parts of
whole CSV records, taken batch by batch, each batch written with the job's progress at once, so a
process that dies anywhere leaves a job another one finishes with every row once and the report
the synchronous import gave; who may follow a job; and what is forgotten when. No broker, no
database. And `bkpm wilayah import`, which shows how far it has come."""
import io
from datetime import timedelta

import pytest

from services.bantuan import domain, usecases
from services.bantuan.domain import csv_parts, csv_upload
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.organisasi.commands import Progress, parts_of
from services.organisasi.domain import WilayahImportPlan
from tests.nik import recipient
from tests.unit.fake_bantuan import IMPORTER, FakeBantuanRepository, import_file, now
from tests.unit.fakes import FakeOrganisasi, actor

VILLAGE = "32.73.01.1001"
PETUGAS = actor("petugas", "32.73", sub="petugas-impor")
COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")
HEADER = ",".join(COLUMNS)


@pytest.fixture
def store():
    return FakeBantuanRepository()


@pytest.fixture
def organisasi():
    organisasi = FakeOrganisasi()
    for kode in ("32", "32.73", "32.73.01", VILLAGE):
        organisasi.add_wilayah(kode)
    return organisasi


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(domain, "BATCH_ROWS", 4)


def refused(error_class, func, *args):
    with pytest.raises(error_class) as caught:
        func(*args)
    return caught.value.payload


def line(row):
    return ",".join(row.get(name, "") for name in COLUMNS)


def a_file():
    """30 rows (lines 2 to 31): 26 to take, a bad NIK on line 5, a row outside the importer's
    area on line 12, and the NIKs of lines 2 and 9 again on lines 20 and 31 (in later batches
    and parts)."""
    rows = [recipient(n) for n in range(1, 30)]
    rows[3] = {**rows[3], "nik": rows[3]["nik"][:12] + "0000"}
    rows[10] = recipient(11, village="32.04.01.1001")
    rows[18] = {**rows[0], "nama": "Penerima Lagi"}
    rows.append({**rows[7], "alamat": "Jl. Lain"})
    return "\n".join([HEADER, *map(line, rows)]) + "\n"


EXPECTED_REFUSED = [5, 12, 20, 31]


def pieces(data, size):
    """`read` of a stream that hands out at most `size` bytes at a time, as a socket does."""
    stream = io.BytesIO(data)
    return lambda wanted: stream.read(min(wanted, size))


# The parts a file is sent in

def test_parts_end_after_whole_records_and_together_are_the_file():
    text = "".join(f'{n},"Jl. Melati\nNo. {n}",Ibu Sri Åsa\n' for n in range(200)).encode()
    parts = list(csv_parts(pieces(text, 7), part_bytes=100, max_bytes=1000))
    assert b"".join(parts) == text and len(parts) > 10
    for part in parts:
        assert part.endswith(b"\n") and part.count(b'"') % 2 == 0
        part.decode("utf-8")
        assert part.split(b",", 1)[0].isdigit()  # begins with a record


def test_a_record_that_never_ends_is_cut_without_cutting_a_character():
    text = ('a,b\n"' + "é" * 3000).encode()
    parts = list(csv_parts(pieces(text, 333), part_bytes=500, max_bytes=2000))
    assert b"".join(parts) == text
    assert all(len(part) <= 2000 + 500 for part in parts) and len(parts) > 2
    for part in parts:
        part.decode("utf-8")


def test_the_header_comes_apart_from_the_parts():
    header, parts = csv_upload(pieces(b"\xef\xbb\xbfnik;nama\r\n1;A\r\n2;B\r\n", 4), part_bytes=5, max_bytes=20)
    assert header == b"\xef\xbb\xbfnik;nama\r" and b"".join(parts) == b"1;A\r\n2;B\r\n"
    header, parts = csv_upload(io.BytesIO(b"").read)
    assert header == b"" and list(parts) == []


# The job, from upload to report

def test_a_job_in_many_parts_and_batches_reports_what_one_synchronous_import_did(store, organisasi, small_batches):
    job = import_file(PETUGAS, a_file(), store, organisasi, part_bytes=300)
    assert store.tables["impor_bagian"] == {}, "the parts are forgotten once the job is done"
    assert (job["status"], job["jenis"], job["oleh"]) == ("selesai", "impor_penerima", PETUGAS.sub)
    assert (job["jumlah_baris"], job["diproses"], job["ditambahkan"], job["sudah_ada"], job["jumlah_ditolak"]) == (
        30, 30, 26, 0, 4)
    report = job["laporan"]
    assert (report["jumlah_baris"], report["ditambahkan"], report["sudah_ada"]) == (30, 26, 0)
    assert [row["baris"] for row in report["ditolak"]] == EXPECTED_REFUSED == [row["baris"] for row in job["ditolak"]]
    reasons = {row["baris"]: row["alasan"] for row in report["ditolak"]}
    assert reasons[12] == "kode_wilayah: 32.04.01.1001 di luar wilayah Anda"
    assert reasons[20] == reasons[31] == "nik: muncul lebih dari sekali dalam berkas"
    assert len(store.rows("penerima")) == 26
    [entry] = store.audit_trail("impor")
    assert (entry["oleh"], entry["kode_wilayah"], entry["baru"]) == (
        PETUGAS.sub, "32.73", {"jumlah_baris": 30, "ditambahkan": 26, "sudah_ada": 0, "ditolak": 4})

    again = import_file(PETUGAS, a_file(), store, organisasi, part_bytes=300)["laporan"]
    assert (again["ditambahkan"], again["sudah_ada"], [r["baris"] for r in again["ditolak"]]) == (
        0, 26, EXPECTED_REFUSED)


def test_a_job_is_queued_when_its_upload_ends_and_keeps_no_nik_in_the_clear(store, organisasi):
    header, parts = csv_upload(io.BytesIO(a_file().encode()).read, 300, 1200)
    job_id = usecases.mulai_impor_penerima(PETUGAS, header.decode(), store)
    refused(NotFound, usecases.get_pekerjaan, PETUGAS, job_id, store)  # still being sent
    count = 0
    for count, part in enumerate(parts, start=1):
        usecases.tambah_bagian_impor(PETUGAS, job_id, count, part.decode(), store)
    usecases.tambah_bagian_impor(PETUGAS, job_id, count, "sent twice\n", store)  # kept once
    queued = usecases.selesaikan_unggahan_impor(PETUGAS, job_id, count, store)
    assert (queued["status"], queued["jumlah_baris"], queued["diproses"], queued["laporan"]) == ("antri", 30, 0, None)

    with pytest.raises(Killed):
        usecases.jalankan_impor(store, organisasi, usecases.Pemroses("tes", 30, 3600, after_batch=stop_after(1)))
    kept = str(store.tables["impor_nik"]) + str(store.tables["pekerjaan"])
    assert recipient(1)["nik"] not in kept and store.tables["impor_nik"]
    while usecases.jalankan_impor(store, organisasi, IMPORTER):
        pass
    assert store.tables["impor_nik"] == {} and "garam" not in store.pekerjaan(job_id)


def test_parts_come_in_order_from_the_one_who_began_the_upload(store):
    job_id = usecases.mulai_impor_penerima(PETUGAS, HEADER, store)
    payload = refused(Conflict, usecases.tambah_bagian_impor, PETUGAS, job_id, 2, line(recipient(1)) + "\n", store)
    assert payload["code"] == "unggahan_tidak_urut"
    refused(NotFound, usecases.tambah_bagian_impor, actor("petugas", "32.73", sub="lain"), job_id, 1, "x\n", store)
    usecases.tambah_bagian_impor(PETUGAS, job_id, 1, line(recipient(1)) + "\n", store)
    payload = refused(Conflict, usecases.selesaikan_unggahan_impor, PETUGAS, job_id, 2, store)
    assert payload["code"] == "unggahan_tidak_lengkap"
    usecases.selesaikan_unggahan_impor(PETUGAS, job_id, 1, store)
    refused(NotFound, usecases.tambah_bagian_impor, PETUGAS, job_id, 2, "x\n", store)  # queued: no more parts


def test_a_header_without_the_required_columns_is_refused_at_once(store):
    payload = refused(InvalidInput, usecases.mulai_impor_penerima, PETUGAS, "nik;nama;alamat", store)
    assert payload["errors"] == {"csv": ["Kolom wajib tidak ada: jenis_kelamin, kode_wilayah, no_kk, tanggal_lahir."]}
    refused(Forbidden, usecases.mulai_impor_penerima, actor("pemantau", "32.73"), HEADER, store)
    assert store.tables["pekerjaan"] == {}


# Crashes and holds

class Killed(BaseException):
    """A process dying where it stands (BaseException: nothing on the way catches it)."""


def stop_after(batches):
    done = []

    def after_batch(job):
        done.append(job)
        if len(done) == batches:
            raise Killed()
    return after_batch


def uploaded(store, text, part_bytes=domain.PART_BYTES):
    header, parts = csv_upload(io.BytesIO(text.encode()).read, part_bytes, 4 * part_bytes)
    job_id = usecases.mulai_impor_penerima(PETUGAS, header.decode(), store)
    count = 0
    for count, part in enumerate(parts, start=1):
        usecases.tambah_bagian_impor(PETUGAS, job_id, count, part.decode(), store)
    usecases.selesaikan_unggahan_impor(PETUGAS, job_id, count, store)
    return job_id


def run_out_the_hold(store, job_id):
    store.tables["pekerjaan"][job_id]["sampai"] = now() - timedelta(seconds=1)


def finish(store, organisasi, importer, job_id):
    while usecases.jalankan_impor(store, organisasi, importer):
        pass
    return usecases.get_pekerjaan(PETUGAS, job_id, store)


def test_a_process_killed_between_batches_leaves_a_job_another_finishes_once(store, organisasi, small_batches):
    job_id = uploaded(store, a_file())
    dying = usecases.Pemroses("mati", 30, 3600, after_batch=stop_after(3))
    with pytest.raises(Killed):
        usecases.jalankan_impor(store, organisasi, dying)
    left = usecases.get_pekerjaan(PETUGAS, job_id, store)
    assert (left["status"], left["diproses"]) == ("berjalan", 12)
    assert [row["baris"] for row in left["ditolak"]] == [5, 12]  # refused so far

    other = usecases.Pemroses("lain", 30, 3600)
    assert not usecases.jalankan_impor(store, organisasi, other), "held until the dead process's hold runs out"
    run_out_the_hold(store, job_id)
    job = finish(store, organisasi, other, job_id)
    assert (job["status"], job["diproses"], job["ditambahkan"], job["sudah_ada"]) == ("selesai", 30, 26, 0)
    assert [row["baris"] for row in job["laporan"]["ditolak"]] == EXPECTED_REFUSED
    niks = [p["nik"] for p in store.rows("penerima")]
    assert len(niks) == len(set(niks)) == 26
    assert len(store.audit_trail("impor")) == 1


def test_a_process_killed_inside_a_batch_leaves_nothing_of_it(store, organisasi, small_batches, monkeypatch):
    job_id = uploaded(store, a_file())
    writes = []
    real = store.advance_impor

    def dies_in_the_third(*args):
        writes.append(args)
        if len(writes) == 3:
            raise Killed()  # the transaction never commits
        return real(*args)
    monkeypatch.setattr(store, "advance_impor", dies_in_the_third)
    with pytest.raises(Killed):
        usecases.jalankan_impor(store, organisasi, IMPORTER)
    assert len(store.rows("penerima")) == 7 and store.pekerjaan(job_id)["diproses"] == 8  # two batches
    monkeypatch.undo()

    run_out_the_hold(store, job_id)
    job = finish(store, organisasi, usecases.Pemroses("lain", 30, 3600), job_id)
    assert (job["diproses"], job["ditambahkan"], job["jumlah_ditolak"]) == (30, 26, 4)
    assert len(store.rows("penerima")) == 26


def test_a_process_whose_hold_ran_out_writes_nothing_more(store, organisasi, small_batches):
    job_id = uploaded(store, a_file())
    slow = store.take_impor("lambat", 30)
    run_out_the_hold(store, job_id)
    finish(store, organisasi, usecases.Pemroses("lain", 30, 3600), job_id)
    before = (len(store.rows("penerima")), len(store.audit_trail("impor")))
    batch = list(usecases.part_records(slow, {"teks": a_file().split("\n", 1)[1], "baris_awal": 2}))[:4]
    with pytest.raises(usecases.HoldLost):
        usecases.import_batch(slow, batch, False, store, organisasi, usecases.Pemroses("lambat", 30, 3600))
    assert (len(store.rows("penerima")), len(store.audit_trail("impor"))) == before


def test_turns_end_in_time_and_the_next_goes_on(store, organisasi, small_batches):
    job_id = uploaded(store, a_file())
    ticks = iter(range(1000))
    short = usecases.Pemroses("tes", 30, turn_seconds=2, clock=lambda: next(ticks))
    assert usecases.jalankan_impor(store, organisasi, short)
    assert store.pekerjaan(job_id)["diproses"] == 4  # one batch a turn, by this clock
    assert finish(store, organisasi, short, job_id)["status"] == "selesai"


def test_a_job_whose_part_went_missing_fails_with_its_reason(store, organisasi):
    job_id = uploaded(store, a_file(), part_bytes=300)
    del store.tables["impor_bagian"][(job_id, 2)]
    job = finish(store, organisasi, IMPORTER, job_id)
    assert job["status"] == "gagal" and job["laporan"] is None
    assert job["alasan"].startswith("Bagian 2 berkas tidak ditemukan lagi")
    assert job["diproses"] > 0 and len(store.audit_trail("impor")) == 1  # what it did take is audited
    assert store.tables["impor_bagian"] == {}


# Who follows a job, and what they see

def test_the_owner_and_the_managers_of_the_area_follow_a_job_and_no_one_else(store, organisasi):
    job_id = import_file(PETUGAS, a_file(), store, organisasi)["id"]
    for reader in (PETUGAS, actor("pengurus", "32.73"), actor("admin", "32"), actor("admin")):
        assert usecases.get_pekerjaan(reader, job_id, store)["id"] == job_id
    for stranger in (actor("petugas", "32.73", sub="petugas-lain"), actor("pengurus", "32.04"),
                     actor("pemantau", "32.73")):
        payload = refused(NotFound, usecases.get_pekerjaan, stranger, job_id, store)
        assert payload["detail"] == f"Tidak ada pekerjaan {job_id}."
    refused(NotFound, usecases.get_pekerjaan, PETUGAS, "tidak-ada", store)


def test_the_view_lists_the_first_refused_rows_and_the_report_all(store, organisasi, monkeypatch):
    monkeypatch.setattr(domain, "REFUSED_SHOWN", 2)
    job = import_file(PETUGAS, a_file(), store, organisasi)
    assert [row["baris"] for row in job["ditolak"]] == [5, 12] and job["jumlah_ditolak"] == 4
    assert [row["baris"] for row in job["laporan"]["ditolak"]] == EXPECTED_REFUSED


# Forgetting

def test_old_jobs_and_abandoned_uploads_are_forgotten(store, organisasi):
    done = import_file(PETUGAS, a_file(), store, organisasi)["id"]
    recent = import_file(PETUGAS, a_file(), store, organisasi)["id"]
    abandoned = usecases.mulai_impor_penerima(PETUGAS, HEADER, store)
    usecases.tambah_bagian_impor(PETUGAS, abandoned, 1, line(recipient(1)) + "\n", store)
    store.tables["impor_bagian"][(recent, 9)] = {"id": (recent, 9)}  # left by a process killed as the job ended
    store.tables["pekerjaan"][done]["selesai"] -= domain.JOB_KEPT + timedelta(minutes=1)

    usecases.lupakan_impor_lama(store, now())
    assert set(store.tables["pekerjaan"]) == {recent, abandoned}
    assert {key[0] for key in store.tables["impor_ditolak"]} == {recent}
    assert (abandoned, 1) in store.tables["impor_bagian"] and (recent, 9) not in store.tables["impor_bagian"]

    usecases.lupakan_impor_lama(store, now() + domain.UPLOAD_ABANDONED + timedelta(minutes=1))
    assert set(store.tables["pekerjaan"]) == {recent} and store.tables["impor_bagian"] == {}


# `bkpm wilayah import` shows how far it has come

def test_the_area_import_is_written_in_parts_with_the_retired_codes_last():
    plan = WilayahImportPlan(added={f"11.{n:02d}": "K" for n in range(1, 6)}, renamed={"12": ("Lama", "Baru")},
                             restored={"13": "Pulih"}, removed=["14", "15"], unchanged=3)
    parts = list(parts_of(plan, 3))
    assert [(len(p.added), len(p.renamed), len(p.restored), p.removed) for p in parts] == [
        (3, 0, 0, []), (2, 1, 0, []), (0, 0, 1, ["14", "15"])]
    [only] = parts_of(WilayahImportPlan(removed=["16"], unchanged=9), 3)
    assert (only.added, only.removed) == ({}, ["16"])


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_writes_lines_in_a_log():
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(stream)
        for done in (45_000, 91_599):
            progress(done, 91_599)
    assert terminal.getvalue() == ("\rMengimpor wilayah: 45.000/91.599 (49 %)"
                                   "\rMengimpor wilayah: 91.599/91.599 (100 %)\n")
    assert log.getvalue() == "Mengimpor wilayah: 45.000/91.599 (49 %)\nMengimpor wilayah: 91.599/91.599 (100 %)\n"
