"""Corrections in bantuan end to end (issue 18): PATCH of a program and of a recipient through
the gateway as JSON merge patches, each against the ETag the caller read (412 when stale, 428
without one), with the event, the audit entry and the access log they leave; a quota that never
goes below what was given out, even while distributions race the correction."""
import concurrent.futures
import json

import pytest

from services.common.events import PUBLIC_EXCHANGE
from tests.integration.test_akses_http import logged_reads_of
from tests.nik import recipient
from tests.support import EventCollector, assert_problem, events_fixture, form_units

CITY = "15.71"                       # Kota Jambi: this module's own units
VILLAGE, OTHER_VILLAGE = "15.71.01.1001", "15.71.02.1002"
ELSEWHERE_VILLAGE = "15.01.01.2001"  # Kabupaten Kerinci, outside the city's officers' area
PETUGAS = {"role": "petugas", "wilayah": CITY, "sub": "petugas-koreksi-jambi"}
PENGURUS = {"role": "pengurus", "wilayah": CITY, "sub": "pengurus-koreksi-jambi"}
MERGE_PATCH = "application/merge-patch+json"

events = events_fixture("bantuan.events")


@pytest.fixture(scope="module")
def jambi(api, national_unit):
    return form_units(api, "15", CITY)[CITY]


@pytest.fixture(scope="module")
def public_events(env, gateway):
    collector = EventCollector(env["AMQP_URI"], PUBLIC_EXCHANGE, binding="bantuan.program.diubah.#")
    yield collector
    collector.close()


def patch(api, path, body, etag=None, content_type=MERGE_PATCH, who=PENGURUS):
    headers = {"Content-Type": content_type, **({"If-Match": etag} if etag else {})}
    return api.request("PATCH", path, data=json.dumps(body), headers=headers, **who)


def read(api, path, who=PENGURUS):
    response = api.get(path, **who)
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


def new_program(api, unit, kuota=100):
    created = api.post("/bantuan/program", json={
        "nama": "Bantuan Koreksi", "jenis": "sembako", "unit_id": unit["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": kuota, "wilayah_sasaran": [CITY]}, **PENGURUS)
    assert created.status_code == 201, created.text
    activated = api.post(f"/bantuan/program/{created.json()['id']}/aktifkan", **PENGURUS)
    assert activated.status_code == 200, activated.text
    return activated.json()


def register(api, n, **fields):
    response = api.post("/bantuan/penerima", json=recipient(15000 + n, village=VILLAGE, **fields), **PETUGAS)
    assert response.status_code == 201, response.text
    return response.json()


def distribute(api, program, penerima):
    return api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                 "tanggal": "2026-06-01", "jenis_bukti": "voucher",
                                                 "bukti": "VCR-KOREKSI"}, **PETUGAS)


# Programs

def test_a_program_is_corrected_against_the_version_read(api, jambi, events, public_events):
    program = new_program(api, jambi)
    path = f"/bantuan/program/{program['id']}"
    shown, etag = read(api, path)

    assert_problem(patch(api, path, {"kuota": 120}), 428, "if_match_wajib")
    corrected = patch(api, path, {"kuota": 120, "syarat": "Warga lansia"}, etag)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json() == {**shown, "kuota": 120, "sisa": 120, "syarat": "Warga lansia"}
    assert corrected.headers["ETag"] != etag
    assert read(api, path) == (corrected.json(), corrected.headers["ETag"])  # the GET answers the same version

    stale = assert_problem(patch(api, path, {"kuota": 90}, etag), 412, "versi_berubah")
    assert "muat ulang" in stale["detail"]
    anyway = patch(api, path, {"kuota": 90, "syarat": None}, "*", content_type="application/json")
    assert anyway.status_code == 200 and (anyway.json()["kuota"], anyway.json()["syarat"]) == (90, None)

    events.wait_for(lambda e: e["type"] == "program.diubah" and e["data"]["id"] == program["id"]
                    and e["data"]["kuota"] == 90)
    internal = [e for e in events.events("program.diubah") if e["data"]["id"] == program["id"]]
    assert [e["data"]["diubah"] for e in internal] == [["kuota", "syarat"], ["kuota", "syarat"]]
    public = public_events.wait_for(lambda e: e["data"]["id"] == program["id"])
    assert public[0]["data"]["kuota"] == 120 and public[0]["data"]["diubah"] == ["kuota", "syarat"]
    trail = api.get(f"/bantuan/audit/{program['id']}", **PENGURUS).json()
    assert [(entry["aksi"], entry["oleh"], entry["lama"], entry["baru"]) for entry in trail][-2:] == [
        ("diubah", PENGURUS["sub"], {"kuota": 100, "syarat": None}, {"kuota": 120, "syarat": "Warga lansia"}),
        ("diubah", PENGURUS["sub"], {"kuota": 120, "syarat": "Warga lansia"}, {"kuota": 90, "syarat": None})]


