"""Corrections of a planned activity (issue 18) over an in-memory store: a reschedule made on
the version the caller read, the rules of a new activity on the corrected one, what stays, who
may, the event and who hears of it. No broker, no database."""
from datetime import datetime, timezone

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, PreconditionFailed, Unavailable
from services.common.patch import etag_of
from services.common.schema import load
from services.kegiatan import usecases
from services.kegiatan.schemas import PUBLIC_DATA_SCHEMAS, KegiatanBaruSchema, KegiatanUbahSchema
from services.notifikasi import usecases as notifikasi
from tests.unit.fakes import actor
from tests.unit.test_kegiatan_usecases import (PEMANTAU, PETUGAS, PLACE, SIDOARJO, bantuan, organisasi, refused,
                                               schedule, store)
from tests.unit.test_notifikasi_domain import KEGIATAN
from tests.unit.test_notifikasi_usecases import UNIT, World, contact, event

# The fixtures (a Surabaya unit's activities at PLACE, with organisasi and bantuan), used by name.
__all__ = ["bantuan", "organisasi", "schedule", "store"]
ANY = ["*"]


def seen(who, kegiatan, store):
    """The ETag of the activity as `who` reads it (what the gateway hands out with GET)."""
    return [etag_of(usecases.get_kegiatan(who, kegiatan["id"], store))]


@pytest.fixture
def correct(store, organisasi, bantuan):
    """correct(kegiatan, patch, who=PETUGAS, if_match=None): the correction as its entrypoint
    validates it, made on the version `who` reads now unless `if_match` says otherwise."""
    def correct(kegiatan, patch, who=PETUGAS, if_match=None):
        tags = if_match if if_match is not None else seen(who, kegiatan, store)
        return usecases.ubah_kegiatan(who, kegiatan["id"], load(KegiatanUbahSchema, patch), tags, store, organisasi,
                                      bantuan)
    return correct


def field_errors(patch):
    with pytest.raises(InvalidInput) as caught:
        load(KegiatanUbahSchema, patch)
    return caught.value.payload["errors"]


# A reschedule

def test_a_planned_activity_is_rescheduled_on_the_version_read_and_says_what_changed(store, schedule, correct):
    kegiatan = schedule()
    before = seen(PETUGAS, kegiatan, store)
    moved = correct(kegiatan, {"mulai": "2026-12-06T13:00:00+07:00", "selesai": "2026-12-06T15:30:00+07:00"})

    assert moved["mulai"] == "2026-12-06T06:00:00+00:00" and moved["selesai"] == "2026-12-06T08:30:00+00:00"
    assert moved == usecases.get_kegiatan(PETUGAS, kegiatan["id"], store)  # what GET shows now, to the byte
    assert [etag_of(moved)] != before
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("kegiatan.diubah", f"kegiatan/{kegiatan['id']}",
                                                                   PLACE)
    assert event["data"]["diubah"] == ["mulai", "selesai"] and event["data"]["mulai"] == "2026-12-06T06:00:00+00:00"
    assert event["public"]["diubah"] == ["mulai", "selesai"] and "alamat" not in event["public"]["lokasi"]
    assert set(PUBLIC_DATA_SCHEMAS["kegiatan.diubah"]().fields) == \
        set(PUBLIC_DATA_SCHEMAS["kegiatan.dijadwalkan"]().fields) | {"diubah"}


def test_the_etag_of_the_answer_that_scheduled_it_is_the_version_a_correction_names(store, schedule, correct):
    """Times typed in WIB are kept and answered in UTC to the millisecond, as read back later."""
    kegiatan = schedule(mulai="2026-12-05T09:00:00.123456+07:00")
    assert kegiatan["mulai"] == "2026-12-05T02:00:00.123000+00:00"
    assert correct(kegiatan, {"judul": "Dialog warga RW 03"}, if_match=[etag_of(kegiatan)])["judul"] == \
        "Dialog warga RW 03"


def test_times_are_loaded_in_utc_to_the_millisecond():
    body = {"unit_id": "u", "jenis": "dialog", "judul": "x", "mulai": "2026-12-05T09:00:00.999999+07:00",
            "selesai": "2026-12-05T12:00:00+07:00", "lokasi": {"kode_wilayah": PLACE, "alamat": "x"}}
    loaded = load(KegiatanBaruSchema, body)
    assert loaded["mulai"] == datetime(2026, 12, 5, 2, 0, 0, 999000, tzinfo=timezone.utc)
    assert loaded["mulai"].utcoffset().total_seconds() == 0


def test_a_stale_version_is_refused_and_nothing_is_written(store, schedule, correct):
    kegiatan = schedule()
    stale = seen(PETUGAS, kegiatan, store)
    correct(kegiatan, {"judul": "Dialog warga"})
    with pytest.raises(PreconditionFailed) as caught:
        correct(kegiatan, {"judul": "Dialog pemuda"}, if_match=stale)
    assert caught.value.payload["code"] == "versi_berubah"
    assert store.kegiatan(kegiatan["id"])["judul"] == "Dialog warga"
    assert store.uow.types() == ["kegiatan.dijadwalkan", "kegiatan.diubah"]


