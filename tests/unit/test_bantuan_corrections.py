"""Corrections in bantuan over an in-memory store (issue 18): a program's quota, end date and
eligibility note, a recipient's name, address, phone and village, each by a JSON merge patch
against the version the caller read, with its event and its audit entry; never a recipient's NIK
or No. KK. No broker, no database."""
import pytest

from services.bantuan import usecases
from services.bantuan.schemas import PenerimaUbahSchema, ProgramUbahSchema
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from services.common.patch import ANY_VERSION, etag_of
from services.common.schema import load
from tests.nik import recipient
from tests.unit.fakes import ADMIN, READER, actor
from tests.unit.test_bantuan_usecases import (ELSEWHERE_VILLAGE, OTHER_VILLAGE, PAGE, PENGURUS, PENGURUS_ELSEWHERE,
                                              PETUGAS, PETUGAS_ELSEWHERE, RETIRED_VILLAGE, UNKNOWN_VILLAGE, VILLAGE,
                                              create_program, distribute, kegiatan, new_program, organisasi,
                                              refused, register, store, trail)

# The fixtures, used by name.
__all__ = ["kegiatan", "organisasi", "store"]
PEMANTAU = actor("pemantau", "32.73")


def version_of(view):
    return [etag_of(view)]


def ubah_program(store, program, patch, by=PENGURUS, if_match=None):
    current = usecases.get_program(by, program["id"], store) if if_match is None else None
    return usecases.ubah_program(by, program["id"], load(ProgramUbahSchema, patch),
                                 if_match if if_match is not None else version_of(current), store)


def ubah_penerima(store, organisasi, penerima, patch, by=PETUGAS, if_match=None):
    current = usecases.get_penerima(by, penerima["id"], store, READER) if if_match is None else None
    return usecases.ubah_penerima(by, penerima["id"], load(PenerimaUbahSchema, patch),
                                  if_match if if_match is not None else version_of(current), store, organisasi,
                                  READER)


def corrections(store, event_type):
    return [event for event in store.uow.events if event["type"] == event_type]


# Programs

def test_a_program_correction_changes_the_quota_end_and_note_announces_and_audits_it(store, organisasi, kegiatan):
    program = new_program(store, organisasi, kuota=10)
    distribute(store, kegiatan, program, register(store, organisasi, 1))
    corrected = ubah_program(store, program, {"kuota": 12, "selesai": "2026-11-30", "syarat": "Warga lansia"})
    assert (corrected["kuota"], corrected["tersalur"], corrected["sisa"]) == (12, 1, 11)
    assert (corrected["selesai"], corrected["syarat"]) == ("2026-11-30", "Warga lansia")
    assert usecases.get_program(PENGURUS, program["id"], store) == corrected
    [event] = corrections(store, "program.diubah")
    assert (event["subject"], event["wilayah"]) == (f"program/{program['id']}", "32.73")
    assert event["data"]["diubah"] == ["kuota", "selesai", "syarat"] and event["data"]["kuota"] == 12
    assert "syarat" not in event["data"]  # names only for what is no part of the program's usual event data
    assert trail(store, program["id"])[-1] == ("diubah", PENGURUS.sub,
                                               {"kuota": 10, "selesai": "2026-12-31", "syarat": None},
                                               {"kuota": 12, "selesai": "2026-11-30", "syarat": "Warga lansia"})


def test_a_null_empties_the_eligibility_note_and_only_what_changed_is_named(store, organisasi):
    program = create_program(store, organisasi, syarat="Warga miskin")
    corrected = ubah_program(store, program, {"syarat": None, "kuota": 100})
    assert corrected["syarat"] is None and corrected["kuota"] == 100
    assert corrections(store, "program.diubah")[-1]["data"]["diubah"] == ["syarat"]
    assert trail(store, program["id"])[-1][2:] == ({"syarat": "Warga miskin"}, {"syarat": None})


def test_a_correction_that_changes_nothing_writes_nothing(store, organisasi):
    program = create_program(store, organisasi)
    commits = store.uow.commits
    assert ubah_program(store, program, {"kuota": 100}) == usecases.get_program(ADMIN, program["id"], store)
    assert corrections(store, "program.diubah") == [] and len(trail(store, program["id"])) == 1
    assert store.uow.commits == commits + 1  # the transaction ran, and wrote nothing


