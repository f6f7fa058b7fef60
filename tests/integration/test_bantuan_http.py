"""The bantuan service end to end: programs, recipients, and distributions that stay fair
under concurrent requests, with the audit trail and personal data kept out of sight."""
import concurrent.futures
import uuid

import pytest

from tests.integration.test_akses_http import logged_reads_of
from tests.integration.test_import_job import import_csv
from tests.nik import recipient
from tests.support import assert_problem, events_fixture, form_units

BANDUNG_VILLAGE = "32.73.01.1001"
ELSEWHERE_VILLAGE = "32.04.05.2001"  # Kabupaten Bandung, outside the city's officers' area


events = events_fixture("bantuan.events")


@pytest.fixture(scope="module")
def bandung(api, national_unit):
    return form_units(api, "32", "32.73")["32.73"]


def new_program(api, unit, kuota=100, **fields):
    body = {"nama": "Paket Sembako", "jenis": "sembako", "unit_id": unit["id"], "mulai": "2026-01-01",
            "selesai": "2026-12-31", "kuota": kuota, "wilayah_sasaran": ["32.73"], **fields}
    created = api.post("/bantuan/program", json=body)
    assert created.status_code == 201, created.text
    activated = api.post(f"/bantuan/program/{created.json()['id']}/aktifkan")
    assert activated.status_code == 200, activated.text
    return activated.json()


def register(api, n, **fields):
    response = api.post("/bantuan/penerima", json=recipient(n, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def distribute(api, program, penerima, **fields):
    return api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                 "tanggal": "2026-06-01", "jenis_bukti": "voucher",
                                                 "bukti": "VCR-001", **fields})


def test_program_lifecycle(api, bandung, events):
    program = new_program(api, bandung)
    assert program["status"] == "aktif" and program["sisa"] == 100
    assert_problem(api.post(f"/bantuan/program/{program['id']}/aktifkan"), 409, "transisi_tidak_sah")
    assert_problem(api.post("/bantuan/program", json={"nama": "X", "jenis": "sembako", "unit_id": bandung["id"],
                                                     "mulai": "2026-01-01", "selesai": "2026-12-31", "kuota": 5,
                                                     "wilayah_sasaran": ["32.04"]}), 400)
    assert events.wait_for(lambda e: e["type"] == "program.diaktifkan" and e["data"]["id"] == program["id"])


def test_recipients_one_per_nik_and_masked(api, bandung):
    first = register(api, 1)
    assert first["nik"] == recipient(1)["nik"]  # whole, for the officer who recorded it
    again = assert_problem(api.post("/bantuan/penerima", json={**recipient(1), "nama": "Lain"}), 409,
                           "nik_sudah_terdaftar")
    assert again["penerima_id"] == first["id"]
    bad = assert_problem(api.post("/bantuan/penerima", json={**recipient(2), "nik": "3273010506900000"}), 400)
    assert any("0000" in message for message in bad["errors"]["nik"])
    listed = api.get("/bantuan/penerima", role="pemantau", wilayah="32.73").json()
    assert listed["items"] and all("*" in p["nik"] and "*" in p["no_kk"] for p in listed["items"])
    assert all(p["tanggal_lahir"] is None for p in listed["items"])  # it would give the NIK back
    single = api.get(f"/bantuan/penerima/{first['id']}", role="pemantau", wilayah="32.73").json()
    assert single["nik"] != first["nik"]