def test_the_quota_stays_above_what_was_given_and_a_raise_reopens_it(api, jambi, events):
    program = new_program(api, jambi, kuota=3)
    path = f"/bantuan/program/{program['id']}"
    households = [register(api, n) for n in range(1, 5)]
    for penerima in households[:2]:
        assert distribute(api, program, penerima).status_code == 201
    below = assert_problem(patch(api, path, {"kuota": 1}, "*"), 409, "kuota_di_bawah_tersalur")
    assert int(below["tersalur"]) == 2 and "(2)" in below["detail"]  # Nameko carries it as text

    lowered = patch(api, path, {"kuota": 2}, "*")
    assert lowered.status_code == 200 and lowered.json()["sisa"] == 0
    events.wait_for(lambda e: e["type"] == "kuota.habis" and e["data"]["program_id"] == program["id"])
    assert_problem(distribute(api, program, households[2]), 409, "kuota_habis")
    raised = patch(api, path, {"kuota": 3}, read(api, path)[1])
    assert raised.status_code == 200 and raised.json()["sisa"] == 1
    assert distribute(api, program, households[2]).status_code == 201

    assert_problem(patch(api, path, {"selesai": "2026-05-31"}, "*"), 409, "penyaluran_setelah_selesai")
    assert_problem(patch(api, path, {"selesai": "2025-12-31"}, "*"), 400)
    assert api.post(f"{path}/tutup", **PENGURUS).status_code == 200
    assert_problem(patch(api, path, {"kuota": 10}, "*"), 409, "program_ditutup")