def test_any_version_will_do_with_a_star(store, schedule, correct):
    kegiatan = schedule()
    correct(kegiatan, {"judul": "Dialog warga"})
    assert correct(kegiatan, {"judul": "Dialog pemuda"}, if_match=ANY)["judul"] == "Dialog pemuda"


def test_a_change_made_between_the_read_and_the_write_is_a_412_not_lost(store, schedule, correct):
    kegiatan = schedule()
    commit = store.uow.commit

    def someone_else_first(work):
        store.tables["kegiatan"][kegiatan["id"]]["judul"] = "Diubah orang lain"
        return commit(work)

    store.uow.commit = someone_else_first
    refused(PreconditionFailed, correct, kegiatan, {"deskripsi": "Bawa KTP."})
    assert store.kegiatan(kegiatan["id"])["judul"] == "Diubah orang lain"
    assert "deskripsi" not in store.kegiatan(kegiatan["id"]) and store.uow.types() == ["kegiatan.dijadwalkan"]


def test_a_patch_that_changes_nothing_writes_and_tells_nothing(store, schedule, correct):
    kegiatan = schedule()
    commits = store.uow.commits
    same = correct(kegiatan, {"judul": kegiatan["judul"], "deskripsi": None})
    assert same == usecases.get_kegiatan(PETUGAS, kegiatan["id"], store)
    assert store.uow.commits == commits and store.uow.types() == ["kegiatan.dijadwalkan"]


@pytest.mark.parametrize("step", ["mulai", "batal"])
def test_only_a_planned_activity_is_corrected(store, schedule, correct, step):
    kegiatan = schedule()
    if step == "mulai":
        usecases.mulai_kegiatan(PETUGAS, kegiatan["id"], store)
    else:
        usecases.batalkan_kegiatan(PETUGAS, kegiatan["id"], {"alasan": "Hujan"}, store)
    status = store.kegiatan(kegiatan["id"])["status"]
    payload = refused(Conflict, correct, kegiatan, {"judul": "Terlambat"})
    assert (payload["code"], payload["status_kegiatan"]) == ("kegiatan_tidak_direncanakan", status)
    assert status in payload["detail"]


# The corrected activity passes the rules of a new one

@pytest.mark.parametrize("jenis, fields, patch, errors", [
    ("dialog", {}, {"selesai": "2026-12-05T08:00:00+07:00"}, {"selesai": ["Waktu selesai harus setelah waktu mulai."]}),
    ("dialog", {}, {"topik": "narkoba"}, {"topik": ["Hanya untuk kegiatan penyuluhan."]}),
    ("penyuluhan", {"topik": "narkoba"}, {"topik": "lainnya"}, {"topik_lainnya": ["Jelaskan bila memilih 'lainnya'."]}),
    ("penyuluhan", {"topik": "lainnya", "topik_lainnya": "Judi daring"}, {"topik_lainnya": None},
     {"topik_lainnya": ["Jelaskan bila memilih 'lainnya'."]}),
    ("pengembangan_kapasitas", {"materi": "bela_diri"}, {"rute": [{"kode_wilayah": PLACE}]},
     {"rute": ["Hanya untuk kegiatan patroli bersama."]}),
    ("bantuan_sosial", {"program_id": "program-sembako"}, {"program_id": "program-tidak-ada"},
     {"program_id": ["Program bantuan program-tidak-ada tidak ditemukan."]}),
    ("dialog", {}, {"lokasi": {"kode_wilayah": "35.15.01"}},
     {"lokasi": {"kode_wilayah": ["Lokasi 35.15.01 berada di luar wilayah unit (35.78)."]}}),
    ("dialog", {}, {"lokasi": {"kode_wilayah": "35.78.09"}}, {"lokasi": {"kode_wilayah": [
        "Kode wilayah 35.78.09 (Kelurahan Lama) sudah tidak berlaku dalam daftar resmi terbaru."]}}),
])
def test_a_correction_that_breaks_a_rule_of_its_kind_is_a_field_error(store, schedule, correct, jenis, fields, patch,
                                                                      errors):
    kegiatan = schedule(jenis, **fields)
    assert refused(InvalidInput, correct, kegiatan, patch)["errors"] == errors
    assert store.kegiatan(kegiatan["id"])["status"] == "direncanakan" and len(store.uow.events) == 1


def test_each_kind_corrects_its_own_fields(store, schedule, correct, bantuan):
    patrol = schedule("patroli_bersama", rute=[{"kode_wilayah": PLACE}])
    route = [{"titik": {"lat": -7.3, "lon": 112.7}}, {"kode_wilayah": "35.78.02"}]
    assert correct(patrol, {"rute": route})["rute"] == route  # a list is replaced whole
    penyuluhan = schedule("penyuluhan", topik="lainnya", topik_lainnya="Judi daring")
    fixed = correct(penyuluhan, {"topik": "narkoba", "topik_lainnya": None})
    assert fixed["topik"] == "narkoba" and "topik_lainnya" not in fixed
    sembako = schedule("bantuan_sosial", program_id="program-sembako")
    bantuan.programs["program-beras"] = {"id": "program-beras", "nama": "Beras"}
    assert correct(sembako, {"program_id": "program-beras"})["program_id"] == "program-beras"
    assert [event["data"]["diubah"] for event in store.uow.events if event["type"] == "kegiatan.diubah"] == [
        ["rute"], ["topik", "topik_lainnya"], ["program_id"]]


