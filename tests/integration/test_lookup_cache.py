"""The services' lookups in organisasi (services/common/messaging.py `CachedRpcProxy`) end to
end, on the real broker and database: kegiatan answers from memory what it asked organisasi
before (a change no event announces stays unseen), any organisasi event makes it ask again,
an import of the area list is heard at once, and notifikasi writes to a member who joined
since the unit's last activity."""
import time

import pytest

from services.organisasi.commands import import_wilayah
from tests.support import events_fixture, form_units

# Villages of Kota Samarinda (Kalimantan Timur), which no other module uses; kegiatan may hold
# the first as retired when its test ends (only an event makes it ask again).
VILLAGE, OTHER_VILLAGE, DECREED_VILLAGE = "64.72.01.1001", "64.72.02.1001", "64.72.01.1002"
SEKRETARIS = {"jabatan": "sekretaris", "nama": "AKBP Rina", "nrp": "80020304", "pangkat": "AKBP",
              "jabatan_polri": "Kasat Binmas", "mulai": "2025-01-01", "email": "rina@contoh.go.id"}

organisasi_events = events_fixture("organisasi.events")
kegiatan_events = events_fixture("kegiatan.events")


@pytest.fixture(scope="module")
def samarinda(api, national_unit, organisasi_events):
    """The unit of Kota Samarinda with its sekretaris, every event of the setup gone out (so
    none arrives late and forgets what a test relies on being held)."""
    units = form_units(api, "64", "64.72")
    unit = units["64.72"]
    pengurus = api.post(f"/units/{unit['id']}/pengurus", json=SEKRETARIS)
    assert pengurus.status_code == 201, pengurus.text
    organisasi_events.wait_for(lambda e: e["type"] == "pengurus.diangkat" and e["data"]["id"] == pengurus.json()["id"])
    return unit


def schedule(api, unit, judul, village=VILLAGE):
    return api.post("/kegiatan", json={
        "unit_id": unit["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": judul,
        "mulai": "2027-03-02T09:00:00+07:00", "selesai": "2027-03-02T12:00:00+07:00",
        "lokasi": {"kode_wilayah": village, "alamat": "Balai Kelurahan"}})


def answered_soon(api, unit, judul, village, status, timeout=5):
    """The answer to scheduling the activity, once it is `status` (or the last after `timeout`):
    kegiatan's listener hears an event moments after the test's own collector may have."""
    deadline = time.monotonic() + timeout
    while True:
        response = schedule(api, unit, judul, village)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def set_listed(organisasi_db, listed):
    """Change the village in organisasi's reference behind its back: no event tells of it."""
    organisasi_db["wilayah"].update_one({"_id": VILLAGE}, {"$set": {"aktif": listed}})


@pytest.fixture(scope="module")
def kegiatan_hearing(api, samarinda, organisasi_db):
    """kegiatan keeping organisasi's answers: until its listener hears organisasi's events
    nothing is kept, and it connects a moment after the service starts, which /ready does not
    wait for. Shown by an answer kept while the village was retired behind organisasi's back."""
    deadline = time.monotonic() + 10
    try:
        while True:
            assert schedule(api, samarinda, "Ronda bersama").status_code == 201  # asked, and kept if heard
            set_listed(organisasi_db, False)
            if schedule(api, samarinda, "Ronda bersama").status_code == 201:
                return  # organisasi would have refused the retired village: answered from memory
            set_listed(organisasi_db, True)
            assert time.monotonic() < deadline, "kegiatan never kept organisasi's answer"
    finally:
        set_listed(organisasi_db, True)


@pytest.fixture
def village_restored(organisasi_db):
    yield
    set_listed(organisasi_db, True)


def test_kegiatan_answers_from_memory_until_an_organisasi_event(api, samarinda, organisasi_db, organisasi_events,
                                                                 kegiatan_hearing, village_restored):
    assert schedule(api, samarinda, "Ronda bersama").status_code == 201  # asked, and kept
    set_listed(organisasi_db, False)
    assert schedule(api, samarinda, "Ronda bersama").status_code == 201  # from memory

    # Any organisasi event forgets what was kept: here a unit formed elsewhere.
    other = form_units(api, "64.71")["64.71"]
    organisasi_events.wait_for(lambda e: e["type"] == "unit.dibentuk" and e["data"]["id"] == other["id"])
    refused = answered_soon(api, samarinda, "Ronda bersama", VILLAGE, 400)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"]["lokasi"]["kode_wilayah"] == [
        f"Kode wilayah {VILLAGE} (Rawa Makmur) sudah tidak berlaku dalam daftar resmi terbaru."]


def test_kegiatan_hears_an_import_of_the_area_list_at_once(api, samarinda, organisasi_db, organisasi_events,
                                                           wilayah_csv, kegiatan_hearing):
    def imported(lines, change):
        report = import_wilayah(organisasi_db, lines)
        organisasi_events.wait_for(lambda e: e["type"] == "wilayah.diperbarui" and e["data"][change] == 1,
                                   timeout=15)
        return report

    official = wilayah_csv.read_text(encoding="utf-8").splitlines()
    assert schedule(api, samarinda, "Patroli dialogis", DECREED_VILLAGE).status_code == 201  # asked, and kept
    try:
        # A decree retires the village: the revised list no longer has it.
        assert imported([line for line in official if not line.startswith(f"{DECREED_VILLAGE},")],
                        "tidak_berlaku")["removed"] == [DECREED_VILLAGE]
        refused = answered_soon(api, samarinda, "Patroli dialogis", DECREED_VILLAGE, 400)
        assert refused.status_code == 400, refused.text
    finally:
        assert imported(official, "dipulihkan")["restored"] == [DECREED_VILLAGE]
    accepted = answered_soon(api, samarinda, "Patroli dialogis", DECREED_VILLAGE, 201)
    assert accepted.status_code == 201, accepted.text


def recipients(api, event_id, expected, timeout=20):
    """The names notifikasi logged deliveries to for the event, once they are `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        names = sorted({d["nama"] for d in api.get("/notifikasi", params={"event_id": event_id}).json()["items"]})
        if names == expected or time.monotonic() > deadline:
            return names
        time.sleep(0.2)


def test_notifikasi_writes_to_a_member_who_joined_since_the_last_activity(api, samarinda, organisasi_events,
                                                                           kegiatan_events):
    def scheduled_event(judul):
        kegiatan = schedule(api, samarinda, judul, OTHER_VILLAGE)
        assert kegiatan.status_code == 201, kegiatan.text
        [event] = kegiatan_events.wait_for(
            lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan.json()["id"])
        return event["id"]

    assert recipients(api, scheduled_event("Sambang warga"), ["AKBP Rina"]) == ["AKBP Rina"]

    member = api.post(f"/units/{samarinda['id']}/anggota",
                      json={"nama": "Pak Hasan", "kategori": "masyarakat", "email": "hasan@contoh.id"})
    assert member.status_code == 201, member.text
    organisasi_events.wait_for(lambda e: e["type"] == "anggota.bergabung" and e["data"]["id"] == member.json()["id"])

    expected = ["AKBP Rina", "Pak Hasan"]
    assert recipients(api, scheduled_event("Sambang warga lagi"), expected) == expected
