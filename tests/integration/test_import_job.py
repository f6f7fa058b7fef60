"""The import of recipients as a background job, end to end: the gateway streams the file to
bantuan in parts and answers 202 with the job's Location; the job is followed at /api/v1/jobs/{id}
by its owner and the managers of its area only; and a job whose bantuan is killed (-9) mid-run,
twice, is taken up again by the next bantuan and finishes with every valid row exactly once and
the report right."""
import os
import pty
import select
import subprocess
import sys

import pytest
import requests

from services.common.mongo import connect
from services.organisasi.commands import import_wilayah
from services.stack import free_port, ready, wait_for
from tests.nik import recipient
from tests.support import PROVINCES_CSV, ROOT, Process, by_entrypoint, start_service, token_for, wait_until

COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")
BANDUNG = ["32,Jawa Barat", "32.73,Kota Bandung", "32.73.01,Sukasari", "32.73.01.1001,Sukarasa"]


def csv_of(rows):
    return "\n".join([",".join(COLUMNS), *(",".join(row.get(name, "") for name in COLUMNS) for row in rows)]) + "\n"


def import_csv(api, body, timeout=120, **caller):
    """POST a file to the import and follow its job until it ends: (the 202 answer, the job)."""
    answer = api.post("/bantuan/penerima/impor", data=body.encode() if isinstance(body, str) else body,
                      headers={"Content-Type": "text/csv"}, **caller)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    assert location == f"/api/v1/jobs/{answer.json()['id']}"
    assert answer.json()["status"] in ("antri", "berjalan", "selesai")
    ended = []

    def done():
        job = api.get(location.removeprefix("/api/v1"), **caller)
        assert job.status_code == 200, job.text
        ended[:] = [job.json()] if job.json()["status"] in ("selesai", "gagal") else []
        return ended
    wait_until(done, "the import job to end", timeout)
    return answer, ended[0]


def test_an_import_is_a_job_its_owner_and_the_managers_of_its_area_follow(api, national_unit):
    petugas = {"role": "petugas", "wilayah": "32.73", "sub": "petugas-pekerjaan"}
    rows = [recipient(n) for n in range(7100, 7110)] + [{**recipient(7111), "nik": "123"}]
    answer, job = import_csv(api, csv_of(rows), **petugas)
    assert (job["status"], job["jenis"], job["oleh"], job["jumlah_baris"], job["diproses"]) == (
        "selesai", "impor_penerima", "petugas-pekerjaan", 11, 11)
    assert (job["ditambahkan"], job["jumlah_ditolak"], [r["baris"] for r in job["ditolak"]]) == (10, 1, [12])
    assert job["laporan"] == {"jumlah_baris": 11, "ditambahkan": 10, "sudah_ada": 0, "ditolak": job["ditolak"]}
    path = answer.headers["Location"].removeprefix("/api/v1")
    assert api.get(path, role="pengurus", wilayah="32.73").json() == job
    for stranger in ({"role": "pengurus", "wilayah": "32.04"}, {"role": "petugas", "wilayah": "32.73"},
                     {"role": "pemantau", "wilayah": "32.73"}):
        assert api.get(path, **stranger).status_code == 404
    assert api.get("/jobs/tidak-ada").status_code == 404
    assert api.get(path, role=None).status_code == 401


def test_an_import_sent_again_with_its_idempotency_key_is_the_first_job(api, national_unit):
    petugas = {"role": "petugas", "wilayah": "32.73", "sub": "petugas-kunci"}
    body = csv_of([recipient(n) for n in range(7200, 7205)]).encode()
    headers = {"Content-Type": "text/csv", "Idempotency-Key": "impor-7200"}
    first = api.post("/bantuan/penerima/impor", data=body, headers=headers, **petugas)
    again = api.post("/bantuan/penerima/impor", data=body, headers=headers, **petugas)
    assert first.status_code == again.status_code == 202, again.text
    assert again.headers["Location"] == first.headers["Location"] and again.json()["id"] == first.json()["id"]
    other = api.post("/bantuan/penerima/impor", data=body + body[-60:], headers=headers, **petugas)
    assert other.status_code == 422, other.text
    wait_until(lambda: api.get(first.headers["Location"].removeprefix("/api/v1"), **petugas).json()["status"]
               == "selesai", "the import job to end")
    audited = [entry for entry in api.get("/bantuan/audit/impor", role="admin", params={"per_page": 100}).json()[
        "items"] if entry["oleh"] == "petugas-kunci"]
    assert [entry["baru"]["ditambahkan"] for entry in audited] == [5]


@pytest.fixture
def platform(isolated, logs):
    """organisasi and a gateway of their own beside the bantuan the test starts and kills; the
    database of bantuan and a token of a Bandung officer."""
    env, organisasi_db = isolated
    import_wilayah(organisasi_db, PROVINCES_CSV + BANDUNG)
    env = {**env, "GATEWAY_PORT": str(free_port()), "IMPOR_LEASE_SECONDS": "3", "IMPOR_POLL_SECONDS": "0.2"}
    organisasi = start_service("organisasi", env, logs)
    gateway = Process("gateway-impor", None, env, logs, argv=by_entrypoint("gateway"))
    base = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    client = connect(env["MONGO_URI"])
    try:
        wait_for(lambda: ready(f"{base}/health"), "the gateway", 60)
        yield env, base, client[f"{env['BKPM_DB_PREFIX']}_bantuan"], token_for(env, "petugas-impor", "petugas",
                                                                                 "32.73")
    finally:
        client.close()
        gateway.stop()
        organisasi.stop()


