"""Correcting a planned activity through the gateway (issue 18): a JSON merge patch sent with
the ETag the caller read (412 for a stale one, 428 without one), checked as a new activity is,
announced as `kegiatan.diubah`, shown by the citizens' portal, and emailed to the unit's people
when its time or place changed."""
import json
import time

import pytest

from tests.support import assert_problem, body_of, events_fixture

events = events_fixture("kegiatan.events")

PANGKAL_PINANG, BUKIT_INTAN, TAMAN_SARI = "19.71", "19.71.01", "19.71.02"
PLACE, OTHER_PLACE = "19.71.01.1006", "19.71.02.1001"
MEMBER = "warga.pangkalpinang@contoh.id"
MERGE_PATCH = "application/merge-patch+json"


def unit_at(api, kode, tingkat):
    """The unit of `kode`, formed here unless another module of the run formed it first."""
    formed = api.post("/units", json={"tingkat": tingkat, "kode_wilayah": kode})
    if formed.status_code == 201:
        return formed.json()
    assert formed.status_code == 409, formed.text
    return next(u for u in api.get("/units", params={"kode_prefix": kode}).json()["items"]
                if u["kode_wilayah"] == kode)


@pytest.fixture(scope="module")
def unit(api, national_unit, mailbox):
    """Kota Pangkal Pinang's unit, with a member who reads email (from the start: no message of
    this module arrives late)."""
    unit_at(api, "19", "provinsi")
    unit = unit_at(api, PANGKAL_PINANG, "kabupaten_kota")
    member = api.post(f"/units/{unit['id']}/anggota", json={"nama": "Ibu Lestari", "kategori": "masyarakat",
                                                            "email": MEMBER})
    assert member.status_code == 201, member.text
    return unit


def schedule(api, unit, judul, **fields):
    body = {"unit_id": unit["id"], "jenis": "dialog", "judul": judul, "mulai": "2027-03-10T09:00:00+07:00",
            "selesai": "2027-03-10T11:00:00+07:00", "lokasi": {"kode_wilayah": PLACE, "alamat": "Balai Kelurahan"},
            **fields}
    response = api.post("/kegiatan", json=body, role="petugas", wilayah=PANGKAL_PINANG)
    assert response.status_code == 201, response.text
    return response


def patch(api, kegiatan_id, body, etag=None, role="petugas", content_type=MERGE_PATCH, **kwargs):
    headers = {"Content-Type": content_type, **({"If-Match": etag} if etag else {})}
    return api.request("PATCH", f"/kegiatan/{kegiatan_id}", data=json.dumps(body), headers=headers, role=role,
                       wilayah=PANGKAL_PINANG, **kwargs)


def test_a_reschedule_is_made_on_the_version_read_and_every_answer_names_its_version(api, unit, events):
    created = schedule(api, unit, "Dialog kamtibmas Bacang")
    kegiatan = created.json()
    read = api.get(f"/kegiatan/{kegiatan['id']}")
    assert read.headers["ETag"] == created.headers["ETag"]  # the answer that scheduled it names what GET shows

    moved = patch(api, kegiatan["id"], {"mulai": "2027-03-12T14:00:00+07:00", "selesai": "2027-03-12T16:00:00+07:00"},
                  read.headers["ETag"])
    assert moved.status_code == 200, moved.text
    assert (moved.json()["mulai"], moved.json()["selesai"]) == ("2027-03-12T07:00:00+00:00",
                                                                "2027-03-12T09:00:00+00:00")
    again = api.get(f"/kegiatan/{kegiatan['id']}")
    assert again.json() == moved.json() and again.headers["ETag"] == moved.headers["ETag"] != read.headers["ETag"]
    [event] = events.wait_for(lambda e: e["type"] == "kegiatan.diubah" and e["data"]["id"] == kegiatan["id"])
    assert event["data"]["diubah"] == ["mulai", "selesai"] and event["wilayah"] == PLACE
    assert event["data"]["mulai"] == "2027-03-12T07:00:00+00:00"

    # The version read before the change is gone; no version at all is not a correction.
    stale = patch(api, kegiatan["id"], {"judul": "Dialog pemuda"}, read.headers["ETag"])
    assert "diubah" in assert_problem(stale, 412, "versi_berubah")["detail"]
    assert_problem(patch(api, kegiatan["id"], {"judul": "Dialog pemuda"}), 428, "if_match_wajib")
    assert api.get(f"/kegiatan/{kegiatan['id']}").json()["judul"] == "Dialog kamtibmas Bacang"

    # Any version will do with a star, and plain application/json is a merge patch too.
    starred = patch(api, kegiatan["id"], {"judul": "Dialog pemuda", "deskripsi": "Bawa KTP."}, "*",
                    content_type="application/json")
    assert starred.status_code == 200, starred.text
    assert (starred.json()["judul"], starred.json()["deskripsi"]) == ("Dialog pemuda", "Bawa KTP.")
    removed = patch(api, kegiatan["id"], {"deskripsi": None}, starred.headers["ETag"])
    assert removed.status_code == 200 and "deskripsi" not in removed.json()
    time.sleep(0.5)
    changes = [e["data"]["diubah"] for e in events.events("kegiatan.diubah") if e["data"]["id"] == kegiatan["id"]]
    assert changes == [["mulai", "selesai"], ["deskripsi", "judul"], ["deskripsi"]]


