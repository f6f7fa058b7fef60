"""notifikasi's rules and templates, in plain Python."""
from services.notifikasi.channels import Templates, waktu
from services.notifikasi.domain import Penerima, allowed, board_and_members, delivery_key, fallback_chain

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


def test_the_delivery_key_names_event_recipient_and_channel():
    assert delivery_key("e1", "pengurus:1", "sms") == "e1:pengurus:1:sms"


def test_board_members_and_members_get_distinct_ids():
    people = board_and_members([{"id": "a", "nama": "A", "peran": "ketua"},
                                {"id": "b", "nama": "B", "peran": "anggota"}])
    assert [p.id for p in people] == ["pengurus:a", "anggota:b"]


def test_times_are_written_in_jakarta_time_in_bahasa_indonesia():
    assert waktu("2026-12-02T02:00:00+00:00") == "Rabu, 2 Desember 2026 pukul 09.00 WIB"


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