def test_an_import_job_killed_twice_mid_run_finishes_with_every_row_once(platform, logs):
    env, base, db, token = platform
    headers = {"Authorization": f"Bearer {token}"}
    rows = [recipient(n) for n in range(2000, 5000)]
    for n in (7, 1234, 2999):  # a bad NIK in the first batch, in the middle, and in the last
        rows[n] = {**rows[n], "nik": rows[n]["nik"][:12] + "0000"}
    rows += [{**rows[10], "nama": "Lagi"}, {**rows[2500], "alamat": "Jl. Lain"}]  # repeated near the end
    valid = {row["nik"] for n, row in enumerate(rows[:3000]) if n not in (7, 1234, 2999)}

    # The first bantuan dies as soon as it has written a batch.
    crashing = start_service("bantuan", {**env, "BKPM_FAULT_CRASH": "import_batch"}, logs)
    answer = requests.post(f"{base}/api/v1/bantuan/penerima/impor", data=csv_of(rows).encode(),
                           headers={**headers, "Content-Type": "text/csv"}, timeout=60)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    assert crashing.wait_exit(timeout=30) == 17
    stored = db.pekerjaan.find_one({"_id": job_id})
    assert (stored["status"], stored["diproses"], stored["jumlah_baris"]) == ("berjalan", 500, 3002)
    assert db.penerima.count_documents({}) == 499

    # The next one takes it up when the dead one's hold runs out, and is killed (-9) mid-run.
    second = start_service("bantuan", env, logs, name="bantuan-kedua")
    wait_until(lambda: db.pekerjaan.find_one({"_id": job_id})["diproses"] >= 1000, "the job to go on", 60)
    second.kill()
    stored = db.pekerjaan.find_one({"_id": job_id})
    assert stored["status"] == "berjalan" and stored["diproses"] < 3002, "killed mid-run"

    third = start_service("bantuan", env, logs, name="bantuan-ketiga")
    try:
        def ended():
            job = requests.get(f"{base}/api/v1/jobs/{job_id}", headers=headers, timeout=15).json()
            return job if job.get("status") in ("selesai", "gagal") else None
        wait_until(ended, "the job to end", 180)
        job = ended()
    finally:
        third.stop()

    report = job["laporan"]
    assert (job["status"], report["jumlah_baris"], report["ditambahkan"], report["sudah_ada"]) == (
        "selesai", 3002, 2997, 0)
    assert report["ditolak"] == job["ditolak"] and [r["baris"] for r in report["ditolak"]] == [
        9, 1236, 3001, 3002, 3003]
    assert [r["alasan"] for r in report["ditolak"][3:]] == ["nik: muncul lebih dari sekali dalam berkas"] * 2
    stored_niks = [p["nik"] for p in db.penerima.find({}, {"nik": 1})]
    assert len(stored_niks) == len(set(stored_niks)) == 2997 and set(stored_niks) == valid
    assert [entry["baru"] for entry in db.audit.find({"entitas_id": "impor"})] == [
        {"jumlah_baris": 3002, "ditambahkan": 2997, "sudah_ada": 0, "ditolak": 5}]
    owned = {"_id": {"$gte": f"{job_id}:", "$lt": f"{job_id};"}}
    assert db.impor_bagian.count_documents(owned) == 0 and db.impor_nik.count_documents(owned) == 0
    assert "garam" not in db.pekerjaan.find_one({"_id": job_id})
    for log_file in logs.iterdir():
        text = log_file.read_text(errors="replace")
        assert not [nik for nik in (rows[0]["nik"], rows[1500]["nik"], rows[2998]["nik"]) if nik in text]


def test_the_area_import_shows_its_progress_on_a_terminal(isolated, tmp_path):
    env, organisasi_db = isolated
    areas = [f"11.{k:02d},Kabupaten {k}" for k in range(1, 51)]
    areas += [f"11.{k:02d}.{d:02d},Kecamatan {k}-{d}" for k in range(1, 51) for d in range(1, 11)]
    areas += [f"11.{k:02d}.{d:02d}.{v + 2000},Desa {k}-{d}-{v}" for k in range(1, 51) for d in range(1, 11)
              for v in range(1, 21)]
    listed = tmp_path / "wilayah.csv"
    listed.write_text("\n".join([*PROVINCES_CSV, *areas]) + "\n")
    primary, secondary = pty.openpty()  # stderr a terminal, as when an operator runs it
    try:
        result = subprocess.run([sys.executable, "-m", "services.cli", "wilayah", "import", str(listed)], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=300)
        os.close(secondary)
        shown = b""
        while select.select([primary], [], [], 0.5)[0]:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert result.returncode == 0, shown
    assert "10556 rows, 10550 added" in result.stdout  # the report, as before
    assert shown.decode() == "\rMengimpor wilayah: 10.006/10.556 (94 %)\rMengimpor wilayah: 10.556/10.556 (100 %)\r\n"