def test_the_quota_never_goes_below_what_was_distributed(store, organisasi, kegiatan):
    program = new_program(store, organisasi, kuota=5)
    for n in range(3):
        distribute(store, kegiatan, program, register(store, organisasi, n))
    payload = refused(Conflict, ubah_program, store, program, {"kuota": 2})
    assert payload["code"] == "kuota_di_bawah_tersalur" and payload["tersalur"] == 3 and "(3)" in payload["detail"]
    assert ubah_program(store, program, {"kuota": 3})["sisa"] == 0


def test_lowering_to_what_was_given_exhausts_the_quota_and_a_raise_opens_it_again(store, organisasi, kegiatan):
    program = new_program(store, organisasi, kuota=5)
    households = [register(store, organisasi, n) for n in range(4)]
    for penerima in households[:2]:
        distribute(store, kegiatan, program, penerima)
    ubah_program(store, program, {"kuota": 2})
    [habis] = corrections(store, "kuota.habis")
    assert habis["data"] == {"program_id": program["id"], "nama": "Paket Sembako", "unit_id": "unit-32.73",
                             "kuota": 2}
    assert refused(Conflict, distribute, store, kegiatan, program, households[2])["code"] == "kuota_habis"

    ubah_program(store, program, {"kuota": 3})  # the raise the notice asked to wait for
    distribute(store, kegiatan, program, households[2])
    assert refused(Conflict, distribute, store, kegiatan, program, households[3])["code"] == "kuota_habis"
    # The raised quota ran out too: the board hears of it again, with the quota it had.
    assert [event["data"]["kuota"] for event in corrections(store, "kuota.habis")] == [2, 3]


def test_correcting_an_exhausted_programs_note_announces_nothing_again(store, organisasi, kegiatan):
    program = new_program(store, organisasi, kuota=1)
    distribute(store, kegiatan, program, register(store, organisasi, 1))
    ubah_program(store, program, {"syarat": "Diperbarui"})
    assert len(corrections(store, "kuota.habis")) == 1 and store.program(program["id"])["sisa"] == 0


