"""notifikasi's rules and templates, in plain Python."""
import csv
import hashlib
import hmac
import ipaddress
import re
from datetime import timedelta

import pytest
from jinja2 import UndefinedError

from services.common.config import Settings
from services.common.waktu import tanggal, waktu
from services.notifikasi.channels import BUILT_IN_TEMPLATES, Templates, email_message, send_to_webhook
from services.common.wilayah import WIT_PROVINCES, WITA_PROVINCES, zona_waktu
from services.notifikasi.domain import (
    ADDRESS_HASH_KEY, MESSAGE_FIELDS, Message, Penerima, PermanentFailure, address_holder_of, address_key, allowed,
    board, board_and_members, delivery_key, fallback_chain, first_address, next_in_chain, normalised_address, person,
    retry_delay, shown_name, signature, wants)
from tests.support import SHARED_WILAYAH

PERSON = Penerima(id="pengurus:1", nama="Ibu Ani", email="ani@contoh.id", telepon="081234567890")


def test_the_fallback_chain_goes_whatsapp_sms_email_as_far_as_there_are_addresses():
    everything = {"whatsapp", "sms", "email"}
    assert fallback_chain(PERSON, everything) == [("whatsapp", "081234567890"), ("sms", "081234567890"),
                                                  ("email", "ani@contoh.id")]
    assert fallback_chain(PERSON, {"email"}) == [("email", "ani@contoh.id")]
    no_phone = Penerima(id="anggota:2", nama="Pak Budi", email="budi@contoh.id")
    assert fallback_chain(no_phone, everything) == [("email", "budi@contoh.id")]
    assert fallback_chain(Penerima(id="anggota:3", nama="Tanpa Kontak"), everything) == []


def test_preferences_opt_out_per_channel_or_entirely():
    assert allowed({}, "email")
    assert not allowed({"email": False}, "email") and allowed({"email": False}, "sms")
    assert not allowed({"semua": False}, "sms")


def test_an_address_is_known_by_one_spelling_however_it_was_typed():
    mailbox = ["wati@contoh.id", " Wati@Contoh.ID ", "wati+aspirasi@contoh.id", "WATI+2@contoh.id"]
    assert {normalised_address(address) for address in mailbox} == {"wati@contoh.id"}
    assert normalised_address("Wa.Ti+x@googlemail.com") == "wati@gmail.com"  # Gmail ignores the dots
    assert normalised_address("w.ati@contoh.id") == "w.ati@contoh.id"  # other hosts may not
    line = ["081234567890", "+6281234567890", "6281234567890", "0812-3456-7890"]
    assert {normalised_address(number) for number in line} == {"6281234567890"}
    assert {address_key(address) for address in mailbox} == {
        hmac.new(ADDRESS_HASH_KEY, b"wati@contoh.id", hashlib.sha256).hexdigest()}
    assert address_key("081234567890") == address_key("+62 812 3456 7890") != address_key("081234567891")


def test_a_message_to_someone_without_an_account_heeds_the_preferences_of_its_address_too():
    to_reporter = {"penerima": "pelapor:asp-1", "akun": None, "kanal": "email", "tujuan": "Wati@contoh.id"}
    assert address_holder_of(to_reporter) == f"alamat:{address_key('wati@contoh.id')}"
    assert address_holder_of({**to_reporter, "kanal": "sms", "tujuan": "081234567890"}) == \
        f"alamat:{address_key('+6281234567890')}"
    assert address_holder_of({**to_reporter, "penerima": "akun:sari", "akun": "sari"}) is None  # their account's
    assert address_holder_of({**to_reporter, "kanal": "webhook", "tujuan": "https://x.go.id"}) is None


def test_the_delivery_key_names_event_recipient_and_channel():
    assert delivery_key("e1", "pengurus:1", "sms") == "e1:pengurus:1:sms"


def test_board_members_and_members_get_distinct_ids():
    people = board_and_members([{"id": "a", "nama": "A", "peran": "ketua"},
                                {"id": "b", "nama": "B", "peran": "anggota"}])
    assert [p.id for p in people] == ["pengurus:a", "anggota:b"]


def test_times_are_written_in_bahasa_indonesia_on_the_clocks_of_the_area():
    assert waktu("2026-12-02T02:00:00+00:00") == "Rabu, 2 Desember 2026 pukul 09.00 WIB"  # national
    assert waktu("2026-12-02T02:00:00+00:00", "31.71") == "Rabu, 2 Desember 2026 pukul 09.00 WIB"
    assert waktu("2026-12-02T02:00:00+00:00", "53.71.01") == "Rabu, 2 Desember 2026 pukul 10.00 WITA"  # Kupang
    assert waktu("2026-12-02T02:00:00+00:00", "63") == "Rabu, 2 Desember 2026 pukul 10.00 WITA"
    assert waktu("2026-12-02T16:30:00+00:00", "91.71") == "Kamis, 3 Desember 2026 pukul 01.30 WIT"  # Jayapura
    assert waktu("2026-12-02T02:00:00+00:00", "96") == "Rabu, 2 Desember 2026 pukul 11.00 WIT"


