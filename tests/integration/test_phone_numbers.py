"""Phone numbers through the gateway (issue 18): typed in any form, stored in E.164, shown in the
local form and handed to the SMS/WhatsApp provider in E.164, also a number stored before in an
old form; what is no valid number, or no mobile where messages go, is a 400 in Bahasa Indonesia."""
from urllib.parse import urlparse

import pytest

from services.common.mongo import connect
from services.common.phone import INVALID, NOT_MOBILE
from tests.integration.test_notifikasi_provider import Provider
from tests.nik import recipient
from tests.support import assert_problem, form_units

CITY, VILLAGE = "18.71", "18.71.01.1003"


@pytest.fixture(scope="module")
def provider(env):
    started = Provider(urlparse(env["SMS_PROVIDER_URL"]).port)
    yield started
    started.server.shutdown()
    started.server.server_close()  # the port is free for the next module that stands a provider up


@pytest.fixture(scope="module")
def bantuan_db(env):
    client = connect(env["MONGO_URI"])
    yield client[f"{env['BKPM_DB_PREFIX']}_bantuan"]
    client.close()


@pytest.fixture(scope="module")
def unit(api, national_unit):
    return form_units(api, "18", CITY)[CITY]


def appoint(api, unit, telepon, jabatan="wakil_ketua"):
    return api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": jabatan, "nama": "Bapak Wakil", "mulai": "2026-01-02", "telepon": telepon})


def test_a_board_member_typed_as_62_is_stored_in_e164_shown_locally_and_messaged_in_e164(
        api, unit, provider, organisasi_db):
    response = appoint(api, unit, "62 812-7000-0601")
    assert response.status_code == 201, response.text
    pengurus = response.json()
    assert pengurus["telepon"] == "0812-7000-0601"
    assert organisasi_db.pengurus.find_one({"_id": pengurus["id"]})["telepon"] == "+6281270000601"
    struktur = api.get(f"/units/{unit['id']}/struktur").json()
    assert [p["telepon"] for p in struktur["pengurus"] if p["id"] == pengurus["id"]] == ["0812-7000-0601"]
    [appointment] = provider.wait_for("+6281270000601", 1)  # the appointment's WhatsApp message
    assert appointment["path"] == "/wa"


def test_a_member_abroad_is_shown_in_the_international_form(api, unit, organisasi_db):
    response = api.post(f"/units/{unit['id']}/anggota", json={
        "nama": "Pak Diaspora", "kategori": "masyarakat", "telepon": "+65 9123-4567"})
    assert response.status_code == 201, response.text
    assert response.json()["telepon"] == "+65 9123 4567"
    assert organisasi_db.anggota.find_one({"_id": response.json()["id"]})["telepon"] == "+6591234567"


@pytest.mark.parametrize("typed, message", [("0812-BKPM", INVALID), ("12345", INVALID),
                                            ("0812 3456 7890 ext 1", INVALID), ("(021) 555-0123", NOT_MOBILE)])
def test_what_is_no_mobile_number_is_a_400_in_bahasa_indonesia(api, unit, typed, message):
    problem = assert_problem(appoint(api, unit, typed, jabatan="sekretaris"), 400)
    assert problem["errors"]["telepon"] == [message]


def test_a_recipients_number_stored_in_an_old_form_reaches_the_provider_in_e164(api, unit, provider, bantuan_db):
    program = api.post("/bantuan/program", json={
        "nama": "Sembako Bandar Lampung", "jenis": "sembako", "unit_id": unit["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 5, "wilayah_sasaran": [CITY]}).json()
    assert api.post(f"/bantuan/program/{program['id']}/aktifkan").status_code == 200
    registered = api.post("/bantuan/penerima", json=recipient(18001, village=VILLAGE, telepon="0812.7000.0602"))
    assert registered.status_code == 201, registered.text
    penerima = registered.json()
    assert penerima["telepon"] == "0812-7000-0602"
    assert bantuan_db.penerima.find_one({"_id": penerima["id"]})["telepon"] == "+6281270000602"

    # As a number was kept before issue 18: as typed, which the messages must not depend on.
    bantuan_db.penerima.update_one({"_id": penerima["id"]}, {"$set": {"telepon": "081270000603"}})
    assert api.get(f"/bantuan/penerima/{penerima['id']}").json()["telepon"] == "0812-7000-0603"
    given = api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                 "tanggal": "2026-03-01", "jenis_bukti": "foto", "bukti": "IMG-18"})
    assert given.status_code == 201, given.text
    [receipt] = provider.wait_for("+6281270000603", 1)
    assert receipt["path"] == "/wa" and provider.to("081270000603") == []