def test_a_lowering_racing_distributions_never_lets_them_past_the_new_quota(api, jambi):
    program = new_program(api, jambi, kuota=30)
    path = f"/bantuan/program/{program['id']}"
    households = [register(api, n) for n in range(10, 40)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        given = [pool.submit(distribute, api, program, penerima) for penerima in households[:5]]
        lowering = pool.submit(patch, api, path, {"kuota": 20}, "*")
        given += [pool.submit(distribute, api, program, penerima) for penerima in households[5:]]
        statuses = [future.result().status_code for future in given]
    # Any version would do (*): a distribution committed meanwhile makes the correction retry, not fail.
    assert lowering.result().status_code == 200, lowering.result().text
    assert sorted(statuses) == [201] * 20 + [409] * 10
    state, _ = read(api, path)
    assert (state["kuota"], state["tersalur"], state["sisa"]) == (20, 20, 0)


def test_only_the_programs_managers_correct_it(api, jambi):
    program = new_program(api, jambi)
    path = f"/bantuan/program/{program['id']}"
    assert_problem(patch(api, path, {"kuota": 5}, "*", who=PETUGAS), 403)
    assert_problem(patch(api, path, {"kuota": 5}, "*", who={"role": "pengurus", "wilayah": "15.01"}), 403)
    assert_problem(patch(api, "/bantuan/program/tidak-ada", {"kuota": 5}, "*"), 404)
    refused = assert_problem(patch(api, path, {"status": "ditutup", "kuota": 0}, "*"), 400)
    assert refused["errors"] == {"status": ["Status program diubah lewat aktifkan atau tutup."]}
    assert_problem(patch(api, path, {}, "*"), 400)


# Recipients

def test_a_recipient_is_corrected_against_the_version_read_audited_and_logged(api, jambi, events):
    penerima = register(api, 50, telepon="081234567890")
    path = f"/bantuan/penerima/{penerima['id']}"
    shown, etag = read(api, path, PETUGAS)
    assert_problem(patch(api, path, {"alamat": "Jl. Sipin 2"}, who=PETUGAS), 428)

    corrected = patch(api, path, {"nama": "Siti Koreksi", "alamat": "Jl. Sipin 2", "telepon": "0813-1111-2222",
                                  "kode_wilayah": OTHER_VILLAGE}, etag, who=PETUGAS)
    assert corrected.status_code == 200, corrected.text
    body = corrected.json()
    assert (body["nama"], body["alamat"], body["kode_wilayah"]) == ("Siti Koreksi", "Jl. Sipin 2", OTHER_VILLAGE)
    assert body["nik"] == shown["nik"] and body["telepon"] != shown["telepon"]
    assert read(api, path, PETUGAS) == (body, corrected.headers["ETag"])
    assert_problem(patch(api, path, {"nama": "Lagi"}, etag, who=PETUGAS), 412, "versi_berubah")

    event = events.wait_for(lambda e: e["type"] == "penerima.diubah" and e["data"]["id"] == penerima["id"])[0]
    assert event["data"] == {"id": penerima["id"], "kode_wilayah": OTHER_VILLAGE,
                             "diubah": ["alamat", "kode_wilayah", "nama", "telepon"]}
    assert "081" not in json.dumps(event) and "Siti" not in json.dumps(event)

    [entry] = [e for e in api.get(f"/bantuan/audit/{penerima['id']}", **PENGURUS).json() if e["aksi"] == "diubah"]
    assert entry["oleh"] == PETUGAS["sub"]
    assert (entry["lama"]["nama"], entry["baru"]["nama"]) == ("Penerima 15050", "Siti Koreksi")
    assert (entry["lama"]["kode_wilayah"], entry["baru"]["kode_wilayah"]) == (VILLAGE, OTHER_VILLAGE)
    assert "*" in entry["lama"]["telepon"] and "*" in entry["baru"]["telepon"]  # phones masked in the trail

    # The answer showed the whole numbers, as the GET does: both are in the access log.
    reads, _ = logged_reads_of(api, penerima["id"], role="admin", wilayah=CITY)
    assert {r["rute"] for r in reads} == {"bantuan.get_penerima", "bantuan.ubah_penerima"}


def test_a_recipients_numbers_are_never_corrected_and_moves_stay_in_the_callers_area(api, jambi):
    penerima = register(api, 60)
    path = f"/bantuan/penerima/{penerima['id']}"
    refused = assert_problem(patch(api, path, {"nik": recipient(61)["nik"]}, "*", who=PETUGAS), 400)
    assert "NIK yang salah dicatat sebagai penerima baru" in refused["errors"]["nik"][0]
    assert "No. KK tidak dapat diubah" in assert_problem(
        patch(api, path, {"no_kk": recipient(61)["no_kk"]}, "*", who=PETUGAS), 400)["errors"]["no_kk"][0]
    outside = assert_problem(patch(api, path, {"kode_wilayah": ELSEWHERE_VILLAGE}, "*", who=PETUGAS), 400)
    assert outside["errors"] == {"kode_wilayah": [f"{ELSEWHERE_VILLAGE} di luar wilayah Anda."]}
    assert_problem(patch(api, path, {"kode_wilayah": "15.71.01"}, "*", who=PETUGAS), 400)  # not a village
    assert_problem(patch(api, path, {"nama": None}, "*", who=PETUGAS), 400)
    emptied = patch(api, path, {"telepon": None}, "*", who=PETUGAS)
    assert emptied.status_code == 200 and emptied.json()["telepon"] is None


def test_who_may_correct_a_recipient_and_an_erased_one(api, jambi):
    penerima = register(api, 70)
    path = f"/bantuan/penerima/{penerima['id']}"
    assert_problem(patch(api, path, {"nama": "X"}, "*", who={"role": "pemantau", "wilayah": CITY}), 403)
    elsewhere = patch(api, path, {"nama": "X"}, "*", who={"role": "petugas", "wilayah": "15.01"})
    assert_problem(elsewhere, 404)
    assert penerima["id"] in elsewhere.json()["detail"]  # as for an id that does not exist: nothing more
    erased = api.post(f"{path}/hapus", json={"alasan": "Permintaan penerima"}, role="admin", wilayah=CITY)
    assert erased.status_code == 200, erased.text
    assert_problem(patch(api, path, {"nama": "Kembali"}, "*", who=PETUGAS), 409, "penerima_dihapus")