def test_every_province_of_the_area_list_has_its_time_zone():
    provinces = {kode for kode, _ in csv.reader(open(SHARED_WILAYAH, encoding="utf-8")) if len(kode) == 2}
    zones = {province: zona_waktu(province) for province in provinces}
    assert provinces >= WITA_PROVINCES | WIT_PROVINCES  # no code in the lists is a typo
    assert sum(zone == "WIB" for zone in zones.values()) == 18  # Sumatra, Java, West and Central Kalimantan


def test_an_operator_template_replaces_the_built_in_one(tmp_path):
    (tmp_path / "pengurus.diangkat.sms.txt").write_text("Subjek\nSelamat, {{ penerima.nama }}!\n")
    subject, body = Templates(str(tmp_path)).render("pengurus.diangkat", "sms", penerima=PERSON,
                                                    pengurus={"jabatan": "ketua", "mulai": "2026-01-01"})
    assert (subject, body) == ("Subjek", "Selamat, Ibu Ani!\n")
    _, built_in = Templates().render("pengurus.diangkat", "sms", penerima=PERSON,
                                     pengurus={"jabatan": "wakil_ketua", "mulai": "2026-01-01"})
    assert "wakil ketua" in built_in


def test_html_templates_are_autoescaped(tmp_path):
    (tmp_path / "x.email.txt").write_text("S\n{{ nama }}\n")
    templates = Templates(str(tmp_path))
    assert templates.environment.autoescape("x.email.html") is True
    assert templates.render("x", "email", nama="<b>")[1] == "<b>\n"  # plain text stays as written


# Recipients

def test_a_person_with_an_account_is_known_by_it_and_else_by_their_record():
    with_account = person("pengurus", {"id": "p-1", "nama": "Ibu Ani", "telepon": "081234567890",
                                       "email": "ani@contoh.id", "akun": "sub-ani"})
    assert with_account == Penerima(id="akun:sub-ani", nama="Ibu Ani", email="ani@contoh.id",
                                    telepon="081234567890", akun="sub-ani")
    without = person("pelapor", {"id": "asp-9", "nama": "Bapak/Ibu Pelapor", "telepon": "081298765432"})
    assert without == Penerima(id="pelapor:asp-9", nama="Bapak/Ibu Pelapor", telepon="081298765432")
    assert person("anggota", {"id": "a-1", "nama": "B", "akun": None}).id == "anggota:a-1"


def test_one_person_listed_twice_with_the_same_account_is_told_once():
    contacts = [{"id": "p-1", "nama": "Ibu Ani", "peran": "ketua", "akun": "sub-ani", "email": "ani@contoh.id"},
                {"id": "a-7", "nama": "Ibu Ani", "peran": "anggota", "akun": "sub-ani", "email": "ani@contoh.id"},
                {"id": "a-8", "nama": "Pak Budi", "peran": "anggota"}]
    people = board_and_members(contacts)
    assert [p.id for p in people] == ["akun:sub-ani", "anggota:a-8"]
    twice_on_the_board = [{"id": "p-1", "nama": "Ibu Ani", "peran": "ketua", "akun": "sub-ani"},
                          {"id": "p-2", "nama": "Ibu Ani", "peran": "sekretaris", "akun": "sub-ani"}]
    assert [p.id for p in board(twice_on_the_board)] == ["akun:sub-ani"]


def test_the_board_leaves_out_members():
    contacts = [{"id": "p-1", "nama": "Ketua", "peran": "ketua"},
                {"id": "a-1", "nama": "Anggota", "peran": "anggota"},
                {"id": "p-2", "nama": "Sekretaris", "peran": "sekretaris", "akun": "sub-sek"},
                {"id": "p-3", "nama": "Wakil", "peran": "wakil_ketua"}]
    assert [p.id for p in board(contacts)] == ["pengurus:p-1", "akun:sub-sek", "pengurus:p-3"]
    assert board([{"id": "a-1", "nama": "Anggota", "peran": "anggota"}]) == []


# Retries, preferences, the chain