def test_a_citizen_outside_the_callers_area_is_not_found_and_never_named(api, bandung):
    there = register(api, 600, village=ELSEWHERE_VILLAGE)
    city = {"role": "petugas", "wilayah": "32.73"}
    again = api.post("/bantuan/penerima", json=recipient(600), **city)
    assert_problem(again, 409, "nik_sudah_terdaftar")
    assert there["id"] not in again.text and "32.04" not in again.text
    program = new_program(api, bandung)

    def refusals(penerima_id):
        answers = [api.get(f"/bantuan/penerima/{penerima_id}", **city),
                   api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima_id,
                                                         "tanggal": "2026-06-01", "jenis_bukti": "voucher",
                                                         "bukti": "VCR-1"}, **city),
                   api.get(f"/bantuan/audit/{penerima_id}", role="pengurus", wilayah="32.73")]
        return [(answer.status_code, answer.json()["code"], answer.json()["detail"].replace(penerima_id, "ID"))
                for answer in answers]
    outside = refusals(there["id"])
    assert outside == refusals(str(uuid.uuid4()))  # an id that names no one
    assert {status for status, _, _ in outside} == {404} and "32.04" not in str(outside)


def test_a_household_receives_a_program_once_under_50_concurrent_requests(api, bandung):
    program = new_program(api, bandung)
    penerima = register(api, 10)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: distribute(api, program, penerima).status_code, range(50)))
    assert sorted(statuses) == [201] + [409] * 49
    refused = assert_problem(distribute(api, program, penerima), 409, "sudah_menerima")
    assert refused["penyaluran_id"]
    assert api.get(f"/bantuan/program/{program['id']}").json()["tersalur"] == 1


def test_the_last_10_units_of_quota_go_to_exactly_10_households(api, bandung, events):
    program = new_program(api, bandung, kuota=10)
    households = [register(api, 100 + n) for n in range(50)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda penerima: distribute(api, program, penerima), households))
    assert sorted(r.status_code for r in responses) == [201] * 10 + [409] * 40
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"kuota_habis"}
    state = api.get(f"/bantuan/program/{program['id']}").json()
    assert state["tersalur"] == 10 and state["sisa"] == 0
    rekap = api.get(f"/bantuan/program/{program['id']}/rekap").json()
    assert rekap == {"program_id": program["id"], "kuota": 10, "tersalur": 10, "sisa": 0,
                     "per_wilayah": {"32": 10, "32.73": 10, "32.73.01": 10, BANDUNG_VILLAGE: 10},
                     "per_bukti": {"voucher": 10}, "rincian": []}
    given = [r.json() for r in responses if r.status_code == 201]
    api.post(f"/bantuan/penyaluran/{given[0]['id']}/batal", json={"alasan": "Ganda"})
    assert distribute(api, program, households[-1]).status_code in (201, 409)  # the freed unit goes again
    assert api.get(f"/bantuan/program/{program['id']}").json()["sisa"] == 0
    events.wait_for(lambda e: e["type"] == "kuota.habis" and e["data"]["program_id"] == program["id"])
    assert len([e for e in events.events("kuota.habis") if e["data"]["program_id"] == program["id"]]) == 1


