"""The access log of personal data (services/common/access_log.py, UU No. 27/2022): every read of
a whole NIK, No. KK or a person's contacts is written down (who, when, which record, which
fields, through which route, in which area) before the data leave, never with the values; a
read whose entry cannot be written is refused; admins read the log of their area only; nobody
can change it, and a change made straight in the database breaks its chain."""
import ast
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.bantuan import usecases as bantuan
from services.bantuan.domain import PENERIMA
from services.common.access_log import (AKSES, AksesQuerySchema, Reader, chain_hash, first_break, list_akses,
                                        record_read)
from services.common.errors import Forbidden, NotFound, Unavailable
from services.common.schema import load
from services.kegiatan import usecases as kegiatan
from services.kegiatan.repository import ASPIRASI, KEGIATAN, PESERTA
from services.organisasi import usecases as organisasi
from tests.nik import recipient
from tests.unit.fake_bantuan import FakeBantuanRepository
from tests.unit.fake_kegiatan import FakeKegiatanRepository
from tests.unit.fake_organisasi import FakeOrganisasiRepository
from tests.unit.fakes import actor

ROOT = Path(__file__).resolve().parents[2]
VILLAGE = "32.73.01.1001"
PETUGAS = actor("petugas", "32.73", sub="petugas-bandung")
PEMANTAU = actor("pemantau", "32.73")
PHONE, EMAIL = "081299998888", "warga@contoh.id"
NOTIFIKASI = Reader("bantuan.get_kontak_penerima", service="notifikasi")


def reader(who, route):
    return Reader(route, sub=who.sub, roles=who.roles)


def entries(store):
    return store.access_log()


def assert_names_no_value(entry, *values):
    assert not any(value in repr(entry) for value in values), entry


# bantuan: a recipient's NIK, No. KK, phone

@pytest.fixture
def penerima_store():
    store = FakeBantuanRepository()
    store.put(PENERIMA, {"id": "penerima-1", **recipient(1), "telepon": PHONE})
    return store


def test_a_recorder_reading_a_recipient_whole_is_logged_once_by_name_never_by_value(penerima_store):
    shown = bantuan.get_penerima(PETUGAS, "penerima-1", penerima_store, reader(PETUGAS, "bantuan.get_penerima"))
    assert shown["nik"] == recipient(1)["nik"]
    [entry] = entries(penerima_store)
    assert {key: entry[key] for key in ("oleh", "rute", "jenis", "data_id", "kolom", "wilayah", "urutan")} == {
        "oleh": {"sub": "petugas-bandung", "peran": ["petugas"]}, "rute": "bantuan.get_penerima",
        "jenis": "penerima", "data_id": ["penerima-1"], "kolom": ["nik", "no_kk", "tanggal_lahir", "telepon"],
        "wilayah": VILLAGE, "urutan": 1}
    assert isinstance(entry["waktu"], datetime)
    assert_names_no_value(entry, recipient(1)["nik"], recipient(1)["no_kk"], PHONE)


def test_a_masked_read_or_a_refused_one_is_not_logged(penerima_store):
    assert "*" in bantuan.get_penerima(PEMANTAU, "penerima-1", penerima_store, reader(PEMANTAU, "r"))["nik"]
    bantuan.list_penerima(PETUGAS, {"page": 1, "per_page": 20}, penerima_store)
    with pytest.raises(NotFound):
        bantuan.get_penerima(actor("petugas", "32.04"), "penerima-1", penerima_store, reader(PETUGAS, "r"))
    assert entries(penerima_store) == []


def test_a_read_whose_entry_cannot_be_written_is_refused_without_the_data(penerima_store):
    penerima_store.access_log_down = True
    with pytest.raises(Unavailable):
        bantuan.get_penerima(PETUGAS, "penerima-1", penerima_store, reader(PETUGAS, "bantuan.get_penerima"))
    with pytest.raises(Unavailable):
        bantuan.get_kontak_penerima("penerima-1", penerima_store, NOTIFIKASI)


def test_notifikasi_reading_a_recipients_phone_is_logged_under_the_service(penerima_store):
    assert bantuan.get_kontak_penerima("penerima-1", penerima_store, NOTIFIKASI)["telepon"] == PHONE
    [entry] = entries(penerima_store)
    assert entry["oleh"] == {"layanan": "notifikasi"} and entry["kolom"] == ["telepon"]
    assert entry["rute"] == "bantuan.get_kontak_penerima" and entry["data_id"] == ["penerima-1"]


# organisasi: board members' and members' contacts

@pytest.fixture
def unit_store():
    store = FakeOrganisasiRepository()
    store.add_wilayah("31", "DKI Jakarta")
    admin = actor("admin")
    organisasi.bentuk_unit(admin, {"tingkat": "nasional"}, store)
    unit = organisasi.bentuk_unit(admin, {"tingkat": "provinsi", "kode_wilayah": "31"}, store)
    organisasi.angkat_pengurus(admin, unit["id"], {"jabatan": "sekretaris", "nama": "AKBP Sari", "nrp": "68010012",
                                                   "pangkat": "AKBP", "jabatan_polri": "Kabag",
                                                   "mulai": "2026-01-02", "telepon": PHONE}, store)
    organisasi.tambah_anggota(admin, unit["id"], {"nama": "Siti", "kategori": "tokoh_agama", "email": EMAIL}, store)
    organisasi.tambah_anggota(admin, unit["id"], {"nama": "Tanpa Kontak", "kategori": "tokoh_agama"}, store)
    store.unit_id = unit["id"]
    return store


