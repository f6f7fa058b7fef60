"""A recipient erased on request (UU No. 27/2022): who may, what leaves the record and the audit
trail, what stays so the quota and the audit still add up, and the internal event for the
services that copied their contacts. Over bantuan's in-memory store."""
import pytest

from services.bantuan import usecases
from services.bantuan.domain import PENERIMA
from services.bantuan.schemas import HapusPenerimaSchema, PenerimaBaruSchema, PenyaluranBaruSchema, ProgramBaruSchema
from services.common.errors import Conflict, Forbidden, NotFound
from services.common.schema import load
from tests.nik import recipient
from tests.unit.fake_bantuan import FakeBantuanRepository, FakeKegiatan
from tests.unit.fakes import ADMIN, READER, FakeOrganisasi, actor

VILLAGE = "32.73.01.1001"
ADMIN_KOTA = actor("admin", "32.73")
ADMIN_ELSEWHERE = actor("admin", "32.04")
PETUGAS = actor("petugas", "32.73")
REQUEST = {"alasan": "Surat permintaan No. 12/2026."}
PERSONAL = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "alamat", "telepon")


@pytest.fixture
def store():
    return FakeBantuanRepository()


@pytest.fixture
def organisasi():
    organisasi = FakeOrganisasi()
    for kode in ("32", "32.73", "32.73.01", VILLAGE):
        organisasi.add_wilayah(kode)
    organisasi.add_unit("32.73")
    return organisasi


def register(store, organisasi, n, **fields):
    body = recipient(n, telepon="081234567890", **fields)
    return usecases.daftarkan_penerima(PETUGAS, load(PenerimaBaruSchema, body), store, organisasi)


def erase(store, penerima, by=ADMIN_KOTA):
    return usecases.hapus_penerima(by, penerima["id"], load(HapusPenerimaSchema, REQUEST), store)


def distributed(store, organisasi, penerima):
    program = usecases.buat_program(ADMIN, load(ProgramBaruSchema, {
        "nama": "Paket Sembako", "jenis": "sembako", "unit_id": "unit-32.73", "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 10, "wilayah_sasaran": ["32.73"]}), store, organisasi)
    usecases.aktifkan_program(ADMIN, program["id"], store)
    given = usecases.catat_penyaluran(PETUGAS, distribution(program, penerima), store, FakeKegiatan())
    return program, given


def distribution(program, penerima):
    return load(PenyaluranBaruSchema, {"program_id": program["id"], "penerima_id": penerima["id"],
                                       "tanggal": "2026-06-01", "jenis_bukti": "voucher", "bukti": "VCR-001"})


def test_an_admin_of_the_area_erases_a_recipients_personal_data_and_the_services_hear_of_it(store, organisasi):
    penerima = register(store, organisasi, 1)
    shown = erase(store, penerima)
    assert {name: shown[name] for name in PERSONAL} == dict.fromkeys(PERSONAL)
    assert (shown["id"], shown["kode_wilayah"]) == (penerima["id"], VILLAGE) and shown["dihapus"]
    stored = store.penerima(penerima["id"])
    assert not {recipient(1)[name] for name in ("nik", "no_kk", "nama", "alamat")} & set(map(str, stored.values()))
    assert stored["dihapus_oleh"] == ADMIN_KOTA.sub
    # The registration's answer, kept for a repeated request, goes too.
    assert store.forgotten_answers == [penerima["id"]]
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("penerima.dihapus", f"penerima/{penerima['id']}",
                                                                    VILLAGE)
    assert event["data"] == {"id": penerima["id"], "kode_wilayah": VILLAGE} and event["public"] is None
    # Read again, by a recorder or by notifikasi: nothing personal is left to give.
    assert usecases.get_penerima(PETUGAS, penerima["id"], store, READER)["nik"] is None
    assert usecases.get_kontak_penerima(penerima["id"], store, READER) is None


def test_the_audit_trail_keeps_who_did_what_but_no_old_personal_values(store, organisasi):
    penerima = register(store, organisasi, 1)
    # An entry as an edit of the record would write it, with the old and new values.
    store.audit(None, PENERIMA, penerima["id"], "diubah", PETUGAS.sub, {"nama": "Penerima 1", "alamat": "Jl. Lama"},
                {"nama": "Penerima Satu", "kode_wilayah": VILLAGE})
    erase(store, penerima)
    trail = [(e["aksi"], e["oleh"], e["lama"], e["baru"]) for e in store.audit_trail(penerima["id"])]
    assert trail == [("didaftarkan", PETUGAS.sub, None, {"kode_wilayah": VILLAGE}),
                     ("diubah", PETUGAS.sub, {}, {"kode_wilayah": VILLAGE}),
                     ("dihapus", ADMIN_KOTA.sub, None, REQUEST)]


def test_the_distributions_stay_counted_without_the_person(store, organisasi):
    penerima = register(store, organisasi, 1)
    program, given = distributed(store, organisasi, penerima)
    erase(store, penerima)
    assert usecases.get_program(ADMIN, program["id"], store)["tersalur"] == 1
    assert usecases.get_rekap_program(ADMIN, program["id"], {}, store)["per_wilayah"][VILLAGE] == 1
    [kept] = usecases.list_penyaluran(ADMIN, {"page": 1, "per_page": 20}, store)["items"]
    assert kept["id"] == given["id"] and kept["penerima_id"] == penerima["id"] and kept["status"] == "aktif"
    # The household keeps its one distribution of the program: its No. KK stays on it (masked).
    again = register(store, organisasi, 2, no_kk=recipient(1)["no_kk"])
    with pytest.raises(Conflict) as caught:
        usecases.catat_penyaluran(PETUGAS, distribution(program, again), store, FakeKegiatan())
    assert caught.value.payload["code"] == "sudah_menerima"


def test_an_erased_recipient_receives_nothing_more_and_the_person_may_register_again(store, organisasi):
    penerima = register(store, organisasi, 1)
    erase(store, penerima)
    program, _ = distributed(store, organisasi, register(store, organisasi, 3))
    with pytest.raises(Conflict) as caught:
        usecases.catat_penyaluran(PETUGAS, distribution(program, penerima), store, FakeKegiatan())
    assert caught.value.payload["code"] == "penerima_dihapus"
    # Their NIK is no longer held: registering them again makes a new record; two erased ones
    # do not collide either.
    anew = register(store, organisasi, 1)
    assert anew["id"] != penerima["id"] and anew["nik"] == recipient(1)["nik"]
    erase(store, anew)


def test_erasing_twice_is_a_conflict_and_tells_nobody_again(store, organisasi):
    penerima = register(store, organisasi, 1)
    erase(store, penerima)
    with pytest.raises(Conflict) as caught:
        erase(store, penerima)
    assert caught.value.payload["code"] == "sudah_dihapus"
    assert store.uow.types().count("penerima.dihapus") == 1


@pytest.mark.parametrize("by, error", [(ADMIN_ELSEWHERE, NotFound), (PETUGAS, Forbidden),
                                       (actor("pengurus", "32.73"), Forbidden),
                                       (actor("petugas", "32.04"), Forbidden)],
                         ids=["admin-elsewhere", "petugas", "pengurus", "petugas-elsewhere"])
def test_only_an_admin_of_the_area_erases_and_one_elsewhere_is_told_of_no_such_record(store, organisasi, by, error):
    penerima = register(store, organisasi, 1)
    with pytest.raises(error):
        erase(store, penerima, by=by)
    assert store.penerima(penerima["id"])["nik"] == recipient(1)["nik"]
    with pytest.raises(NotFound):
        erase(store, {"id": "penerima-tidak-ada"})