def test_exclusive_programs_block_each_other_and_cancelling_frees_the_slot(api, bandung, events):
    first = new_program(api, bandung, nama="Bantuan Pendidikan A")
    second = new_program(api, bandung, nama="Bantuan Pendidikan B", eksklusif_dengan=[first["id"]])
    penerima = register(api, 200)
    given = distribute(api, first, penerima)
    assert given.status_code == 201, given.text
    blocked = assert_problem(distribute(api, second, penerima), 409, "program_eksklusif")
    assert blocked["program_lain_id"] == first["id"] and "Bantuan Pendidikan A" in blocked["detail"]

    cancelled = api.post(f"/bantuan/penyaluran/{given.json()['id']}/batal", json={"alasan": "Salah input"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "batal"
    assert api.get(f"/bantuan/program/{first['id']}").json()["sisa"] == 100
    assert distribute(api, second, penerima).status_code == 201
    assert distribute(api, first, penerima).status_code == 409  # now B excludes A

    assert_problem(api.get(f"/bantuan/audit/{given.json()['id']}", role="pengurus", wilayah="32.04"), 404)
    trail = api.get(f"/bantuan/audit/{given.json()['id']}").json()
    assert [(entry["aksi"], entry["oleh"]) for entry in trail] == [("dicatat", "penguji"), ("dibatalkan", "penguji")]
    assert trail[1]["lama"] == {"status": "aktif"} and trail[1]["baru"]["status"] == "batal"
    event = events.wait_for(lambda e: e["type"] == "penyaluran.dicatat" and e["data"]["id"] == given.json()["id"])[0]
    assert event["data"]["penerima_id"] == penerima["id"]
    assert "nik" not in event["data"] and "no_kk" not in event["data"] and "telepon" not in event["data"]


def test_recipients_outside_the_target_area_are_refused(api, bandung):
    program = new_program(api, bandung, wilayah_sasaran=["32.73.02"])
    penerima = register(api, 300)  # lives in 32.73.01
    assert_problem(distribute(api, program, penerima), 409, "di_luar_wilayah_sasaran")
    assert_problem(distribute(api, program, penerima, tanggal="2027-01-05"), 400)


def test_a_5000_row_import_with_100_bad_rows_and_its_rerun(api, bandung):
    header = "nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,alamat,telepon"
    lines = [header]
    for n in range(5000):
        row = recipient(1000 + n)
        if n % 50 == 7:  # 100 bad rows: a sequence of 0000
            row["nik"] = row["nik"][:12] + "0000"
        lines.append(",".join([row["nik"], row["no_kk"], row["nama"], row["jenis_kelamin"], row["tanggal_lahir"],
                               row["kode_wilayah"], row["alamat"], ""]))
    body = "\n".join(lines) + "\n"
    first = import_csv(api, body)[1]["laporan"]
    assert first["jumlah_baris"] == 5000 and first["ditambahkan"] == 4900 and len(first["ditolak"]) == 100
    assert all("0000" in line["alasan"] for line in first["ditolak"])
    again = import_csv(api, body)[1]["laporan"]
    assert again["ditambahkan"] == 0 and again["sudah_ada"] == 4900 and len(again["ditolak"]) == 100


def test_a_recorder_finds_a_recipient_by_nik_or_family_card_in_their_area_masked_and_logged(api, bandung):
    city = {"role": "petugas", "wilayah": "32.73", "sub": "petugas-cari"}
    here = register(api, 700, telepon="081234567890")
    household = register(api, 701, no_kk=recipient(700)["no_kk"])
    register(api, 702, village=ELSEWHERE_VILLAGE)

    found = api.post("/bantuan/penerima/cari", json={"nik": recipient(700)["nik"]}, **city)
    assert found.status_code == 200, found.text
    [item] = found.json()["items"]
    # Masked as lists mask it for everyone (as one record is for a monitor), phone included.
    assert item == api.get(f"/bantuan/penerima/{here['id']}", role="pemantau", wilayah="32.73").json()
    assert recipient(700)["nik"] not in found.text and "*" in item["nik"] and item["tanggal_lahir"] is None
    family = api.post("/bantuan/penerima/cari", json={"no_kk": recipient(700)["no_kk"]}, **city).json()
    assert sorted(p["id"] for p in family["items"]) == sorted([here["id"], household["id"]])
    elsewhere = api.post("/bantuan/penerima/cari", json={"nik": recipient(702)["nik"]}, **city)
    assert elsewhere.status_code == 200 and elsewhere.json()["items"] == [] and elsewhere.json()["total"] == 0

    assert_problem(api.post("/bantuan/penerima/cari", json={"nik": recipient(700)["nik"]}, role="pemantau",
                            wilayah="32.73"), 403)
    both = assert_problem(api.post("/bantuan/penerima/cari", json={"nik": recipient(700)["nik"],
                                                                   "no_kk": recipient(700)["no_kk"]}, **city), 400)
    assert set(both["errors"]) == {"nik", "no_kk"}
    bad = assert_problem(api.post("/bantuan/penerima/cari", json={"nik": "3273"}, **city), 400)
    assert list(bad["errors"]) == ["nik"]

    entries, text = logged_reads_of(api, here["id"], role="admin", wilayah="32.73")
    assert [(e["rute"], e["oleh"]["sub"], e["kolom"]) for e in entries] == [
        ("bantuan.list_penerima_menurut_nomor", city["sub"], ["nik"]),
        ("bantuan.list_penerima_menurut_nomor", city["sub"], ["no_kk"])]
    assert recipient(700)["nik"] not in text


def test_the_imports_audit_entries_are_listed_in_the_importers_area(api, bandung):
    header = "nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,alamat"
    row = recipient(710)
    body = header + "\n" + ",".join(row[k] for k in header.split(",")) + "\n"
    assert import_csv(api, body, role="petugas", wilayah="32.73", sub="petugas-impor")[1]["status"] == "selesai"
    audit = api.get("/bantuan/audit/impor", role="pengurus", wilayah="32.73")
    assert audit.status_code == 200, audit.text
    newest = audit.json()["items"][0]
    assert (newest["entitas_id"], newest["aksi"], newest["oleh"], newest["kode_wilayah"]) == (
        "impor", "diimpor", "petugas-impor", "32.73")
    assert newest["baru"] == {"jumlah_baris": 1, "ditambahkan": 1, "sudah_ada": 0, "ditolak": 0}
    assert "petugas-impor" not in api.get("/bantuan/audit/impor", role="pengurus", wilayah="32.04").text
    assert_problem(api.get("/bantuan/audit/impor", role="petugas", wilayah="32.73"), 403)


def test_no_nik_in_any_log(api, bandung, logs):
    """Runs after the others in this module: every NIK and No. KK they used stays out of every
    process's log."""
    register(api, 400)
    assert_problem(api.post("/bantuan/penerima", json=recipient(400)), 409)  # a duplicate key names the NIK
    secrets = [value for n in (1, 10, 200, 400, 700, 702) for value in (recipient(n)["nik"], recipient(n)["no_kk"])]
    for log_file in logs.iterdir():
        text = log_file.read_text(errors="replace")
        assert not [secret for secret in secrets if secret in text], log_file.name


def test_import_reports_broken_rows_reads_semicolons_and_refuses_other_encodings(api, bandung):
    header = "nik;no_kk;nama;jenis_kelamin;tanggal_lahir;kode_wilayah;alamat"
    good = recipient(9000)
    row = ";".join(good[k] for k in ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah",
                                     "alamat"))
    broken = '"' + "x" * 140_000  # an unclosed quote running past the CSV field limit
    body = "\n".join([header, row, broken]) + "\n"
    report = import_csv(api, body)[1]["laporan"]
    assert report["ditambahkan"] == 1 and len(report["ditolak"]) == 1
    latin = (header + "\n" + row.replace("Penerima", "Pénerima") + "\n").encode("latin-1")
    assert_problem(api.post("/bantuan/penerima/impor", data=latin, headers={"Content-Type": "text/csv"}), 400)


def test_a_distribution_names_only_a_bantuan_sosial_activity_of_its_program(api, bandung):
    program = new_program(api, bandung)
    activity = {"unit_id": bandung["id"], "judul": "Pembagian sembako", "mulai": "2026-06-01T08:00:00+07:00",
                "selesai": "2026-06-01T12:00:00+07:00", "lokasi": {"kode_wilayah": BANDUNG_VILLAGE, "alamat": "Balai"}}
    social = api.post("/kegiatan", json={**activity, "jenis": "bantuan_sosial", "program_id": program["id"]})
    assert social.status_code == 201, social.text
    dialog = api.post("/kegiatan", json={**activity, "jenis": "dialog"}).json()
    assert_problem(distribute(api, program, register(api, 500), kegiatan_id=dialog["id"]), 400)
    assert distribute(api, program, register(api, 501), kegiatan_id=social.json()["id"]).status_code == 201