def test_the_retry_delay_doubles_from_the_base_and_stops_at_the_cap():
    delays = [retry_delay(attempts, 30, 600) for attempts in range(1, 9)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 600, 600, 600)]
    assert retry_delay(1, 5, 3) == timedelta(seconds=3)  # the cap wins even over the base


def test_webhooks_are_always_allowed_and_opting_out_of_everything_includes_the_inbox():
    assert allowed({"semua": False}, "webhook") and allowed({"webhook": False}, "webhook")
    for channel in ("whatsapp", "sms", "email", "inbox"):
        assert not allowed({"semua": False}, channel)
        assert not allowed({"semua": False, channel: True}, channel)  # everything off beats one on
        assert allowed({"semua": True}, channel)
    assert not allowed({"inbox": False}, "inbox") and allowed({"inbox": False}, "email")


def test_the_fallback_chain_only_uses_channels_with_a_template_for_the_message():
    assert fallback_chain(PERSON, Templates().channels("kegiatan.dijadwalkan")) == [("email", "ani@contoh.id")]
    assert fallback_chain(PERSON, Templates().channels("pengurus.diangkat")) == [
        ("whatsapp", "081234567890"), ("sms", "081234567890"), ("email", "ani@contoh.id")]
    assert fallback_chain(PERSON, {"sms", "inbox", "webhook"}) == [("sms", "081234567890")]
    phone_only = Penerima(id="penerima:1", nama="Pak Udin", telepon="081200000000")
    assert fallback_chain(phone_only, {"email", "inbox"}) == []


# Webhooks

def event(event_type, wilayah=None):
    return {"id": "e-1", "type": event_type, "wilayah": wilayah, "data": {}}


@pytest.mark.parametrize(("jenis", "event_type", "expected"), [
    (["kegiatan.*"], "kegiatan.dijadwalkan", True),
    (["kegiatan.*"], "kegiatan.dibatalkan", True),
    (["kegiatan.*"], "aspirasi.diterima", False),
    (["aspirasi.diterima"], "aspirasi.diterima", True),
    (["aspirasi.diterima"], "aspirasi.diperbarui", False),
    (["*"], "kuota.habis", True),
    (["*"], "pengurus.diangkat", True),
    (["pengurus.diangkat", "kuota.*"], "kuota.habis", True),
    (["Kegiatan.*"], "kegiatan.dijadwalkan", False),  # case-sensitive
    (["KUOTA.HABIS"], "kuota.habis", False),
    ([], "kuota.habis", False),
])
def test_a_webhook_hears_the_event_types_its_patterns_match(jenis, event_type, expected):
    assert wants({"jenis": jenis, "wilayah": None}, event(event_type, "31.71")) is expected


def test_a_national_webhook_hears_everything_and_an_areas_only_what_happens_inside_it():
    national = {"jenis": ["*"], "wilayah": None}
    assert wants(national, event("kuota.habis", "31.71.01"))
    assert wants(national, event("kuota.habis", None))
    assert wants({"jenis": ["*"]}, event("kuota.habis", None))  # no `wilayah` key: national too
    area = {"jenis": ["*"], "wilayah": "31.71"}
    assert wants(area, event("kuota.habis", "31.71"))
    assert wants(area, event("kuota.habis", "31.71.01"))
    assert wants(area, event("kuota.habis", "31.71.01.1001"))
    assert not wants(area, event("kuota.habis", "31.72"))
    assert not wants(area, event("kuota.habis", "31.710"))
    assert not wants(area, event("kuota.habis", "31"))
    assert not wants(area, event("kuota.habis", None))
    assert not wants(area, {"id": "e-2", "type": "kuota.habis", "data": {}})


