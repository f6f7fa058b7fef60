"""The access log's chain on the real database: reads logged at once by many workers each take
their own place, the chain holds, and an entry changed straight in the database breaks it."""
import os
import subprocess
import sys
import threading
import uuid

from services.common.access_log import AKSES, Reader, first_break, record_read
from services.common.mongo import ACCESS_LOG_INDEXES, Repository, connect, ensure_indexes
from tests.support import ROOT

WORKERS, READS = 8, 10


def test_concurrent_reads_each_take_their_own_place_and_an_edit_in_the_database_shows(mongo_uri):
    client = connect(mongo_uri)
    db = client[f"akses_{uuid.uuid4().hex[:8]}"]
    ensure_indexes(db, ACCESS_LOG_INDEXES)
    repository = Repository(db, None)
    failures = []

    def read(worker):
        try:
            for n in range(READS):
                record_read(repository, Reader("bantuan.get_penerima", sub=f"petugas-{worker}"),
                            [("penerima", f"p-{worker}-{n}", "32.73.01.1001", {"nik": "whole"})])
        except Exception as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=read, args=(worker,)) for worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    entries = list(repository.access_log())
    assert [entry["urutan"] for entry in entries] == list(range(1, WORKERS * READS + 1))
    assert first_break(entries) is None
    assert all(entry["waktu"] <= later["waktu"] for entry, later in zip(entries, entries[1:], strict=False))

    db[AKSES].update_one({"urutan": 5}, {"$set": {"oleh.sub": "orang-lain"}})
    assert first_break(repository.access_log()) == 5
    client.close()


def test_bkpm_akses_verify_names_the_service_and_place_of_an_edit(mongo_uri):
    prefix = f"verify{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "MONGO_URI": mongo_uri, "BKPM_DB_PREFIX": prefix}
    client = connect(mongo_uri)
    db = client[f"{prefix}_bantuan"]
    ensure_indexes(db, ACCESS_LOG_INDEXES)
    repository = Repository(db, None)
    for n in range(3):
        record_read(repository, Reader("bantuan.get_penerima", sub="petugas-1"),
                    [("penerima", f"p-{n}", "32.73.01.1001", {"nik": "whole"})])

    def verify():
        return subprocess.run([sys.executable, "-m", "services.cli", "akses", "verify"], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    whole = verify()
    assert whole.returncode == 0 and "bantuan: utuh" in whole.stdout, whole.stderr
    db[AKSES].update_one({"urutan": 2}, {"$set": {"waktu": "2020-01-01T00:00:00+00:00"}})
    broken = verify()
    assert broken.returncode == 1 and "bantuan: rusak pada urutan 2" in broken.stdout
    client.close()
