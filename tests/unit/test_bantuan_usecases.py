"""bantuan's use cases over an in-memory store: who may manage programs and record aid where,
what is refused and why (a household twice, past the quota, an exclusive program), which event
each change emits, what the audit trail keeps, and what personal data the answers mask. No
broker, no database."""
import pytest

from services.bantuan import usecases
from services.bantuan.schemas import CariPenerimaSchema, PenerimaBaruSchema, PenyaluranBaruSchema, ProgramBaruSchema
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.common.schema import load
from tests.nik import recipient
from tests.unit.fake_bantuan import FakeBantuanRepository, FakeKegiatan, import_file
from tests.unit.fakes import ADMIN, READER, FakeOrganisasi, actor

PAGE = {"page": 1, "per_page": 20}
VILLAGE = "32.73.01.1001"            # where tests.nik's recipients live
OTHER_VILLAGE = "32.73.02.1001"
UNKNOWN_VILLAGE = "32.73.01.1888"
RETIRED_VILLAGE = "32.73.01.1999"
PENGURUS = actor("pengurus", "32.73")
PETUGAS = actor("petugas", "32.73")
PEMANTAU = actor("pemantau", "32.73")
PENGURUS_ELSEWHERE = actor("pengurus", "32.04")
PETUGAS_ELSEWHERE = actor("petugas", "32.04")
ELSEWHERE_VILLAGE = "32.04.01.1001"


@pytest.fixture
def store():
    return FakeBantuanRepository()


@pytest.fixture
def organisasi():
    organisasi = FakeOrganisasi()
    for kode in ("32", "32.73", "32.73.01", VILLAGE, "32.73.02", OTHER_VILLAGE, "32.04", "32.04.01",
                 "32.04.01.1001"):
        organisasi.add_wilayah(kode)
    organisasi.add_wilayah(RETIRED_VILLAGE, "Desa Lama", aktif=False)
    for kode in ("32", "32.73", "32.04"):
        organisasi.add_unit(kode)
    return organisasi


@pytest.fixture
def kegiatan():
    return FakeKegiatan()