def test_a_webhook_delivery_is_signed_over_the_timestamp_and_the_body():
    body = b'{"id": "e-1", "type": "kuota.habis"}'
    header = signature("rahasia-webhook", 1767225600, body)
    expected = hmac.new(b"rahasia-webhook", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"
    assert re.fullmatch(r"t=1767225600,v1=[0-9a-f]{64}", header)
    assert signature("rahasia-webhook", 1767225601, body) != header
    assert signature("rahasia-webhook", 1767225600, body + b" ") != header
    assert signature("rahasia-lain", 1767225600, body) != header
    assert signature("rahasia-webhook", 1767225600, body) == header  # deterministic


# Templates: which channels, which file

def test_a_message_uses_the_channels_it_has_templates_for():
    templates = Templates()
    assert templates.channels("pengurus.diangkat") == {"whatsapp", "sms", "email", "inbox"}
    assert templates.channels("kegiatan.dijadwalkan") == {"email", "inbox"}
    assert templates.channels("penyaluran.dicatat") == {"whatsapp", "sms"}  # no email, so no inbox
    assert templates.channels("aspirasi.diterima") == set()  # only per audience
    assert "webhook" not in templates.channels("kuota.habis")
    context = {"penerima": {"nama": "Ibu Ani"}, "pengurus": {"jabatan": "sekretaris", "mulai": "2026-01-01"}}
    assert templates.render("pengurus.diangkat", "inbox", **context) == \
        templates.render("pengurus.diangkat", "email", **context)


def test_an_operator_switches_a_channel_on_by_adding_its_template(tmp_path):
    (tmp_path / "kegiatan.dijadwalkan.sms.txt").write_text("Kegiatan\nBKPM: {{ kegiatan.judul }}.\n")
    templates = Templates(str(tmp_path))
    assert templates.channels("kegiatan.dijadwalkan") == {"sms", "email", "inbox"}
    assert templates.render("kegiatan.dijadwalkan", "sms", kegiatan={"judul": "Dialog warga"}) == \
        ("Kegiatan", "BKPM: Dialog warga.\n")
    assert Templates().channels("kegiatan.dijadwalkan") == {"email", "inbox"}
    assert Templates(str(tmp_path / "tidak-ada")).channels("kegiatan.dijadwalkan") == {"email", "inbox"}


def test_the_inbox_shows_the_email_unless_it_has_its_own_template(tmp_path):
    (tmp_path / "x.email.txt").write_text("Subjek surel\nIsi surel untuk {{ nama }}\n")
    assert Templates(str(tmp_path)).channels("x") == {"email", "inbox"}
    assert Templates(str(tmp_path)).render("x", "inbox", nama="Ani") == ("Subjek surel", "Isi surel untuk Ani\n")
    (tmp_path / "x.inbox.txt").write_text("Subjek kotak masuk\nIsi kotak masuk untuk {{ nama }}\n")
    assert Templates(str(tmp_path)).render("x", "inbox", nama="Ani") == \
        ("Subjek kotak masuk", "Isi kotak masuk untuk Ani\n")
    assert Templates(str(tmp_path)).render("x", "email", nama="Ani")[0] == "Subjek surel"


def test_an_operator_inbox_template_alone_makes_only_the_inbox_usable(tmp_path):
    (tmp_path / "y.inbox.txt").write_text("S\nB\n")
    assert Templates(str(tmp_path)).channels("y") == {"inbox"}


# Templates: every built-in one renders from the events' data as the contracts give it

TIKET = "ASP-7K2M9QX4PT"
BATAS_VERIFIKASI = "2026-12-02T16:59:59.999000+00:00"  # end of 2 December, Jakarta time
BATAS_JAWABAN = "2026-12-09T16:59:59.999000+00:00"
PENERIMA = {"nama": "Ibu Ani Lestari"}
# Messages to whoever left a contact on the public aspiration form: they greet with a salutation.
TO_REPORTER = ("aspirasi.diterima.pelapor", "aspirasi.diperbarui")
DITERIMA = {"id": "asp-1", "nomor_tiket": TIKET, "kategori": "keluhan", "kode_wilayah": "31.71.01.1001",
            "unit_id": "unit-3171", "kegiatan_id": None, "rahasia": False, "batas_verifikasi": BATAS_VERIFIKASI}
DIPERBARUI = {"id": "asp-1", "nomor_tiket": TIKET, "unit_id": "unit-3171", "status_lama": "diverifikasi",
              "status_baru": "diproses", "jawaban": "Laporan sedang ditindaklanjuti Polsek Menteng.",
              "batas_jawaban": BATAS_JAWABAN}
TERLAMBAT = {"id": "asp-1", "nomor_tiket": TIKET, "unit_id": "unit-3171", "status": "diterima",
             "tenggat": "verifikasi", "batas": BATAS_VERIFIKASI}
KUOTA = {"program_id": "prog-1", "nama": "Sembako Ramadan 2026", "unit_id": "unit-31", "kuota": 500}
KEGIATAN = {"id": "keg-1", "unit_id": "unit-3171", "jenis": "patroli_bersama", "judul": "Patroli malam Menteng",
            "status": "dijadwalkan", "mulai": "2026-12-02T13:00:00+00:00", "selesai": "2026-12-02T15:00:00+00:00",
            "lokasi": {"kode_wilayah": "31.71.01", "alamat": "Jl. Menteng Raya 1"}, "program_id": None}

CONTEXTS = {
    "aspirasi.diterima.pelapor": {"aspirasi": DITERIMA},
    "aspirasi.diterima.sekretaris": {"aspirasi": DITERIMA},
    "aspirasi.diperbarui": {"aspirasi": DIPERBARUI},
    "aspirasi.terlambat": {"aspirasi": TERLAMBAT},
    "kuota.habis": {"kuota": KUOTA},
    "kegiatan.dijadwalkan": {"kegiatan": KEGIATAN},
    "kegiatan.dibatalkan": {"kegiatan": {**KEGIATAN, "status": "dibatalkan", "alasan_batal": "Cuaca buruk"}},
    "kegiatan.diubah": {"kegiatan": {**KEGIATAN, "diubah": ["lokasi", "mulai", "selesai"]}},
    "pengurus.diangkat": {"pengurus": {"id": "p-1", "unit_id": "unit-31", "jabatan": "wakil_ketua",
                                       "nama": "Ibu Ani Lestari", "pangkat": None, "jabatan_polri": None,
                                       "mulai": "2026-01-05", "selesai": None}},
    "akun.reset_diminta": {"reset": {"tautan": "https://bkpm.contoh.go.id/konsol/atur-sandi?token=abc",
                                     "berlaku_sampai": "2026-12-02T03:30:00+00:00"}},
    "penyaluran.dicatat": {"penyaluran": {"id": "5f1c2a9be0d34c7a", "program_id": "prog-1", "penerima_id": "pn-1",
                                          "kode_wilayah": "31.71.01.1001", "tanggal": "2026-12-02",
                                          "jenis_bukti": "foto", "kegiatan_id": None}},
}
# A name starting with "_" is a part of every message of a channel (the opt-out footer), not a message.
BUILT_IN = sorted(path.name for path in BUILT_IN_TEMPLATES.glob("*.txt") if not path.name.startswith("_"))
RENDERINGS = [(message, channel) for message in CONTEXTS for channel in sorted(Templates().channels(message))]


def render(message, channel, **context):
    return Templates().render(message, channel, penerima=PENERIMA, **(context or CONTEXTS[message]))


def whatsapp_parameters(body):
    """As the service hands them to the provider: one parameter a line."""
    return body.strip().splitlines()


def test_every_built_in_template_is_covered_by_the_rendering_test():
    covered = {f"{message}.{channel}.txt" for message, channel in RENDERINGS if channel != "inbox"}
    assert BUILT_IN and covered == set(BUILT_IN)
    for message in ("aspirasi.diterima.pelapor", "aspirasi.diterima.sekretaris", "aspirasi.diperbarui",
                    "aspirasi.terlambat", "kuota.habis"):
        assert {"email", "inbox"} <= Templates().channels(message)


@pytest.mark.parametrize(("message", "channel"), RENDERINGS)
def test_every_built_in_template_renders_strictly_from_the_event_data(message, channel):
    subject, body = render(message, channel)
    greeted = "Bapak/Ibu Pelapor" if message in TO_REPORTER else "Ibu Ani Lestari"
    assert subject and body.strip()
    assert "{{" not in body and "{%" not in body and "None" not in subject + body
    if channel == "whatsapp":
        assert re.fullmatch(r"bkpm_[a-z_]+", subject)
        source = (BUILT_IN_TEMPLATES / f"{message}.whatsapp.txt").read_text().strip().splitlines()
        parameters = whatsapp_parameters(body)
        assert len(parameters) == len(source) - 1 and all(p.strip() for p in parameters)
        assert parameters[0] == greeted  # the approved template's parameters stay as they were
    elif channel in ("email", "inbox"):
        assert body.startswith(f"Yth. {greeted},")
        assert body.rstrip().endswith("Balai Kemitraan Polri dan Masyarakat")
    else:
        assert "\n" not in body.strip()  # an SMS is one line of text


@pytest.mark.parametrize("message", sorted(CONTEXTS))
def test_a_missing_field_is_an_error_not_a_blank(message):
    field = next(iter(CONTEXTS[message]))
    for channel in Templates().channels(message):
        with pytest.raises(UndefinedError):
            Templates().render(message, channel, penerima=PENERIMA, **{field: {}})


def test_the_reporter_is_told_the_ticket_and_the_verification_date_in_bahasa_indonesia():
    subject, body = render("aspirasi.diterima.pelapor", "email")
    assert TIKET in subject and TIKET in body
    assert "Keluhan Anda telah kami terima" in body
    assert "paling lambat 2 Desember 2026" in body
    _, sms = render("aspirasi.diterima.pelapor", "sms")
    assert TIKET in sms and "keluhan Anda diterima" in sms and "2 Desember 2026" in sms
    subject, body = render("aspirasi.diterima.pelapor", "whatsapp")
    assert subject == "bkpm_aspirasi_diterima"
    assert whatsapp_parameters(body) == ["Bapak/Ibu Pelapor", TIKET, "2 Desember 2026"]


@pytest.mark.parametrize("message", TO_REPORTER)
def test_a_reporter_is_never_told_back_what_anyone_could_type_on_the_public_form(message):
    """The form takes anyone's address and a "name": a message that echoed it would carry a
    stranger's text to a victim under the platform's name. Only the officers' public answer
    (`jawaban`) is told."""
    phishing = "Akun Anda diblokir! Verifikasi di http://bkpm-verifikasi.contoh"
    typed = {"pelapor": {"nama": phishing, "email": "korban@contoh.id"}, "isi": phishing, "nama": phishing}
    for channel in Templates().channels(message):
        subject, body = Templates().render(message, channel, penerima={"nama": phishing},
                                           aspirasi={**CONTEXTS[message]["aspirasi"], **typed})
        assert "bkpm-verifikasi" not in subject + body and "diblokir" not in subject + body


def test_the_sekretaris_summary_never_names_the_reporter_and_says_when_they_asked_for_confidentiality():
    leaked = {**DITERIMA, "pelapor": {"nama": "Siti Rahmawati", "telepon": "081311112222"}, "isi": "Isi rahasia"}
    for aspirasi, confidential in ((DITERIMA, False), (leaked, False), ({**leaked, "rahasia": True}, True)):
        for channel in ("email", "inbox"):
            subject, body = render("aspirasi.diterima.sekretaris", channel, aspirasi=aspirasi)
            text = subject + "\n" + body
            assert TIKET in subject and TIKET in body
            assert "31.71.01.1001" in body and "2 Desember 2026" in body
            assert "Siti" not in text and "Rahmawati" not in text and "081311112222" not in text
            assert "Isi rahasia" not in text
            assert ("dirahasiakan" in body) is confidential


def test_an_update_tells_the_new_status_the_public_answer_and_the_answer_deadline():
    subject, body = render("aspirasi.diperbarui", "email")
    assert subject == f"Tiket {TIKET}: diproses"
    assert 'kini berstatus "diproses"' in body
    assert "Jawaban: Laporan sedang ditindaklanjuti Polsek Menteng." in body
    assert "Jawaban paling lambat 9 Desember 2026." in body
    done = {**DIPERBARUI, "status_lama": "diproses", "status_baru": "selesai", "jawaban": None}
    _, body = render("aspirasi.diperbarui", "email", aspirasi=done)
    assert "Jawaban" not in body and 'kini berstatus "selesai"' in body
    rejected = {**DIPERBARUI, "status_lama": "diterima", "status_baru": "ditolak", "jawaban": "Di luar kewenangan.",
                "batas_jawaban": None}
    _, body = render("aspirasi.diperbarui", "email", aspirasi=rejected)
    assert "Jawaban: Di luar kewenangan." in body and "paling lambat" not in body
    _, sms = render("aspirasi.diperbarui", "sms", aspirasi=done)
    assert sms.strip() == f"BKPM: tiket {TIKET} kini selesai."
    _, sms = render("aspirasi.diperbarui", "sms", aspirasi={**DIPERBARUI, "jawaban": "panjang " * 40})
    assert len(sms.split("Jawaban: ", 1)[1].strip()) <= 100
    subject, body = render("aspirasi.diperbarui", "whatsapp", aspirasi=done)
    assert subject == "bkpm_aspirasi_diperbarui"
    assert whatsapp_parameters(body) == ["Bapak/Ibu Pelapor", TIKET, "selesai", "-"]


def test_a_multi_line_public_answer_stays_one_whatsapp_parameter():
    aspirasi = {**DIPERBARUI, "jawaban": "Terima kasih.\nPatroli ditambah mulai pekan depan."}
    parameters = whatsapp_parameters(render("aspirasi.diperbarui", "whatsapp", aspirasi=aspirasi)[1])
    assert parameters[3] == "Terima kasih. Patroli ditambah mulai pekan depan."


def test_a_late_aspiration_names_the_missed_deadline_and_its_date():
    subject, body = render("aspirasi.terlambat", "email")
    assert subject == f"Aspirasi {TIKET} melewati batas verifikasi"
    assert 'status "diterima"' in body and "verifikasi pada 2 Desember 2026" in body
    answer = {**TERLAMBAT, "status": "diproses", "tenggat": "jawaban", "batas": BATAS_JAWABAN}
    subject, body = render("aspirasi.terlambat", "inbox", aspirasi=answer)
    assert subject == f"Aspirasi {TIKET} melewati batas jawaban"
    assert "jawaban pada 9 Desember 2026" in body


def test_an_exhausted_quota_names_the_program_and_its_size():
    subject, body = render("kuota.habis", "email")
    assert subject == "Kuota program Sembako Ramadan 2026 habis"
    assert '"Sembako Ramadan 2026" (500 penerima) telah tersalurkan' in body


def test_activity_notices_give_the_time_on_the_clocks_where_it_takes_place():
    _, body = render("kegiatan.dijadwalkan", "email")
    assert "kegiatan patroli bersama:" in body
    assert "Rabu, 2 Desember 2026 pukul 20.00 WIB s.d. Rabu, 2 Desember 2026 pukul 22.00 WIB" in body
    _, body = render("kegiatan.dibatalkan", "inbox")
    assert "Alasan: Cuaca buruk" in body and "pukul 20.00 WIB" in body
    in_kupang = {**KEGIATAN, "lokasi": {**KEGIATAN["lokasi"], "kode_wilayah": "53.71.01"}}
    _, body = render("kegiatan.dijadwalkan", "email", kegiatan=in_kupang, wilayah=None)  # a national unit's
    assert "pukul 21.00 WITA s.d. Rabu, 2 Desember 2026 pukul 23.00 WITA" in body


def test_an_operators_template_tells_times_in_the_zone_of_the_messages_area(tmp_path):
    (tmp_path / "x.sms.txt").write_text("X\nMulai {{ kegiatan.mulai | waktu }}\n")
    _, body = Templates(str(tmp_path)).render("x", "sms", kegiatan=KEGIATAN, wilayah="91.71")
    assert body == "Mulai Rabu, 2 Desember 2026 pukul 22.00 WIT\n"


def test_receipts_and_appointments_carry_their_particulars():
    _, sms = render("penyaluran.dicatat", "sms")
    assert "Yth. Ibu Ani Lestari" in sms and "2 Desember 2026" in sms and "(no. 5f1c2a9b)" in sms
    subject, body = render("penyaluran.dicatat", "whatsapp")
    assert subject == "bkpm_tanda_terima_bantuan"
    assert whatsapp_parameters(body) == ["Ibu Ani Lestari", "2 Desember 2026", "5f1c2a9b"]
    subject, body = render("pengurus.diangkat", "whatsapp")
    assert subject == "bkpm_pengangkatan_pengurus"
    assert whatsapp_parameters(body) == ["Ibu Ani Lestari", "wakil ketua", "5 Januari 2026"]


# Dates

def test_a_date_or_a_moment_is_written_as_its_day_in_jakarta():
    assert tanggal("2026-12-02") == "2 Desember 2026"
    assert tanggal("2026-12-01T20:00:00+00:00") == "2 Desember 2026"  # 03:00 WIB on the 2nd
    assert tanggal("2026-12-01T16:59:59+00:00") == "1 Desember 2026"  # 23:59 WIB on the 1st
    assert tanggal(BATAS_VERIFIKASI) == "2 Desember 2026"
    assert tanggal("2026-01-31") == "31 Januari 2026" and tanggal("2026-08-17") == "17 Agustus 2026"


def test_the_html_part_of_an_email_escapes_what_people_typed():
    kegiatan = {"jenis": "penyuluhan", "judul": "<script>alert(1)</script> & Narkoba",
                "mulai": "2026-12-02T09:00:00+07:00", "selesai": "2026-12-02T12:00:00+07:00",
                "lokasi": {"kode_wilayah": "33.74.01", "alamat": "Aula <b>RW 3</b>"}}
    html = Templates().render_html("kegiatan.dijadwalkan", penerima={"nama": "Ibu Ani"}, kegiatan=kegiatan)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Narkoba" in html and "<script>" not in html
    assert "Aula &lt;b&gt;RW 3&lt;/b&gt;" in html
    assert Templates().render_html("kuota.habis", penerima={"nama": "X"}, kuota={}) is None  # no HTML template


# The chain in the log, and what the log shows

DELIVERY = {"event_id": "e1", "event_type": "pengurus.diangkat", "wilayah": "31.71", "penerima": "pelapor:a1",
            "nama": "Bu Wati", "akun": None, "pesan": "aspirasi.diperbarui", "konteks": {"aspirasi": {}},
            "kanal": "whatsapp", "tujuan": "081234567890", "status": "gagal", "percobaan": 2,
            "cadangan": [["sms", "081234567890"], ["email", "wati@contoh.id"]]}


def test_the_next_channel_of_the_chain_carries_the_same_message_and_the_rest_of_the_chain():
    key, following = next_in_chain(DELIVERY)
    assert key == "e1:pelapor:a1:sms"
    assert (following["kanal"], following["tujuan"]) == ("sms", "081234567890")
    assert following["cadangan"] == [["email", "wati@contoh.id"]]
    assert {name: following[name] for name in MESSAGE_FIELDS} == {name: DELIVERY[name] for name in MESSAGE_FIELDS}
    assert "status" not in following and "percobaan" not in following  # a new delivery starts afresh
    _, last = next_in_chain({**following, "cadangan": [["email", "wati@contoh.id"]]})
    assert next_in_chain(last) is None


def test_the_log_masks_citizens_names_but_not_the_boards():
    assert shown_name(DELIVERY) == "Bu*****"
    assert shown_name({**DELIVERY, "penerima": "pengurus:p1", "nama": "AKBP Sari"}) == "AKBP Sari"


def test_a_webhook_into_a_blocked_network_is_refused_before_anything_is_sent():
    blocked = (ipaddress.ip_network("127.0.0.0/8"),)
    with pytest.raises(PermanentFailure, match="diblokir"):
        send_to_webhook("http://127.0.0.1:9/x", "rahasia-yang-panjang", b"{}", "k", 1, blocked)
    with pytest.raises(PermanentFailure, match="diblokir"):
        send_to_webhook("http://localhost:9/x", "rahasia-yang-panjang", b"{}", "k", 1, blocked)


def test_someone_unreachable_is_logged_on_their_first_address():
    assert first_address(PERSON) == ("whatsapp", "081234567890")
    assert first_address(Penerima(id="anggota:2", nama="Pak Budi", email="budi@contoh.id")) == ("email",
                                                                                             "budi@contoh.id")
    assert first_address(Penerima(id="anggota:3", nama="Tanpa Kontak")) is None


def test_an_ipv4_address_written_as_ipv6_is_blocked_too():
    blocked = (ipaddress.ip_network("127.0.0.0/8"),)
    with pytest.raises(PermanentFailure, match="diblokir"):
        send_to_webhook("http://[::ffff:127.0.0.1]:9/x", "rahasia-yang-panjang", b"{}", "k", 1, blocked)


def test_a_webhook_written_with_a_blocked_address_is_refused_when_registered(monkeypatch):
    from marshmallow import ValidationError

    from services.notifikasi.schemas import WebhookBaruSchema
    monkeypatch.delenv("WEBHOOK_BLOCKED_NETWORKS", raising=False)  # the defaults (settings are read per call)
    body = {"rahasia": "rahasia-yang-cukup-panjang"}
    for url in ("http://127.0.0.1:15672/api", "http://10.1.2.3/x", "http://169.254.169.254/latest"):
        with pytest.raises(ValidationError) as refused:
            WebhookBaruSchema().load({**body, "url": url})
        assert refused.value.messages == {"url": ["Alamat webhook berada di jaringan yang diblokir."]}
    assert WebhookBaruSchema().load({**body, "url": "https://bappeda.kupangkota.go.id/bkpm"})["jenis"] == ["*"]


def test_every_email_ends_with_its_opt_out_link_in_words_an_operator_may_replace(tmp_path):
    link = "https://bkpm.contoh.go.id/api/v1/notifikasi/berhenti/abc"
    assert Templates().opt_out_footer(link).rstrip().endswith(link)
    (tmp_path / "_berhenti.email.txt").write_text("\nBerhenti: {{ berhenti_url }}\n")
    assert Templates(str(tmp_path)).opt_out_footer(link) == f"\nBerhenti: {link}\n"
    kegiatan = {"judul": "Dialog", "jenis": "dialog", "mulai": "2026-12-09T09:00:00+07:00",
                "selesai": "2026-12-09T11:00:00+07:00", "lokasi": {"alamat": "Balai", "kode_wilayah": "33.74.01"}}
    html = Templates().render_html("kegiatan.dijadwalkan", penerima={"nama": "Ani"}, kegiatan=kegiatan,
                                   berhenti_url=link)
    assert f'href="{link}"' in html
    assert "Berhenti berlangganan" not in Templates().render_html(
        "kegiatan.dijadwalkan", penerima={"nama": "Ani"}, kegiatan=kegiatan, berhenti_url=None)


def test_the_opt_out_header_goes_out_whole_on_one_line_as_mail_programs_read_it():
    link = "https://bkpm.kota-semarang.contoh.go.id/api/v1/notifikasi/berhenti/" + "A" * 32
    message = email_message(Settings(), "ani@contoh.id", Message("Subjek", "Isi\n", None, link), "kunci")
    raw = message.as_bytes()
    assert f"List-Unsubscribe: <{link}>\n".encode() in raw
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in raw
    assert b"List-Unsubscribe" not in email_message(Settings(), "ani@contoh.id", Message("Subjek", "Isi\n"),
                                                    "kunci").as_bytes()