def test_a_manager_reading_the_structure_logs_each_kind_of_person_read_with_contacts(unit_store):
    pengurus = actor("pengurus", "31", sub="pengurus-31")
    organisasi.get_struktur(pengurus, unit_store.unit_id, unit_store, reader(pengurus, "organisasi.get_struktur"))
    logged = {entry["jenis"]: entry for entry in entries(unit_store)}
    assert logged["pengurus"]["kolom"] == ["nrp", "telepon"] and logged["anggota"]["kolom"] == ["email"]
    assert len(logged["anggota"]["data_id"]) == 1  # the member without contacts gave nothing away
    assert {entry["wilayah"] for entry in logged.values()} == {"31"}
    assert_names_no_value(logged, PHONE, EMAIL, "68010012")
    organisasi.get_struktur(actor("pemantau", "31"), unit_store.unit_id, unit_store, reader(PEMANTAU, "r"))
    assert len(entries(unit_store)) == 2  # masked for a reader: nothing more logged


def test_notifikasi_reading_a_units_contacts_is_logged_and_refused_without_the_log(unit_store):
    notifikasi = Reader("organisasi.list_kontak_unit", service="notifikasi")
    assert len(organisasi.list_kontak_unit(unit_store.unit_id, unit_store, notifikasi)) == 3
    assert {entry["jenis"] for entry in entries(unit_store)} == {"pengurus", "anggota"}
    assert all(entry["oleh"] == {"layanan": "notifikasi"} for entry in entries(unit_store))
    unit_store.access_log_down = True
    for read in (lambda: organisasi.list_kontak_unit(unit_store.unit_id, unit_store, notifikasi),
                 lambda: organisasi.list_kontak_sekretaris(unit_store.unit_id, False, unit_store, notifikasi)):
        with pytest.raises(Unavailable):
            read()


# kegiatan: reporters and participants

@pytest.fixture
def aspirasi_store():
    store = FakeKegiatanRepository()
    for aspirasi_id, rahasia in (("aspirasi-1", False), ("aspirasi-2", True)):
        store.put(ASPIRASI, {"id": aspirasi_id, "kode_wilayah": "35.78.01.1001", "unit_id": "unit-35.78",
                             "unit_kode": "35.78", "rahasia": rahasia, "status": "diterima", "kategori": "keluhan",
                             "isi": "Lampu jalan mati.", "nomor_tiket": aspirasi_id, "riwayat": [], "terlambat": [],
                             "diterima": datetime(2026, 12, 4, tzinfo=timezone.utc), "kegiatan_id": None,
                             "batas_verifikasi": datetime(2026, 12, 9, tzinfo=timezone.utc), "batas_jawaban": None,
                             "pelapor": {"nama": "Bu Sri", "telepon": PHONE}})
    return store


def test_an_officer_reading_a_reporter_is_logged_and_a_confidential_one_hidden_from_them_is_not(aspirasi_store):
    petugas = actor("petugas", "35.78.01", sub="petugas-karang-pilang")
    route = reader(petugas, "kegiatan.get_aspirasi")
    assert kegiatan.get_aspirasi(petugas, "aspirasi-1", aspirasi_store, route)["pelapor"]["telepon"] == \
        "0812-9999-8888"  # PHONE in the local form
    assert kegiatan.get_aspirasi(petugas, "aspirasi-2", aspirasi_store, route)["pelapor"] is None
    [entry] = entries(aspirasi_store)
    assert entry["jenis"] == "pelapor" and entry["data_id"] == ["aspirasi-1"] and entry["kolom"] == ["nama", "telepon"]
    assert_names_no_value(entry, PHONE, "Bu Sri")
    aspirasi_store.access_log_down = True
    with pytest.raises(Unavailable):
        kegiatan.get_aspirasi(petugas, "aspirasi-1", aspirasi_store, route)
    with pytest.raises(Unavailable):
        kegiatan.get_kontak_pelapor("aspirasi-1", aspirasi_store, Reader("kegiatan.get_kontak_pelapor",
                                                                         service="notifikasi"))


def test_a_list_of_aspirations_is_one_write_of_one_entry_per_area(aspirasi_store):
    aspirasi_store.put(ASPIRASI, {**aspirasi_store.aspirasi("aspirasi-1"), "id": "aspirasi-3",
                                  "kode_wilayah": "35.78.02.1001", "nomor_tiket": "t-3"})
    written = []
    record_access = aspirasi_store.record_access
    aspirasi_store.record_access = lambda batch: (written.append(len(batch)), record_access(batch))
    petugas = actor("petugas", "35.78")
    kegiatan.list_aspirasi(petugas, {"page": 1, "per_page": 20, "urut": "terbaru"}, aspirasi_store,
                           reader(petugas, "r"))
    assert written == [2]
    assert {entry["wilayah"] for entry in entries(aspirasi_store)} == {"35.78.01.1001", "35.78.02.1001"}


