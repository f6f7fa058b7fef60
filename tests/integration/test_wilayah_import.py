"""The area reference: the official 2025 list imports completely with `bkpm wilayah import`, and
a revised list updates names and reports codes that disappeared without breaking units, and an
import that changed something says so with the event `wilayah.diperbarui`."""
import subprocess
import sys

import pytest

from services.common.errors import InvalidInput
from services.organisasi import commands
from services.organisasi.commands import import_wilayah
from tests.support import PROVINCES_CSV, ROOT, rpc_client, start_service, token_for


def test_the_official_list_imports_completely(wilayah_import, organisasi_db):
    assert "91599 rows, 91599 added" in wilayah_import
    assert "0 rejected" in wilayah_import
    assert organisasi_db.wilayah.count_documents({"aktif": True}) == 91599
    assert organisasi_db.wilayah.find_one({"_id": "31.71.01.1001"})["nama"] == "Gambir"


def test_importing_the_same_list_again_changes_nothing(env, wilayah_import, wilayah_csv):
    result = subprocess.run([sys.executable, "-m", "services.cli", "wilayah", "import", str(wilayah_csv)],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "0 added, 0 renamed, 0 restored, 0 no longer listed, 91599 unchanged" in result.stdout


def test_a_revised_list_renames_and_retires_codes_without_breaking_units(isolated):
    env, db = isolated
    db.units.insert_one({"_id": "unit-16", "tingkat": "provinsi", "kode_wilayah": "16",
                         "nama": "BKPM Sumatera Selatan"})
    revised = [row for row in PROVINCES_CSV if not row.startswith("16,")]
    revised = [row.replace("11,Aceh", "11,Aceh Darussalam") for row in revised] + ["17,Bengkulu"]

    report = import_wilayah(db, revised)

    assert report["added"] == 1
    assert report["renamed"] == [{"kode": "11", "lama": "Aceh", "baru": "Aceh Darussalam"}]
    assert report["removed"] == ["16"]
    assert report["units_on_removed"] == [{"id": "unit-16", "kode_wilayah": "16", "nama": "BKPM Sumatera Selatan"}]
    assert db.wilayah.find_one({"_id": "16"})["aktif"] is False  # kept, so the unit still resolves
    assert db.units.find_one({"_id": "unit-16"})["kode_wilayah"] == "16"

    restored = import_wilayah(db, PROVINCES_CSV)
    assert restored["restored"] == ["16"] and restored["removed"] == ["17"]
    assert db.wilayah.find_one({"_id": "16"})["aktif"] is True


def test_an_import_that_changes_the_reference_announces_it_once(isolated):
    env, db = isolated  # the provinces imported: the first announcement
    revised = [row.replace("11,Aceh", "11,Aceh Darussalam") for row in PROVINCES_CSV if not row.startswith("16,")]
    import_wilayah(db, revised + ["17,Bengkulu"])
    import_wilayah(db, revised + ["17,Bengkulu"])  # the same list again changes nothing: no event

    announced = [entry["event"] for entry in db.outbox.find({"event.type": "wilayah.diperbarui"}).sort("_id")]
    assert [event["data"] for event in announced] == [
        {"ditambahkan": 6, "diganti_nama": 0, "dipulihkan": 0, "tidak_berlaku": 0},
        {"ditambahkan": 1, "diganti_nama": 1, "dipulihkan": 0, "tidak_berlaku": 1}]
    assert (announced[-1]["source"], announced[-1]["subject"], announced[-1]["wilayah"]) == (
        "/bkpm/organisasi", "wilayah", None)


def test_an_import_killed_before_its_announcement_is_announced_by_the_next(isolated, monkeypatch):
    env, db = isolated
    revised = [row for row in PROVINCES_CSV if not row.startswith("16,")]

    def killed(*args):
        raise SystemExit("killed after its writes")
    monkeypatch.setattr(commands, "emit_after", killed)
    with pytest.raises(SystemExit):
        import_wilayah(db, revised)
    monkeypatch.undo()
    assert db.wilayah.find_one({"_id": "16"})["aktif"] is False  # written, not announced

    import_wilayah(db, revised)  # nothing left to change, but the change made is announced now
    import_wilayah(db, revised)  # and only once
    announced = [entry["event"]["data"] for entry in db.outbox.find({"event.type": "wilayah.diperbarui"})]
    assert announced[1:] == [{"ditambahkan": 0, "diganti_nama": 0, "dipulihkan": 0, "tidak_berlaku": 0}]


def test_bad_rows_are_reported_and_the_rest_imported(isolated):
    env, db = isolated
    report = import_wilayah(db, ["kode,nama", "11,Aceh", "1x,Salah", "11.01,", "11.01.01,Tanpa Induk",
                                 "12,Sumatera Utara"])
    assert [r["line"] for r in report["rejected"]] == [3, 4, 5]
    assert db.wilayah.find_one({"_id": "12"})["nama"] == "Sumatera Utara"


def test_no_new_unit_on_a_retired_code(isolated, logs):
    env, db = isolated
    import_wilayah(db, [row for row in PROVINCES_CSV if not row.startswith("16,")])
    service = start_service("organisasi", env, logs)
    try:
        client = rpc_client(env)
        client.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        with pytest.raises(InvalidInput) as refused:
            client.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "provinsi", "kode_wilayah": "16"})
        assert "tidak berlaku" in refused.value.payload["errors"]["kode_wilayah"][0]
    finally:
        service.stop()