def refused(error_class, func, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        func(*args, **kwargs)
    return caught.value.payload


def program_body(**fields):
    return {"nama": "Paket Sembako", "jenis": "sembako", "unit_id": "unit-32.73", "mulai": "2026-01-01",
            "selesai": "2026-12-31", "kuota": 100, "wilayah_sasaran": ["32.73"], **fields}


def create_program(store, organisasi, by=ADMIN, **fields):
    return usecases.buat_program(by, load(ProgramBaruSchema, program_body(**fields)), store, organisasi)


def new_program(store, organisasi, **fields):
    """An active program of the Bandung unit."""
    return usecases.aktifkan_program(ADMIN, create_program(store, organisasi, **fields)["id"], store)


def register(store, organisasi, n, by=PETUGAS, **fields):
    return usecases.daftarkan_penerima(by, load(PenerimaBaruSchema, recipient(n, **fields)), store, organisasi)


def distribution(program, penerima, **fields):
    return load(PenyaluranBaruSchema, {"program_id": program["id"], "penerima_id": penerima["id"],
                                       "tanggal": "2026-06-01", "jenis_bukti": "voucher", "bukti": "VCR-001",
                                       **fields})


def distribute(store, kegiatan, program, penerima, by=PETUGAS, **fields):
    return usecases.catat_penyaluran(by, distribution(program, penerima, **fields), store, kegiatan)


def trail(store, entitas_id):
    return [(entry["aksi"], entry["oleh"], entry["lama"], entry["baru"])
            for entry in usecases.list_jejak_audit(ADMIN, entitas_id, store)]


# Programs

def test_a_program_is_created_in_draft_announced_and_audited(store, organisasi):
    program = create_program(store, organisasi, by=PENGURUS)
    assert (program["status"], program["sisa"], program["tersalur"]) == ("draf", 100, 0)
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("program.dibuat", f"program/{program['id']}",
                                                                    "32.73")
    assert event["data"]["id"] == program["id"] and event["data"]["wilayah_sasaran"] == ["32.73"]
    [(aksi, oleh, lama, baru)] = trail(store, program["id"])
    assert (aksi, oleh, lama, baru["status"]) == ("dibuat", PENGURUS.sub, None, "draf")


@pytest.mark.parametrize("by", [PETUGAS, PEMANTAU, PENGURUS_ELSEWHERE])
def test_only_managers_of_the_unit_create_its_programs(store, organisasi, by):
    refused(Forbidden, create_program, store, organisasi, by)
    assert store.uow.events == []


@pytest.mark.parametrize("fields, field, message", [
    ({"selesai": "2025-12-31"}, "selesai", "Tanggal selesai tidak boleh sebelum tanggal mulai."),
    ({"unit_id": "unit-x"}, "unit_id", "Unit unit-x tidak ditemukan."),
    ({"wilayah_sasaran": ["32.73", "32.04"]}, "wilayah_sasaran", "Di luar wilayah unit: 32.04."),
    ({"wilayah_sasaran": [UNKNOWN_VILLAGE]}, "wilayah_sasaran",
     f"Kode wilayah {UNKNOWN_VILLAGE} tidak ada dalam referensi wilayah Kemendagri."),
    ({"wilayah_sasaran": [RETIRED_VILLAGE]}, "wilayah_sasaran",
     f"Kode wilayah {RETIRED_VILLAGE} (Desa Lama) sudah tidak berlaku dalam daftar resmi terbaru."),
    ({"eksklusif_dengan": ["program-x"]}, "eksklusif_dengan", "Program tidak ditemukan: program-x."),
])
def test_a_program_is_refused_with_the_field_at_fault(store, organisasi, fields, field, message):
    payload = refused(InvalidInput, create_program, store, organisasi, **fields)
    assert payload["errors"] == {field: [message]}
    assert store.rows("program") == []


def test_exclusivity_only_with_programs_one_also_manages(store, organisasi):
    elsewhere = create_program(store, organisasi, unit_id="unit-32.04", wilayah_sasaran=["32.04"])
    payload = refused(Forbidden, create_program, store, organisasi, PENGURUS, eksklusif_dengan=[elsewhere["id"]])
    assert payload["code"] == "akses_ditolak"
    assert create_program(store, organisasi, eksklusif_dengan=[elsewhere["id"]])["eksklusif_dengan"] == \
        [elsewhere["id"]]


def test_no_program_while_organisasi_does_not_answer(store, organisasi):
    organisasi.down = True
    refused(Unavailable, create_program, store, organisasi)
    assert store.uow.events == []


def test_a_program_is_activated_then_closed_each_step_announced_and_audited(store, organisasi):
    program = create_program(store, organisasi)
    active = usecases.aktifkan_program(PENGURUS, program["id"], store)
    closed = usecases.tutup_program(PENGURUS, program["id"], store)
    assert (active["status"], closed["status"]) == ("aktif", "ditutup")
    assert store.uow.types() == ["program.dibuat", "program.diaktifkan", "program.ditutup"]
    assert store.uow.events[-1]["data"]["status"] == "ditutup" and store.uow.events[-1]["wilayah"] == "32.73"
    assert [(aksi, lama, baru) for aksi, _, lama, baru in trail(store, program["id"])][1:] == [
        ("aktifkan", {"status": "draf"}, {"status": "aktif"}), ("tutup", {"status": "aktif"}, {"status": "ditutup"})]


@pytest.mark.parametrize("steps, message", [
    (("aktifkan", "aktifkan"), "Program berstatus 'aktif' tidak dapat diaktifkan."),
    (("tutup",), "Program berstatus 'draf' tidak dapat ditutup."),
    (("aktifkan", "tutup", "aktifkan"), "Program berstatus 'ditutup' tidak dapat diaktifkan."),
])
def test_a_step_the_lifecycle_does_not_allow_is_refused(store, organisasi, steps, message):
    program = create_program(store, organisasi)
    move = {"aktifkan": usecases.aktifkan_program, "tutup": usecases.tutup_program}
    for action in steps[:-1]:
        move[action](ADMIN, program["id"], store)
    payload = refused(Conflict, move[steps[-1]], ADMIN, program["id"], store)
    assert (payload["code"], payload["detail"]) == ("transisi_tidak_sah", message)
    assert payload["status_program"] == message.split("'")[1]


def test_a_step_lost_to_someone_faster_is_refused(store, organisasi):
    program = new_program(store, organisasi)
    close = store.move_program

    def closed_meanwhile(tx, program_id, allowed_from, target):
        store.tables["program"][program_id]["status"] = "ditutup"
        return close(tx, program_id, allowed_from, target)

    store.move_program = closed_meanwhile
    payload = refused(Conflict, usecases.tutup_program, ADMIN, program["id"], store)
    assert payload["code"] == "transisi_tidak_sah" and payload["status_program"] == "ditutup"
    assert store.uow.types().count("program.ditutup") == 0


@pytest.mark.parametrize("by, error", [(PETUGAS, Forbidden), (PENGURUS_ELSEWHERE, Forbidden)])
def test_only_managers_of_its_unit_move_a_program(store, organisasi, by, error):
    program = create_program(store, organisasi)
    refused(error, usecases.aktifkan_program, by, program["id"], store)
    assert usecases.get_program(ADMIN, program["id"], store)["status"] == "draf"


def test_an_unknown_program_is_not_found(store):
    payload = refused(NotFound, usecases.aktifkan_program, ADMIN, "program-x", store)
    assert payload["detail"] == "Program program-x tidak ditemukan."


@pytest.mark.parametrize("wilayah, sees", [
    (None, True), ("32", True), ("32.73", True), ("32.73.02", True), ("32.73.02.1001", True),
    ("32.73.01", False), ("32.04", False)])
def test_a_program_is_seen_where_it_reaches_or_by_its_unit(store, organisasi, wilayah, sees):
    program = create_program(store, organisasi, wilayah_sasaran=["32.73.02"])
    caller = actor("pemantau", wilayah)
    listed = usecases.list_program(caller, PAGE, store)
    assert [p["id"] for p in listed["items"]] == ([program["id"]] if sees else [])
    if sees:
        assert usecases.get_program(caller, program["id"], store)["id"] == program["id"]
    else:
        refused(Forbidden, usecases.get_program, caller, program["id"], store)


def test_programs_are_listed_by_status(store, organisasi):
    draft = create_program(store, organisasi)
    active = new_program(store, organisasi)
    assert [p["id"] for p in usecases.list_program(PEMANTAU, {**PAGE, "status": "draf"}, store)["items"]] == \
        [draft["id"]]
    assert usecases.list_program(PEMANTAU, {**PAGE, "status": "aktif"}, store)["items"][0]["id"] == active["id"]


def test_the_summary_rolls_distributions_up_the_areas(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    distribute(store, kegiatan, program, register(store, organisasi, 1))
    distribute(store, kegiatan, program, register(store, organisasi, 2, village=OTHER_VILLAGE), jenis_bukti="foto")
    assert usecases.get_rekap_program(PEMANTAU, program["id"], {}, store) == {
        "program_id": program["id"], "kuota": 100, "tersalur": 2, "sisa": 98,
        "per_wilayah": {"32": 2, "32.73": 2, "32.73.01": 1, VILLAGE: 1, "32.73.02": 1, OTHER_VILLAGE: 1},
        "per_bukti": {"voucher": 1, "foto": 1}, "rincian": []}
    refused(Forbidden, usecases.get_rekap_program, actor("pemantau", "32.04"), program["id"], {}, store)


def test_the_summary_breaks_down_by_area_below_and_month(store, organisasi, kegiatan):
    """The program runs from January 2026 (unit 32.73): distributions in June in two districts,
    and one in August; months without any (July) have their row of zeros."""
    program = new_program(store, organisasi)
    distribute(store, kegiatan, program, register(store, organisasi, 1))
    distribute(store, kegiatan, program, register(store, organisasi, 2, village=OTHER_VILLAGE), jenis_bukti="foto")
    distribute(store, kegiatan, program, register(store, organisasi, 3), tanggal="2026-08-17")

    def rincian(*rinci):
        return usecases.get_rekap_program(PEMANTAU, program["id"], {"rinci": list(rinci)}, store)["rincian"]

    def row(kode, bulan, voucher=0, foto=0):
        return {"kode_wilayah": kode, "bulan": bulan, "tersalur": voucher + foto,
                "per_bukti": {"tanda_tangan": 0, "foto": foto, "voucher": voucher}}

    assert rincian("wilayah") == [row("32.73.01", None, voucher=2), row("32.73.02", None, foto=1)]
    by_month = rincian("bulan")
    assert [r["bulan"] for r in by_month] == [f"2026-{m:02d}" for m in range(1, 9)]
    assert by_month[5] == row("32.73", "2026-06", voucher=1, foto=1) and by_month[7] == row("32.73", "2026-08", 1)
    assert by_month[6] == row("32.73", "2026-07")
    both = rincian("wilayah", "bulan")
    assert len(both) == 16 and both[5] == row("32.73.01", "2026-06", 1) and both[15] == row("32.73.02", "2026-08")


# Recipients

def test_a_recipient_is_registered_audited_and_shown_whole_to_the_recorder(store, organisasi):
    penerima = register(store, organisasi, 1, telepon="081234567890")
    assert (penerima["nik"], penerima["no_kk"]) == (recipient(1)["nik"], recipient(1)["no_kk"])
    assert penerima["telepon"] == "0812-3456-7890" and penerima["tanggal_lahir"] == recipient(1)["tanggal_lahir"]
    assert trail(store, penerima["id"]) == [("didaftarkan", PETUGAS.sub, None, {"kode_wilayah": VILLAGE})]
    assert store.uow.events == []  # a recipient is personal data: no event


def test_a_nik_is_registered_once(store, organisasi):
    first = register(store, organisasi, 1)
    payload = refused(Conflict, register, store, organisasi, 1, PETUGAS)
    assert payload == {"code": "nik_sudah_terdaftar", "detail": "NIK ini sudah terdaftar.", "penerima_id": first["id"]}
    assert len(store.rows("penerima")) == 1


@pytest.mark.parametrize("by", [PEMANTAU, PETUGAS_ELSEWHERE])
def test_only_recorders_of_the_area_register_recipients(store, organisasi, by):
    refused(Forbidden, register, store, organisasi, 1, by)


@pytest.mark.parametrize("fields, field, fragment", [
    ({"nik": recipient(1)["nik"][:12] + "0000"}, "nik", "0000"),
    ({"no_kk": "123"}, "no_kk", "16 angka"),
    ({"village": UNKNOWN_VILLAGE}, "kode_wilayah", "tidak ada dalam referensi"),
    ({"village": RETIRED_VILLAGE}, "kode_wilayah", "sudah tidak berlaku"),
])
def test_a_recipient_is_refused_with_the_field_at_fault(store, organisasi, fields, field, fragment):
    with pytest.raises(InvalidInput) as caught:
        register(store, organisasi, 1, **fields)
    assert list(caught.value.payload["errors"]) == [field]
    assert fragment in caught.value.payload["errors"][field][0]


def test_lists_mask_identity_numbers_phone_and_birth_date_even_for_recorders(store, organisasi):
    register(store, organisasi, 1, telepon="081234567890")
    [listed] = usecases.list_penerima(PETUGAS, PAGE, store)["items"]
    assert listed["nik"] == recipient(1)["nik"][:4] + "*" * 10 + recipient(1)["nik"][-2:]
    assert "*" in listed["no_kk"] and listed["telepon"] == "0812******90" and listed["tanggal_lahir"] is None


def test_one_recipient_is_whole_only_for_recorders(store, organisasi):
    penerima = register(store, organisasi, 1)
    assert usecases.get_penerima(PETUGAS, penerima["id"], store, READER)["nik"] == recipient(1)["nik"]
    seen = usecases.get_penerima(PEMANTAU, penerima["id"], store, READER)
    assert "*" in seen["nik"] and "*" in seen["no_kk"] and seen["tanggal_lahir"] is None
    refused(NotFound, usecases.get_penerima, PETUGAS, "penerima-x", store, READER)


def test_recipients_are_listed_in_the_callers_area_and_by_family_card_only_for_recorders(store, organisasi):
    first = register(store, organisasi, 1)
    register(store, organisasi, 2, village=OTHER_VILLAGE)
    by_village = usecases.list_penerima(PEMANTAU, {**PAGE, "kode_prefix": "32.73.01"}, store)
    assert [p["id"] for p in by_village["items"]] == [first["id"]] and by_village["total"] == 1
    assert usecases.list_penerima(actor("pemantau", "32.04"), PAGE, store)["items"] == []
    refused(Forbidden, usecases.list_penerima, PEMANTAU, {**PAGE, "kode_prefix": "32.04"}, store)
    family = {**PAGE, "no_kk": recipient(1)["no_kk"]}
    assert [p["id"] for p in usecases.list_penerima(PETUGAS, family, store)["items"]] == [first["id"]]
    refused(Forbidden, usecases.list_penerima, PEMANTAU, family, store)


# Import

CSV_HEADER = "nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,alamat,telepon"


def csv_line(row, delimiter=","):
    return delimiter.join(row.get(name, "") for name in CSV_HEADER.split(","))


def test_an_import_takes_good_rows_and_reports_each_refused_one_with_its_reason(store, organisasi):
    """Each row counts once, however it was refused (a row refused for its area was counted twice)."""
    rows = [recipient(1), {**recipient(2), "nik": recipient(2)["nik"][:12] + "0000"},
            recipient(3, village="32.04.01.1001"), {**recipient(1), "nama": "Penerima Lain"},
            recipient(5, village=UNKNOWN_VILLAGE), recipient(6, village=RETIRED_VILLAGE), recipient(7)]
    text = "\n".join([CSV_HEADER, *map(csv_line, rows)]) + "\n"
    report = import_file(PETUGAS, text, store, organisasi)["laporan"]
    assert (report["jumlah_baris"], report["ditambahkan"], report["sudah_ada"]) == (7, 2, 0)
    reasons = {line["baris"]: line["alasan"] for line in report["ditolak"]}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert reasons[3].startswith("nik:") and "0000" in reasons[3]
    assert reasons[4] == "kode_wilayah: 32.04.01.1001 di luar wilayah Anda"
    assert reasons[5] == "nik: muncul lebih dari sekali dalam berkas"
    assert reasons[6] == f"kode_wilayah: Kode wilayah {UNKNOWN_VILLAGE} tidak ada dalam referensi wilayah Kemendagri."
    assert reasons[7].startswith("kode_wilayah:") and "sudah tidak berlaku" in reasons[7]
    [entry] = store.audit_trail("impor")
    assert (entry["aksi"], entry["oleh"], entry["baru"]) == (
        "diimpor", PETUGAS.sub, {"jumlah_baris": 7, "ditambahkan": 2, "sudah_ada": 0, "ditolak": 5})

    again = import_file(PETUGAS, text, store, organisasi)["laporan"]
    assert (again["ditambahkan"], again["sudah_ada"], len(again["ditolak"])) == (0, 2, 5)
    assert len(store.rows("penerima")) == 2


def test_an_import_reads_semicolons_and_skips_an_unreadable_row(store, organisasi):
    header = CSV_HEADER.replace(",", ";")
    broken = '"' + "x" * 140_000  # an unclosed quote running past the CSV field limit
    text = "\n".join([header, csv_line(recipient(1), ";"), broken]) + "\n"
    report = import_file(ADMIN, text, store, organisasi)["laporan"]
    assert report["ditambahkan"] == 1
    [unreadable] = report["ditolak"]
    assert unreadable["alasan"].startswith("baris CSV tidak dapat dibaca")


def test_an_import_without_a_required_column_is_refused_whole(store, organisasi):
    text = CSV_HEADER.replace("no_kk,", "") + "\n"
    payload = refused(InvalidInput, import_file, ADMIN, text, store, organisasi)
    assert payload["errors"] == {"csv": ["Kolom wajib tidak ada: no_kk."]}


def test_only_recorders_import(store, organisasi):
    payload = refused(Forbidden, import_file, PEMANTAU, CSV_HEADER + "\n", store, organisasi)
    assert payload["detail"] == "Peran Anda tidak berwenang mencatat penerima."


# Distributions

def test_a_distribution_is_recorded_announced_without_personal_data_and_audited(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    penerima = register(store, organisasi, 1)
    given = distribute(store, kegiatan, program, penerima)
    assert given["status"] == "aktif" and given["no_kk"] != recipient(1)["no_kk"] and "*" in given["no_kk"]
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("penyaluran.dicatat", f"penyaluran/{given['id']}",
                                                                    VILLAGE)
    assert event["data"]["penerima_id"] == penerima["id"] and event["data"]["program_id"] == program["id"]
    assert not {"nik", "no_kk", "telepon"} & set(event["data"])
    assert "penerima_id" not in event["public"]
    assert trail(store, given["id"]) == [("dicatat", PETUGAS.sub, None, {
        "status": "aktif", "program_id": program["id"], "penerima_id": penerima["id"]})]
    state = usecases.get_program(ADMIN, program["id"], store)
    assert (state["tersalur"], state["sisa"]) == (1, 99)


def test_a_household_receives_a_program_once(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    first = distribute(store, kegiatan, program, register(store, organisasi, 1))
    same_family = register(store, organisasi, 2, no_kk=recipient(1)["no_kk"])
    payload = refused(Conflict, distribute, store, kegiatan, program, same_family)
    assert (payload["code"], payload["penyaluran_id"]) == ("sudah_menerima", first["id"])
    assert usecases.get_program(ADMIN, program["id"], store)["tersalur"] == 1  # the quota taken is given back
    assert store.uow.types().count("penyaluran.dicatat") == 1


def test_the_quota_is_never_exceeded_and_its_end_announced_once(store, organisasi, kegiatan):
    program = new_program(store, organisasi, kuota=2)
    given = [distribute(store, kegiatan, program, register(store, organisasi, n)) for n in (1, 2)]
    payload = refused(Conflict, distribute, store, kegiatan, program, register(store, organisasi, 3))
    assert (payload["code"], payload["program_id"]) == ("kuota_habis", program["id"])
    [habis] = [event for event in store.uow.events if event["type"] == "kuota.habis"]
    assert habis["data"] == {"program_id": program["id"], "nama": "Paket Sembako", "unit_id": "unit-32.73",
                             "kuota": 2}
    assert (habis["subject"], habis["wilayah"]) == (f"program/{program['id']}", "32.73")

    usecases.batalkan_penyaluran(PETUGAS, given[0]["id"], {"alasan": "Ganda"}, store)
    distribute(store, kegiatan, program, store.penerima(store.rows("penerima")[2]["id"]))
    assert usecases.get_program(ADMIN, program["id"], store)["sisa"] == 0
    assert store.uow.types().count("kuota.habis") == 1


def test_exclusive_programs_block_each_other_either_way_round(store, organisasi, kegiatan):
    first = new_program(store, organisasi, nama="Bantuan Pendidikan A")
    second = new_program(store, organisasi, nama="Bantuan Pendidikan B", eksklusif_dengan=[first["id"]])
    one, other = register(store, organisasi, 1), register(store, organisasi, 2)
    distribute(store, kegiatan, first, one)
    blocked = refused(Conflict, distribute, store, kegiatan, second, one)
    assert (blocked["code"], blocked["program_lain_id"]) == ("program_eksklusif", first["id"])
    assert "Bantuan Pendidikan A" in blocked["detail"]
    distribute(store, kegiatan, second, other)
    assert refused(Conflict, distribute, store, kegiatan, first, other)["program_lain_id"] == second["id"]


def test_exclusive_programs_whose_periods_do_not_meet_do_not_block(store, organisasi, kegiatan):
    first = new_program(store, organisasi, mulai="2026-01-01", selesai="2026-03-31")
    second = new_program(store, organisasi, eksklusif_dengan=[first["id"]], mulai="2026-04-01")
    penerima = register(store, organisasi, 1)
    distribute(store, kegiatan, first, penerima, tanggal="2026-02-01")
    assert distribute(store, kegiatan, second, penerima)["status"] == "aktif"


@pytest.mark.parametrize("by, error", [(PEMANTAU, Forbidden), (PETUGAS_ELSEWHERE, NotFound)])
def test_only_recorders_of_the_area_record_distributions(store, organisasi, kegiatan, by, error):
    program, penerima = new_program(store, organisasi), register(store, organisasi, 1)
    refused(error, distribute, store, kegiatan, program, penerima, by)
    assert store.rows("penyaluran") == []


def test_what_a_distribution_is_refused_for(store, organisasi, kegiatan):
    program, penerima = new_program(store, organisasi), register(store, organisasi, 1)
    unknown = refused(InvalidInput, distribute, store, kegiatan, {"id": "program-x"}, penerima)
    assert unknown["errors"] == {"program_id": ["Program program-x tidak ditemukan."]}
    refused(NotFound, distribute, store, kegiatan, program, {"id": "penerima-x"})
    late = refused(InvalidInput, usecases.catat_penyaluran, PETUGAS, distribution(program, penerima,
                                                                                  tanggal="2027-01-05"),
                   store, kegiatan)
    assert list(late["errors"]) == ["tanggal"]
    draft = create_program(store, organisasi)
    assert refused(Conflict, distribute, store, kegiatan, draft, penerima)["code"] == "program_tidak_aktif"
    elsewhere = new_program(store, organisasi, wilayah_sasaran=["32.73.02"])
    assert refused(Conflict, distribute, store, kegiatan, elsewhere, penerima)["code"] == "di_luar_wilayah_sasaran"
    assert store.rows("penyaluran") == []


def test_a_distribution_names_only_a_social_aid_activity_of_its_program(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    kegiatan.add("k-dialog", "dialog")
    kegiatan.add("k-lain", "bantuan_sosial", "program-lain")
    kegiatan.add("k-sosial", "bantuan_sosial", program["id"])
    penerima = register(store, organisasi, 1)
    for kegiatan_id in ("k-dialog", "k-lain", "k-x"):
        payload = refused(InvalidInput, distribute, store, kegiatan, program, penerima, kegiatan_id=kegiatan_id)
        assert payload["errors"] == {"kegiatan_id": ["Bukan kegiatan bantuan sosial untuk program ini."]}
    given = distribute(store, kegiatan, program, penerima, kegiatan_id="k-sosial")
    assert given["kegiatan_id"] == "k-sosial" and store.uow.events[-1]["data"]["kegiatan_id"] == "k-sosial"


def test_a_distribution_that_loses_the_race_for_a_new_household_is_tried_again(store, organisasi, kegiatan):
    program, penerima = new_program(store, organisasi), register(store, organisasi, 1)
    store.lock_races = 1
    assert distribute(store, kegiatan, program, penerima)["status"] == "aktif"
    assert store.uow.types().count("penyaluran.dicatat") == 1


def test_a_distribution_that_keeps_losing_the_household_race_is_unavailable(store, organisasi, kegiatan):
    program, penerima = new_program(store, organisasi), register(store, organisasi, 1)
    store.lock_races = usecases.HOUSEHOLD_LOCK_TRIES
    refused(Unavailable, distribute, store, kegiatan, program, penerima)
    assert usecases.get_program(ADMIN, program["id"], store)["tersalur"] == 0 and store.rows("penyaluran") == []


def test_cancelling_frees_the_quota_and_the_household_announced_and_audited(store, organisasi, kegiatan):
    program, penerima = new_program(store, organisasi), register(store, organisasi, 1)
    given = distribute(store, kegiatan, program, penerima)
    cancelled = usecases.batalkan_penyaluran(PETUGAS, given["id"], {"alasan": "Salah input"}, store)
    assert (cancelled["status"], cancelled["alasan_batal"]) == ("batal", "Salah input") and "*" in cancelled["no_kk"]
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("penyaluran.dibatalkan",
                                                                    f"penyaluran/{given['id']}", VILLAGE)
    assert event["data"]["alasan_batal"] == "Salah input" and "alasan_batal" not in event["public"]
    assert trail(store, given["id"])[1] == ("dibatalkan", PETUGAS.sub, {"status": "aktif"},
                                            {"status": "batal", "alasan_batal": "Salah input"})
    assert usecases.get_program(ADMIN, program["id"], store)["sisa"] == 100
    assert distribute(store, kegiatan, program, penerima)["status"] == "aktif"


def test_a_distribution_is_cancelled_once(store, organisasi, kegiatan):
    given = distribute(store, kegiatan, new_program(store, organisasi), register(store, organisasi, 1))
    usecases.batalkan_penyaluran(PETUGAS, given["id"], {"alasan": "Ganda"}, store)
    payload = refused(Conflict, usecases.batalkan_penyaluran, PETUGAS, given["id"], {"alasan": "Lagi"}, store)
    assert (payload["code"], payload["detail"]) == ("sudah_dibatalkan", "Penyaluran ini sudah dibatalkan.")
    assert store.uow.types().count("penyaluran.dibatalkan") == 1


@pytest.mark.parametrize("by, error", [(PEMANTAU, Forbidden), (PETUGAS_ELSEWHERE, NotFound)])
def test_only_recorders_of_the_area_cancel(store, organisasi, kegiatan, by, error):
    given = distribute(store, kegiatan, new_program(store, organisasi), register(store, organisasi, 1))
    refused(error, usecases.batalkan_penyaluran, by, given["id"], {"alasan": "Ganda"}, store)
    refused(NotFound, usecases.batalkan_penyaluran, PETUGAS, "penyaluran-x", {"alasan": "Ganda"}, store)
    assert store.penyaluran(given["id"])["status"] == "aktif"


def test_distributions_are_listed_in_the_callers_area_masked(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    given = distribute(store, kegiatan, program, register(store, organisasi, 1))
    listed = usecases.list_penyaluran(PEMANTAU, {**PAGE, "program_id": program["id"]}, store)
    assert [p["id"] for p in listed["items"]] == [given["id"]] and "*" in listed["items"][0]["no_kk"]
    assert usecases.list_penyaluran(PEMANTAU, {**PAGE, "status": "batal"}, store)["items"] == []
    assert usecases.list_penyaluran(actor("pemantau", "32.04"), PAGE, store)["items"] == []


# Records outside the caller's area: nothing tells whether a citizen is registered there, or where

def test_a_nik_registered_in_another_area_is_refused_without_naming_the_record(store, organisasi):
    register(store, organisasi, 1, by=ADMIN, village=ELSEWHERE_VILLAGE)
    payload = refused(Conflict, register, store, organisasi, 1, PETUGAS)
    assert payload == {"code": "nik_sudah_terdaftar", "detail": "NIK ini sudah terdaftar."}


def refusals_outside(store, kegiatan, penerima_id, penyaluran_id, program):
    """What a recorder of 32.73 is told about a recipient and a distribution, by their ids."""
    return [refused(NotFound, usecases.get_penerima, PETUGAS, penerima_id, store, READER),
            refused(NotFound, usecases.catat_penyaluran, PETUGAS, distribution(program, {"id": penerima_id}),
                    store, kegiatan),
            refused(NotFound, usecases.batalkan_penyaluran, PETUGAS, penyaluran_id, {"alasan": "Ganda"}, store),
            refused(NotFound, usecases.list_jejak_audit, PENGURUS, penerima_id, store),
            refused(NotFound, usecases.list_jejak_audit, PENGURUS, penyaluran_id, store)]


def test_records_outside_the_area_are_not_found_as_records_that_do_not_exist(store, organisasi, kegiatan):
    there = usecases.aktifkan_program(ADMIN, create_program(store, organisasi, unit_id="unit-32.04",
                                                           wilayah_sasaran=["32.04"])["id"], store)
    penerima = register(store, organisasi, 1, by=ADMIN, village=ELSEWHERE_VILLAGE)
    given = distribute(store, kegiatan, there, penerima, by=ADMIN)
    here = new_program(store, organisasi)

    outside = refusals_outside(store, kegiatan, penerima["id"], given["id"], here)
    absent = refusals_outside(store, kegiatan, "x-1", "x-2", here)
    as_absent = [{**payload, "detail": payload["detail"].replace(penerima["id"], "x-1").replace(given["id"], "x-2")}
                 for payload in outside]
    assert as_absent == absent
    assert not [payload for payload in outside if "32.04" in str(payload)]
    assert store.penyaluran(given["id"])["status"] == "aktif"


def test_a_household_served_in_another_area_is_refused_without_naming_that_distribution(store, organisasi,
                                                                                        kegiatan):
    """Two members of one family card registered in two areas: the second area learns the
    household received the program, not where or through which record."""
    program = new_program(store, organisasi, wilayah_sasaran=["32"], unit_id="unit-32")
    there = register(store, organisasi, 1, by=ADMIN, village=ELSEWHERE_VILLAGE)
    here = register(store, organisasi, 2, no_kk=there["no_kk"])
    distribute(store, kegiatan, program, there, by=ADMIN)
    payload = refused(Conflict, distribute, store, kegiatan, program, here)
    assert payload == {"code": "sudah_menerima", "detail": "Keluarga (No. KK) ini sudah menerima bantuan dari "
                                                           "program ini."}
    assert "penyaluran_id" in refused(Conflict, distribute, store, kegiatan, program, there, by=ADMIN)


def test_an_import_names_no_record_of_another_area(store, organisasi):
    register(store, organisasi, 1, by=ADMIN, village=ELSEWHERE_VILLAGE)
    text = "\n".join([CSV_HEADER, csv_line(recipient(1)), csv_line(recipient(2))]) + "\n"
    report = import_file(PETUGAS, text, store, organisasi)["laporan"]
    assert (report["ditambahkan"], report["sudah_ada"], report["ditolak"]) == (1, 1, [])
    [registered] = store.rows("penerima", lambda p: p["nik"] == recipient(1)["nik"])
    assert registered["id"] not in str(report) and "32.04" not in str(report)


# Audit trail and lookups

def test_the_audit_trail_is_for_managers_of_the_area(store, organisasi):
    program = create_program(store, organisasi)
    entries = usecases.list_jejak_audit(PENGURUS, program["id"], store)
    assert [entry["aksi"] for entry in entries] == ["dibuat"] and isinstance(entries[0]["waktu"], str)
    refused(Forbidden, usecases.list_jejak_audit, PETUGAS, program["id"], store)
    refused(NotFound, usecases.list_jejak_audit, PENGURUS_ELSEWHERE, program["id"], store)
    payload = refused(NotFound, usecases.list_jejak_audit, ADMIN, "x-1", store)
    assert payload["detail"] == "Tidak ada program, penerima atau penyaluran x-1."


def test_lookups_for_other_services(store, organisasi):
    program = create_program(store, organisasi)
    penerima = register(store, organisasi, 1, telepon="081234567890")
    assert usecases.get_program_ringkas(program["id"], store)["unit_id"] == "unit-32.73"
    assert usecases.get_program_ringkas("program-x", store) is None
    assert usecases.get_kontak_penerima(penerima["id"], store, READER) == {
        "id": penerima["id"], "nama": "Penerima 1", "telepon": "+6281234567890"}
    assert usecases.get_kontak_penerima("penerima-x", store, READER) is None


# A recipient by NIK or No. KK (the number in the body, never in a URL)

def search(by, reader=READER, store=None, **number):
    return usecases.list_penerima_menurut_nomor(by, load(CariPenerimaSchema, number), store, reader)


def test_a_recipient_is_found_by_nik_or_family_card_in_the_callers_area_masked_as_in_lists(store, organisasi):
    first = register(store, organisasi, 1, telepon="081234567890")
    household = register(store, organisasi, 2, no_kk=recipient(1)["no_kk"], village=OTHER_VILLAGE)
    register(store, organisasi, 3, by=ADMIN, village=ELSEWHERE_VILLAGE)
    found = search(PETUGAS, store=store, nik=recipient(1)["nik"])
    assert found["total"] == 1 and found["items"] == usecases.list_penerima(
        PETUGAS, {**PAGE, "kode_prefix": "32.73.01"}, store)["items"]
    assert "*" in found["items"][0]["nik"] and found["items"][0]["tanggal_lahir"] is None
    family = search(PENGURUS, store=store, no_kk=recipient(1)["no_kk"])
    assert sorted(p["id"] for p in family["items"]) == sorted([first["id"], household["id"]])
    assert search(PETUGAS, store=store, nik=recipient(3)["nik"])["items"] == []  # outside the caller's area
    assert search(PETUGAS_ELSEWHERE, store=store, nik=recipient(3)["nik"])["total"] == 1


def test_each_record_found_is_logged_as_a_read_of_the_number_searched_by(store, organisasi):
    first = register(store, organisasi, 1)
    second = register(store, organisasi, 2, no_kk=recipient(1)["no_kk"])
    search(PETUGAS, store=store, no_kk=recipient(1)["no_kk"])
    search(PETUGAS, store=store, nik=recipient(9)["nik"])  # nothing found: nothing read
    [entry] = store.access_log()
    assert (entry["rute"], entry["jenis"], entry["kolom"], entry["wilayah"]) == (
        READER.route, "penerima", ["no_kk"], VILLAGE)
    assert sorted(entry["data_id"]) == sorted([first["id"], second["id"]])
    assert recipient(1)["no_kk"] not in str(entry)


def test_nothing_is_found_when_the_search_cannot_be_logged(store, organisasi):
    register(store, organisasi, 1)
    store.access_log_down = True
    refused(Unavailable, search, PETUGAS, store=store, nik=recipient(1)["nik"])


@pytest.mark.parametrize("by", [PEMANTAU, actor("pemantau")])
def test_only_recorders_search_recipients(store, organisasi, by):
    register(store, organisasi, 1)
    payload = refused(Forbidden, search, by, store=store, nik=recipient(1)["nik"])
    assert payload["detail"] == usecases.RECORDER_REFUSAL


@pytest.mark.parametrize("number, fields", [
    ({}, {"nik", "no_kk"}),
    ({"nik": recipient(1)["nik"], "no_kk": recipient(1)["no_kk"]}, {"nik", "no_kk"}),
    ({"nik": recipient(1)["nik"][:12] + "0000"}, {"nik"}),
    ({"nik": "12345"}, {"nik"}),
    ({"no_kk": "3273-0000"}, {"no_kk"}),
])
def test_a_search_takes_exactly_one_valid_number(number, fields):
    payload = refused(InvalidInput, load, CariPenerimaSchema, number)
    assert set(payload["errors"]) == fields


# The imports' audit trail

def test_the_imports_audit_entries_are_listed_for_managers_of_the_importers_area(store, organisasi):
    text = "\n".join([CSV_HEADER, csv_line(recipient(1))]) + "\n"
    import_file(PETUGAS, text, store, organisasi)
    import_file(ADMIN, text, store, organisasi)  # national: its rows may lie anywhere
    mine = usecases.list_jejak_audit_impor(PENGURUS, PAGE, store)
    assert mine["total"] == 1
    [entry] = mine["items"]
    assert (entry["entitas_id"], entry["aksi"], entry["oleh"], entry["kode_wilayah"]) == (
        "impor", "diimpor", PETUGAS.sub, "32.73")
    assert entry["baru"] == {"jumlah_baris": 1, "ditambahkan": 1, "sudah_ada": 0, "ditolak": 0}
    assert isinstance(entry["waktu"], str)
    national = usecases.list_jejak_audit_impor(ADMIN, PAGE, store)["items"]
    assert [e["oleh"] for e in national] == [ADMIN.sub, PETUGAS.sub]  # newest first
    assert usecases.list_jejak_audit_impor(PENGURUS_ELSEWHERE, PAGE, store)["items"] == []
    refused(Forbidden, usecases.list_jejak_audit_impor, PETUGAS, PAGE, store)