def test_the_end_date_stays_after_the_start_and_the_latest_distribution(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    distribute(store, kegiatan, program, register(store, organisasi, 1), tanggal="2026-06-10")
    payload = refused(InvalidInput, ubah_program, store, program, {"selesai": "2025-12-31"})
    assert payload["errors"] == {"selesai": ["Tanggal selesai tidak boleh sebelum tanggal mulai."]}
    payload = refused(Conflict, ubah_program, store, program, {"selesai": "2026-06-09"})
    assert payload["code"] == "penyaluran_setelah_selesai" and payload["tanggal_penyaluran_terakhir"] == "2026-06-10"
    assert ubah_program(store, program, {"selesai": "2026-06-10"})["selesai"] == "2026-06-10"


def test_a_closed_program_is_not_corrected(store, organisasi):
    program = new_program(store, organisasi)
    read = version_of(usecases.get_program(PENGURUS, program["id"], store))
    usecases.tutup_program(ADMIN, program["id"], store)
    assert refused(Conflict, ubah_program, store, program, {"kuota": 200})["code"] == "program_ditutup"
    # Made on the version before it closed: reload first (412 before 409, as every correction).
    refused(PreconditionFailed, ubah_program, store, program, {"kuota": 200}, if_match=read)


@pytest.mark.parametrize("by, error", [(PETUGAS, Forbidden), (PEMANTAU, Forbidden), (PENGURUS_ELSEWHERE, Forbidden)])
def test_only_the_programs_managers_correct_it(store, organisasi, by, error):
    program = create_program(store, organisasi)
    refused(error, usecases.ubah_program, by, program["id"], {"kuota": 5}, [ANY_VERSION], store)
    assert corrections(store, "program.diubah") == []
    refused(NotFound, usecases.ubah_program, PENGURUS, "program-x", {"kuota": 5}, [ANY_VERSION], store)


def test_a_program_corrected_meanwhile_is_refused_against_the_old_version(store, organisasi, kegiatan):
    program = new_program(store, organisasi)
    read = version_of(usecases.get_program(PENGURUS, program["id"], store))
    distribute(store, kegiatan, program, register(store, organisasi, 1))  # the view (tersalur, sisa) moved on
    refused(PreconditionFailed, ubah_program, store, program, {"kuota": 50}, if_match=read)
    assert ubah_program(store, program, {"kuota": 50}, if_match=[ANY_VERSION])["sisa"] == 49
    refused(PreconditionFailed, ubah_program, store, program, {"kuota": 60}, if_match=read)


def test_a_write_that_finds_the_record_changed_is_refused(store, organisasi, monkeypatch):
    program = create_program(store, organisasi)
    monkeypatch.setattr(store, "replace_if_unchanged", lambda *args: False)  # someone wrote between read and write
    refused(PreconditionFailed, ubah_program, store, program, {"kuota": 50})
    assert corrections(store, "program.diubah") == [] and store.program(program["id"])["kuota"] == 100


@pytest.mark.parametrize("patch, field, message", [
    ({"status": "ditutup"}, "status", "Status program diubah lewat aktifkan atau tutup."),
    ({"tersalur": 0}, "tersalur", "Jumlah tersalur dihitung dari penyaluran."),
    ({"mulai": "2026-02-01"}, "mulai", "Field ini tidak dapat dikoreksi."),
    ({"nama": "Lain"}, "nama", "Field ini tidak dapat dikoreksi."),
    ({"kuota": 0}, "kuota", "Harus lebih besar atau sama dengan 1 dan lebih kecil atau sama dengan 10000000."),
    ({"kuota": None}, "kuota", "Tidak boleh kosong (null)."),
    ({"warna": "biru"}, "warna", "Field tidak dikenal."),
    ({}, "_schema", "Kirim minimal satu field yang diubah."),
])
def test_a_program_patch_takes_only_the_correctable_fields(patch, field, message):
    with pytest.raises(InvalidInput) as caught:
        load(ProgramUbahSchema, patch)
    assert caught.value.payload["errors"] == {field: [message]}


# Recipients

def test_a_recipient_correction_changes_contacts_and_village_and_audits_old_and_new(store, organisasi):
    penerima = register(store, organisasi, 1, telepon="081234567890")
    corrected = ubah_penerima(store, organisasi, penerima, {"nama": "Siti Aminah", "alamat": "Jl. Baru 2",
                                                            "telepon": "0813-1111-2222", "kode_wilayah": OTHER_VILLAGE})
    assert (corrected["nama"], corrected["alamat"], corrected["kode_wilayah"]) == ("Siti Aminah", "Jl. Baru 2",
                                                                                   OTHER_VILLAGE)
    # Stored as E.164, shown as the view's phone field shows numbers.
    assert corrected["nik"] == penerima["nik"] and corrected["telepon"].replace("-", "").endswith("81311112222")
    assert usecases.get_penerima(PETUGAS, penerima["id"], store, READER) == corrected
    [event] = corrections(store, "penerima.diubah")
    assert event["data"] == {"id": penerima["id"], "kode_wilayah": OTHER_VILLAGE,
                             "diubah": ["alamat", "kode_wilayah", "nama", "telepon"]}
    assert event["wilayah"] == OTHER_VILLAGE
    aksi, oleh, lama, baru = trail(store, penerima["id"])[-1]
    assert (aksi, oleh) == ("diubah", PETUGAS.sub)
    # Masked in the local form, as every list of recipients shows a phone.
    assert lama == {"nama": "Penerima 1", "alamat": "Jl. Contoh No. 1", "telepon": "0812******90",
                    "kode_wilayah": VILLAGE}
    assert baru == {"nama": "Siti Aminah", "alamat": "Jl. Baru 2", "telepon": "0813******22",
                    "kode_wilayah": OTHER_VILLAGE}
    listed = usecases.list_penerima(PETUGAS, PAGE, store)["items"]
    assert [item["telepon"] for item in listed if item["id"] == penerima["id"]] == [baru["telepon"]]
    # Kept whole, shown masked: the erasure takes them out of the trail.
    stored = [entry for entry in store.rows("audit") if entry["aksi"] == "diubah"][0]
    assert (stored["lama"]["telepon"], stored["baru"]["telepon"]) == ("+6281234567890", "+6281311112222")


def test_the_answer_to_a_recipient_correction_is_logged_as_a_read_as_its_get_is(store, organisasi):
    penerima = register(store, organisasi, 1, telepon="081234567890")
    before = len(store.access_log())
    ubah_penerima(store, organisasi, penerima, {"alamat": "Jl. Baru 3"}, if_match=[ANY_VERSION])
    [entry] = store.access_log()[before:]
    assert entry["data_id"] == [penerima["id"]] and entry["kolom"] == ["nik", "no_kk", "tanggal_lahir", "telepon"]
    assert entry["rute"] == READER.route
    store.access_log_down = True  # no entry, no data: nothing is handed out (the change is made)
    refused(Exception, ubah_penerima, store, organisasi, penerima, {"alamat": "Jl. Baru 4"}, if_match=[ANY_VERSION])


def test_a_null_empties_the_phone_but_not_a_required_field(store, organisasi):
    penerima = register(store, organisasi, 1, telepon="081234567890")
    assert ubah_penerima(store, organisasi, penerima, {"telepon": None})["telepon"] is None
    with pytest.raises(InvalidInput) as caught:
        load(PenerimaUbahSchema, {"nama": None, "alamat": None})
    assert caught.value.payload["errors"] == {"nama": ["Tidak boleh kosong (null)."],
                                              "alamat": ["Tidak boleh kosong (null)."]}


@pytest.mark.parametrize("field, words", [
    ("nik", "NIK yang salah dicatat sebagai penerima baru"),
    ("no_kk", "No. KK tidak dapat diubah"),
    ("tanggal_lahir", "mengikuti NIK"),
    ("jenis_kelamin", "mengikuti NIK"),
])
def test_the_numbers_that_identify_a_recipient_are_never_corrected(field, words):
    with pytest.raises(InvalidInput) as caught:
        load(PenerimaUbahSchema, {field: recipient(2)[field], "nama": "Lain"})
    [message] = caught.value.payload["errors"][field]
    assert words in message and list(caught.value.payload["errors"]) == [field]


@pytest.mark.parametrize("village, message", [
    (ELSEWHERE_VILLAGE, f"{ELSEWHERE_VILLAGE} di luar wilayah Anda."),
    (UNKNOWN_VILLAGE, f"Kode wilayah {UNKNOWN_VILLAGE} tidak ada dalam referensi wilayah Kemendagri."),
    (RETIRED_VILLAGE, f"Kode wilayah {RETIRED_VILLAGE} (Desa Lama) sudah tidak berlaku dalam daftar resmi terbaru."),
])
def test_a_recipient_moves_only_to_a_current_village_in_the_callers_area(store, organisasi, village, message):
    penerima = register(store, organisasi, 1)
    payload = refused(InvalidInput, ubah_penerima, store, organisasi, penerima, {"kode_wilayah": village})
    assert payload["errors"] == {"kode_wilayah": [message]}
    assert corrections(store, "penerima.diubah") == []


def test_only_recorders_of_the_recipients_area_correct_them(store, organisasi):
    penerima = register(store, organisasi, 1)
    refused(Forbidden, ubah_penerima, store, organisasi, penerima, {"nama": "X"}, by=PEMANTAU, if_match=[ANY_VERSION])
    # Outside the caller's area a recipient is not found, as one that does not exist.
    outside = refused(NotFound, ubah_penerima, store, organisasi, penerima, {"nama": "X"}, by=PETUGAS_ELSEWHERE,
                      if_match=[ANY_VERSION])
    assert outside["detail"] == f"Penerima {penerima['id']} tidak ditemukan."
    assert ubah_penerima(store, organisasi, penerima, {"nama": "X"}, by=PENGURUS)["nama"] == "X"


def test_an_erased_recipient_is_not_corrected(store, organisasi):
    penerima = register(store, organisasi, 1)
    read = version_of(usecases.get_penerima(PETUGAS, penerima["id"], store, READER))
    usecases.hapus_penerima(ADMIN, penerima["id"], {"alasan": "Permintaan"}, store)
    payload = refused(Conflict, ubah_penerima, store, organisasi, penerima, {"nama": "Kembali"},
                      if_match=[ANY_VERSION])
    assert payload["code"] == "penerima_dihapus"
    refused(PreconditionFailed, ubah_penerima, store, organisasi, penerima, {"nama": "Kembali"}, if_match=read)


def test_a_recipient_corrected_meanwhile_is_refused_against_the_old_version(store, organisasi):
    penerima = register(store, organisasi, 1)
    read = version_of(usecases.get_penerima(PETUGAS, penerima["id"], store, READER))
    ubah_penerima(store, organisasi, penerima, {"alamat": "Jl. Lain 1"})
    refused(PreconditionFailed, ubah_penerima, store, organisasi, penerima, {"nama": "Y"}, if_match=read)
    assert usecases.get_penerima(PETUGAS, penerima["id"], store, READER)["nama"] == "Penerima 1"


def test_an_erasure_takes_the_corrected_values_out_of_the_trail(store, organisasi):
    penerima = register(store, organisasi, 1, telepon="081234567890")
    ubah_penerima(store, organisasi, penerima, {"nama": "Nama Baru", "telepon": "081311112222",
                                                "kode_wilayah": OTHER_VILLAGE})
    usecases.hapus_penerima(ADMIN, penerima["id"], {"alasan": "Permintaan"}, store)
    corrected = [entry for entry in trail(store, penerima["id"]) if entry[0] == "diubah"]
    assert corrected == [("diubah", PETUGAS.sub, {"kode_wilayah": VILLAGE}, {"kode_wilayah": OTHER_VILLAGE})]