def test_the_portal_shows_the_new_time_and_place(api, unit):
    kegiatan = schedule(api, unit, "Dialog warga Taman Sari", mulai="2027-04-01T09:00:00+07:00",
                        selesai="2027-04-01T11:00:00+07:00").json()
    moved = patch(api, kegiatan["id"], {"mulai": "2027-04-20T19:00:00+07:00", "selesai": "2027-04-20T21:00:00+07:00",
                                        "lokasi": {"kode_wilayah": OTHER_PLACE, "alamat": "Gedung Nasional"}}, "*")
    assert moved.status_code == 200, moved.text
    portal = api.get("/publik/kegiatan", role=None, params={"kode_wilayah": PANGKAL_PINANG, "dari": "2027-04-01",
                                                            "sampai": "2027-04-30"}).json()["items"]
    [shown] = [item for item in portal if item["id"] == kegiatan["id"]]
    assert (shown["mulai"], shown["lokasi"]) == ("2027-04-20T12:00:00+00:00",
                                                 {"kode_wilayah": OTHER_PLACE, "alamat": "Gedung Nasional"})
    assert not api.get("/publik/kegiatan", role=None, params={"kode_wilayah": BUKIT_INTAN, "dari": "2027-04-01",
                                                              "sampai": "2027-04-30"}).json()["items"]


@pytest.mark.parametrize("body, field", [
    ({"jenis": "penyuluhan"}, "jenis"),
    ({"unit_id": "lain"}, "unit_id"),
    ({"status": "selesai"}, "status"),
    ({"topik": "narkoba"}, "topik"),                                          # not a dialog's field
    ({"selesai": "2027-03-10T08:00:00+07:00"}, "selesai"),                    # before it starts
    ({"lokasi": {"kode_wilayah": "19.01.01"}}, "lokasi"),                     # outside the unit's area
    ({"lokasi": {"kode_wilayah": "19.71.99"}}, "lokasi"),                     # not in the reference
    ({"lokasi": {"alamat": None}}, "lokasi"),                                 # an address stays
    ({}, "_schema"),
])
def test_a_correction_that_breaks_a_rule_is_a_400_and_changes_nothing(api, unit, body, field):
    kegiatan = schedule(api, unit, "Dialog kamtibmas").json()
    problem = assert_problem(patch(api, kegiatan["id"], body, "*"), 400, "input_tidak_valid")
    assert list(problem["errors"]) == [field], problem
    assert api.get(f"/kegiatan/{kegiatan['id']}").json() == kegiatan


def test_only_a_planned_activity_of_ones_own_area_is_corrected(api, unit):
    kegiatan = schedule(api, unit, "Dialog kamtibmas").json()
    assert_problem(patch(api, kegiatan["id"], {"judul": "x"}, "*", role="pemantau"), 403)
    refused = api.request("PATCH", f"/kegiatan/{kegiatan['id']}", json={"judul": "x"}, headers={"If-Match": "*"},
                          role="petugas", wilayah="19.01")
    assert_problem(refused, 403)
    assert_problem(patch(api, "tidak-ada", {"judul": "x"}, "*"), 404)
    assert api.post(f"/kegiatan/{kegiatan['id']}/mulai").status_code == 200
    problem = assert_problem(patch(api, kegiatan["id"], {"judul": "x"}, "*"), 409, "kegiatan_tidak_direncanakan")
    assert problem["status_kegiatan"] == "berlangsung"


def test_the_units_people_are_emailed_a_new_time_not_a_corrected_title(api, unit, mailbox):
    kegiatan = schedule(api, unit, "Dialog remaja").json()
    fixed = patch(api, kegiatan["id"], {"judul": "Dialog remaja masjid"}, "*")
    assert fixed.status_code == 200, fixed.text
    moved = patch(api, kegiatan["id"], {"mulai": "2027-03-11T15:00:00+07:00", "selesai": "2027-03-11T17:00:00+07:00"},
                  fixed.headers["ETag"])
    assert moved.status_code == 200, moved.text
    subject = "Jadwal kegiatan BKPM berubah: Dialog remaja masjid"
    [(rcpts, message)] = mailbox.wait_for(subject, 1)
    assert rcpts == [MEMBER]
    assert "Kamis, 11 Maret 2027 pukul 15.00 WIB" in body_of(message) and "Balai Kelurahan" in body_of(message)
    time.sleep(2)
    assert len(mailbox.about(subject)) == 1  # the title alone told nobody