def test_a_new_program_is_asked_of_bantuan_an_unchanged_one_is_not(store, schedule, correct, bantuan):
    kegiatan = schedule("bantuan_sosial", program_id="program-sembako")
    bantuan.down = True
    assert correct(kegiatan, {"judul": "Pembagian beras"})["judul"] == "Pembagian beras"
    refused(Unavailable, correct, kegiatan, {"program_id": "program-beras"})


def test_a_move_is_asked_of_organisasi_a_new_address_in_the_same_area_is_not(store, schedule, correct, organisasi):
    kegiatan = schedule()
    moved = correct(kegiatan, {"lokasi": {"kode_wilayah": "35.78.02", "lat": -7.3, "lon": 112.7}})
    assert moved["lokasi"] == {"kode_wilayah": "35.78.02", "alamat": "Balai RW 03", "lat": -7.3, "lon": 112.7}
    assert store.uow.events[-1]["wilayah"] == "35.78.02" and store.uow.events[-1]["data"]["diubah"] == ["lokasi"]
    organisasi.down = True
    kept = correct(kegiatan, {"lokasi": {"alamat": "Aula Kelurahan", "lat": None, "lon": None}})
    assert kept["lokasi"] == {"kode_wilayah": "35.78.02", "alamat": "Aula Kelurahan"}  # merged; null removed


# What stays, and who may

@pytest.mark.parametrize("patch, errors", [
    ({"jenis": "penyuluhan"}, {"jenis": ["Jenis kegiatan tidak dapat diubah; batalkan kegiatan ini lalu jadwalkan "
                                         "kegiatan baru."]}),
    ({"unit_id": "unit-35"}, {"unit_id": ["Unit penyelenggara tidak dapat diubah; batalkan kegiatan ini lalu "
                                          "jadwalkan kegiatan baru."]}),
    ({"status": "selesai"}, {"status": ["Status tidak diubah dengan koreksi; gunakan /mulai, /selesai atau /batal."]}),
    ({"laporan": {}}, {"laporan": ["Field tidak dikenal."]}),
    ({}, {"_schema": ["Kirim minimal satu field yang diubah."]}),
    ({"judul": None}, {"judul": ["Tidak boleh kosong (null)."]}),
    ({"lokasi": {"alamat": None}}, {"lokasi": {"alamat": ["Tidak boleh kosong (null)."]}}),
    ({"mulai": "2026-12-05T09:00:00"}, {"mulai": ["Waktu harus menyertakan zona waktu (contoh +07:00)."]}),
    ({"rute": []}, {"rute": ["Panjang harus antara 1 dan 100."]}),
])
def test_what_a_correction_may_not_touch_or_hold_is_refused_by_name(patch, errors):
    assert field_errors(patch) == errors


@pytest.mark.parametrize("who", [PEMANTAU, SIDOARJO, actor("petugas", "35.78.01"), actor("admin", "36")],
                         ids=["reader", "next-door", "below-the-unit", "another-province"])
def test_corrections_are_made_only_by_recorders_covering_the_unit(store, schedule, correct, who):
    kegiatan = schedule()
    refused(Forbidden, correct, kegiatan, {"judul": "Bukan hak saya"}, who=who, if_match=ANY)
    assert store.kegiatan(kegiatan["id"])["judul"] == kegiatan["judul"] and len(store.uow.events) == 1


# Who hears of it

def test_the_units_people_hear_of_a_new_time_or_place_not_of_a_corrected_title():
    world = World()
    world.organisasi.contacts[UNIT] = [contact("p-1", "Kombes Irwan", "ketua", email="kapolres@contoh.go.id"),
                                       contact("a-1", "Ibu Ani", email="ani@contoh.id")]
    for event_id, diubah in (("e-1", ["judul"]), ("e-2", ["deskripsi", "mulai", "selesai"])):
        notifikasi.tell_unit_of_reschedule(event("kegiatan.diubah", {**KEGIATAN, "diubah": diubah}, event_id=event_id),
                                           world.store, world.organisasi, world.postman)
    assert world.log(event_id="e-1") == []
    sent = sorted((to, message.subject) for channel, to, message, _ in world.sender.sent if channel == "email")
    assert sent == [(to, "Jadwal kegiatan BKPM berubah: Patroli malam Menteng")
                    for to in ("ani@contoh.id", "kapolres@contoh.go.id")]
    assert "Rabu, 2 Desember 2026 pukul 20.00 WIB" in world.sender.sent[0][2].text