def test_a_recorder_listing_participants_is_logged(aspirasi_store):
    aspirasi_store.put(KEGIATAN, {"id": "kegiatan-1", "lokasi": {"kode_wilayah": "35.78.01"}})
    aspirasi_store.put(PESERTA, {"id": "peserta-1", "kegiatan_id": "kegiatan-1", "nama": "Andi", "unsur": "warga",
                                 "telepon": None, "email": EMAIL})
    petugas = actor("petugas", "35.78")
    kegiatan.list_peserta(petugas, "kegiatan-1", {"page": 1, "per_page": 20}, aspirasi_store, reader(petugas, "r"))
    [entry] = entries(aspirasi_store)
    assert entry["jenis"] == "peserta" and entry["kolom"] == ["email"] and entry["wilayah"] == "35.78.01"


# Reading the log

@pytest.fixture
def logged():
    """A log with a read in Bandung, one in Kabupaten Bandung and one of the national unit."""
    store = FakeBantuanRepository()
    for wilayah, jenis in (("32.73.01.1001", "penerima"), ("32.04.01.1001", "penerima"), (None, "pengurus")):
        record_read(store, NOTIFIKASI, [(jenis, f"{jenis}-{wilayah}", wilayah, {"telepon": PHONE})])
    return store


def query(**fields):
    return load(AksesQuerySchema, fields)


def test_admins_read_the_log_of_their_area_only_and_nobody_else_reads_it(logged):
    def places(who, after=0, **fields):
        return [item["seq"] for item in list_akses(who, query(**fields), after, logged, "bantuan")["items"]]

    assert places(actor("admin")) == [1, 2, 3]
    assert places(actor("admin", "32.73")) == [1]
    assert places(actor("admin", "32")) == [1, 2]
    assert places(actor("admin"), wilayah="32.04") == [2]
    assert places(actor("admin"), jenis="pengurus") == [3]
    assert places(actor("admin"), after=1, limit=1) == [2]
    assert places(actor("admin"), sampai=(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()) == []
    for role in ("petugas", "pengurus", "pemantau"):
        with pytest.raises(Forbidden):
            list_akses(actor(role, "32.73"), query(), 0, logged, "bantuan")
    assert places(actor("admin", "32.73"), wilayah="32") == [1]  # asking wider does not widen it
    with pytest.raises(Forbidden):
        list_akses(actor("admin", "32.73"), query(wilayah="32.04"), 0, logged, "bantuan")
    [item] = list_akses(actor("admin", "32.73"), query(), 0, logged, "bantuan")["items"]
    assert item["event"]["layanan"] == "bantuan" and item["event"]["urutan"] == 1
    assert "hash" not in item["event"] and PHONE not in repr(item)


# Nobody edits it, and an edit in the database shows

def test_the_chain_shows_an_entry_changed_removed_or_slipped_in(logged):
    log = entries(logged)
    assert first_break(log) is None
    assert first_break([log[0], {**log[1], "data_id": ["lain"]}, log[2]]) == 2
    assert first_break([log[0], log[2]]) == 3
    forged = {**log[1], "data_id": ["lain"]}
    forged["hash"] = chain_hash(log[0]["hash"], forged)  # rehashed: the next entry's link shows it
    assert first_break([log[0], forged, log[2]]) == 3
    assert first_break([log[0], {**log[1], "oleh": {"layanan": "kegiatan"}}, log[2]]) == 2


def test_times_never_go_back_along_the_chain(logged):
    log = entries(logged)
    assert [entry["urutan"] for entry in log] == [1, 2, 3]
    assert all(a["waktu"] <= b["waktu"] and b["sebelumnya"] == a["hash"] for a, b in zip(log, log[1:], strict=False))


WRITES = re.compile(r"\.(update|delete|replace|find_one_and_|bulk_write|drop|rename)")


def test_no_code_path_changes_or_removes_an_access_log_entry():
    """The repository appends and reads; nothing anywhere names the collection with a write
    other than an insert."""
    users = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\[AKSES\]|[\"']akses[\"']\]", line):
                users.append((path.relative_to(ROOT).as_posix(), number, line))
    assert users and {path for path, _, _ in users} == {"services/common/mongo.py"}
    assert not [line for _, _, line in users if WRITES.search(line)], users
    assert {call for _, _, line in users for call in re.findall(r"\[AKSES\]\.(\w+)", line)} == {
        "find_one", "insert_many", "find"}
    tree = ast.parse((ROOT / "services/common/mongo.py").read_text())
    [repository] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Repository"]
    access_methods = {node.name for node in repository.body if isinstance(node, ast.FunctionDef)
                      and "AKSES" in ast.unparse(node)}
    assert access_methods == {"record_access", "access_entries", "access_log"}
    assert AKSES == "akses"
