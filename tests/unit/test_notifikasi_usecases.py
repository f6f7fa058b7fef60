"""notifikasi's use cases with fakes: who hears each event, the delivery (fallback chain,
opt-out, retries, the lease, the inbox, the events of each outcome, the opt-out link,
retention), and who may read the log, set preferences and manage webhooks. No broker, no
database, no network: the sender is a fake that records or fails."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.common.errors import Forbidden, NotFound, Unavailable
from services.notifikasi import domain, usecases
from services.notifikasi.channels import Templates
from services.notifikasi.domain import Message, PermanentFailure, TemporaryFailure
from tests.unit.fake_notifikasi import FakeContacts, FakeNotifikasiRepository, FakeSender
from tests.unit.fakes import FakeOrganisasi, actor
from tests.unit.test_notifikasi_domain import CONTEXTS, DIPERBARUI, DITERIMA, KEGIATAN, KUOTA, TERLAMBAT

TEMPLATES = Templates()
PUBLIC_URL = "https://bkpm.contoh.go.id"
UNIT, PARENT = "unit-3171", "unit-31"  # the units of the events' data (KEGIATAN, DITERIMA, KUOTA, ...)
PENGURUS = CONTEXTS["pengurus.diangkat"]["pengurus"]  # p-1 of unit-31
PENYALURAN = CONTEXTS["penyaluran.dicatat"]["penyaluran"]  # to pn-1
PHONE, OTHER_PHONE = "081234567890", "081299990000"


class World:
    """The use cases' outside world: the store on its clock, the services asked, the sender."""

    def __init__(self, **settings):
        self.store = FakeNotifikasiRepository()
        self.organisasi = FakeOrganisasi()
        self.kegiatan = FakeContacts("kegiatan", "get_kontak_pelapor")
        self.bantuan = FakeContacts("bantuan", "get_kontak_penerima")
        self.akun = FakeContacts("akun", "serahkan_reset")
        self.organisasi.add_unit("31", unit_id=PARENT)
        self.organisasi.add_unit("31.71", unit_id=UNIT, induk_id=PARENT)
        self.sender = FakeSender()
        self.settled = []
        self.postman = usecases.Postman(
            send=self.sender, templates=TEMPLATES, channels=frozenset({"whatsapp", "sms", "email", "inbox"}),
            max_attempts=3, retry_base_seconds=30, retry_cap_seconds=100, lease_seconds=60, public_url=PUBLIC_URL,
            clock=self.store.clock, on_settled=lambda channel, status: self.settled.append((channel, status)))
        self.postman = replace(self.postman, **settings)

    def log(self, **where):
        return sorted(self.store.rows("pengiriman", lambda d: all(d[k] == v for k, v in where.items())),
                      key=lambda delivery: delivery["dibuat"])

    def outcomes(self, **where):
        return sorted((delivery["kanal"], delivery["status"]) for delivery in self.log(**where))

    def one(self, **where):
        [delivery] = self.log(**where)
        return delivery

    def resend_due(self):
        usecases.attempt_due(self.store, self.postman, lambda work, *args: work(*args))

    def later(self, seconds):
        """Time passes, and the timer takes up what has come due."""
        self.store.clock.advance(seconds)
        self.resend_due()


@pytest.fixture
def world():
    return World()


def event(event_type, data, wilayah="31.71", event_id="e-1", source="/bkpm/kegiatan"):
    return {"id": event_id, "type": event_type, "source": source, "wilayah": wilayah, "data": data}


def contact(contact_id, nama, peran="anggota", telepon=None, email=None, akun=None):
    return {"id": contact_id, "nama": nama, "peran": peran, "telepon": telepon, "email": email, "akun": akun}


def appoint(world, telepon=PHONE, email="sari@contoh.go.id", akun=None, event_id="e-1"):
    """pengurus.diangkat for p-1, whose templates cover every channel of the chain."""
    world.organisasi.contacts[PARENT] = [contact("p-1", "AKBP Sari", "sekretaris", telepon, email, akun)]
    usecases.tell_appointee(event("pengurus.diangkat", PENGURUS, "31", event_id, "/bkpm/organisasi"), world.store,
                            world.organisasi, world.postman)


def report(world, event_id="e-1", aspirasi_id="asp-1", **pelapor):
    """aspirasi.diterima of an aspiration (asp-1) in unit-3171, whose reporter left `pelapor`."""
    world.kegiatan.contacts[aspirasi_id] = {"id": aspirasi_id, "nama": "Bapak/Ibu Pelapor", **pelapor}
    usecases.tell_new_aspirasi(event("aspirasi.diterima", {**DITERIMA, "id": aspirasi_id}, event_id=event_id),
                               world.store, world.organisasi, world.kegiatan, world.postman)


def progress(world, event_id, aspirasi_id="asp-1"):
    """aspirasi.diperbarui of an aspiration whose reporter's contacts kegiatan knows."""
    usecases.tell_reporter(event("aspirasi.diperbarui", {**DIPERBARUI, "id": aspirasi_id}, event_id=event_id),
                           world.store, world.kegiatan, world.postman)


# Who hears what

def test_an_activity_reaches_the_units_board_and_members_once_also_when_the_event_comes_twice(world):
    world.organisasi.contacts[UNIT] = [
        contact("p-1", "Kombes Irwan", "ketua", email="kapolres@contoh.go.id"),
        contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id", akun="sari"),
        contact("a-1", "Ibu Ani", email="ani@contoh.id"),
        contact("a-2", "Pak Budi", telepon=PHONE)]
    for event_type, kegiatan in (("kegiatan.dijadwalkan", KEGIATAN), ("kegiatan.dijadwalkan", KEGIATAN),
                                 ("kegiatan.dibatalkan", CONTEXTS["kegiatan.dibatalkan"]["kegiatan"])):
        usecases.tell_unit(event(event_type, kegiatan, event_id=event_type), world.store, world.organisasi,
                           world.postman)

    emails = [(to, message.subject) for channel, to, message, _ in world.sender.sent if channel == "email"]
    assert sorted(emails) == sorted(
        [(to, "Kegiatan BKPM dijadwalkan: Patroli malam Menteng") for to in
         ("kapolres@contoh.go.id", "sari@contoh.go.id", "ani@contoh.id")] +
        [(to, "Kegiatan BKPM dibatalkan: Patroli malam Menteng") for to in
         ("kapolres@contoh.go.id", "sari@contoh.go.id", "ani@contoh.id")])
    # Pak Budi has only a phone and activity notices go by email: logged as not reached.
    assert world.outcomes(event_id="kegiatan.dijadwalkan") == [
        ("email", "terkirim"), ("email", "terkirim"), ("email", "terkirim"), ("inbox", "terkirim"),
        ("whatsapp", "dilewati")]
    budi = world.one(event_id="kegiatan.dijadwalkan", penerima="anggota:a-2")
    assert (budi["tujuan"], budi["percobaan"], budi["galat_terakhir"]) == (PHONE, 0, usecases.UNREACHABLE)


def test_whoever_has_an_account_finds_the_message_in_their_inbox(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id",
                                               akun="sari")]
    usecases.tell_unit(event("kegiatan.dijadwalkan", KEGIATAN), world.store, world.organisasi, world.postman)
    inbox = usecases.list_pesan(actor("pemantau", sub="sari"), {"page": 1, "per_page": 20}, world.store)
    [message] = inbox["items"]
    assert inbox["total"] == 1 and message["id"] == "e-1:akun:sari:inbox"
    assert message["judul"] == "Kegiatan BKPM dijadwalkan: Patroli malam Menteng"
    assert message["isi"].startswith("Yth. AKBP Sari,") and "berhenti" not in message["isi"]  # no opt-out footer
    assert (message["event_type"], message["dibaca"]) == ("kegiatan.dijadwalkan", None)


def test_an_appointee_is_told_when_their_contact_is_known(world):
    appoint(world)
    [(channel, to, message, _)] = world.sender.sent
    assert (channel, to, message.subject) == ("whatsapp", PHONE, "bkpm_pengangkatan_pengurus")
    assert message.text.strip().splitlines() == ["AKBP Sari", "wakil ketua", "5 Januari 2026"]

    world.organisasi.contacts[PARENT] = []
    usecases.tell_appointee(event("pengurus.diangkat", PENGURUS, event_id="e-2"), world.store, world.organisasi,
                            world.postman)
    assert world.log(event_id="e-2") == []


def test_an_aid_recipient_gets_a_receipt_only_when_a_phone_is_known(world):
    world.bantuan.contacts["pn-1"] = {"id": "pn-1", "nama": "Ibu Ani Lestari", "telepon": PHONE}
    world.bantuan.contacts["pn-2"] = {"id": "pn-2", "nama": "Pak Udin", "telepon": None, "email": "udin@contoh.id"}
    for penerima_id in ("pn-1", "pn-2", "pn-3"):  # pn-3: unknown to bantuan
        usecases.tell_recipient(event("penyaluran.dicatat", {**PENYALURAN, "penerima_id": penerima_id},
                                      event_id=penerima_id, source="/bkpm/bantuan"),
                                world.store, world.bantuan, world.postman)
    assert [(channel, to, message.subject) for channel, to, message, _ in world.sender.sent] == [
        ("whatsapp", PHONE, "bkpm_tanda_terima_bantuan")]
    assert [delivery["penerima"] for delivery in world.log()] == ["penerima:pn-1"]


def test_an_exhausted_quota_is_told_to_the_board_not_the_members(world):
    world.organisasi.contacts[PARENT] = [contact("p-1", "Kapolda", "ketua", email="kapolda@contoh.go.id"),
                                         contact("p-2", "AKBP Joko", "sekretaris", email="joko@contoh.go.id"),
                                         contact("a-1", "Ibu Ani", email="ani@contoh.id")]
    usecases.tell_board(event("kuota.habis", KUOTA, "31", source="/bkpm/bantuan"), world.store, world.organisasi,
                        world.postman)
    assert sorted(to for _, to, _, _ in world.sender.sent) == ["joko@contoh.go.id", "kapolda@contoh.go.id"]
    assert {message.subject for *_, message, _ in world.sender.sent} == {"Kuota program Sembako Ramadan 2026 habis"}


def test_a_new_aspiration_tells_the_reporter_and_the_units_sekretaris_only(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id"),
                                       contact("p-1", "Kombes Irwan", "ketua", email="kapolres@contoh.go.id")]
    world.organisasi.contacts[PARENT] = [contact("p-9", "AKBP Joko", "sekretaris", email="joko@contoh.go.id")]
    report(world, email="wati@contoh.id")
    [(_, to_reporter)] = world.sender.to("wati@contoh.id")
    [(_, summary)] = world.sender.to("sari@contoh.go.id")
    assert to_reporter.subject == "Aspirasi Anda diterima BKPM: tiket ASP-7K2M9QX4PT"
    assert summary.subject.startswith("Aspirasi baru ASP-7K2M9QX4PT") and "Bu Wati" not in summary.text
    assert len(world.sender.sent) == 2  # neither the ketua nor the parent unit's sekretaris
    assert {d["pesan"] for d in world.log()} == {"aspirasi.diterima.pelapor", "aspirasi.diterima.sekretaris"}


def test_an_update_of_an_aspiration_tells_its_reporter_when_a_contact_is_known(world):
    world.kegiatan.contacts["asp-1"] = {"id": "asp-1", "nama": "Bu Wati", "telepon": PHONE}
    usecases.tell_reporter(event("aspirasi.diperbarui", DIPERBARUI), world.store, world.kegiatan, world.postman)
    [(channel, message)] = world.sender.to(PHONE)
    assert (channel, message.subject) == ("whatsapp", "bkpm_aspirasi_diperbarui")
    del world.kegiatan.contacts["asp-1"]
    usecases.tell_reporter(event("aspirasi.diperbarui", DIPERBARUI, event_id="e-2"), world.store, world.kegiatan,
                           world.postman)
    assert world.log(event_id="e-2") == []


def test_a_late_aspiration_is_escalated_to_the_sekretaris_of_the_parent_unit(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id"),
                                       contact("p-1", "Kombes Irwan", "ketua", email="kapolres@contoh.go.id")]
    world.organisasi.contacts[PARENT] = [contact("p-9", "AKBP Joko", "sekretaris", email="joko@contoh.go.id")]
    usecases.escalate_late_aspirasi(event("aspirasi.terlambat", TERLAMBAT), world.store, world.organisasi,
                                    world.postman)
    assert sorted(to for _, to, _, _ in world.sender.sent) == ["joko@contoh.go.id", "sari@contoh.go.id"]
    assert {message.subject for *_, message, _ in world.sender.sent} == {
        "Aspirasi ASP-7K2M9QX4PT melewati batas verifikasi"}


def reset_asked(world, event_id="e-1"):
    usecases.send_reset_link(event("akun.reset_diminta", {"id": "akun-1", "reset_id": "reset-1", "wilayah": "31.71"},
                                   event_id=event_id, source="/bkpm/akun"), world.store, world.akun, world.postman)


def test_a_reset_link_handed_over_once_by_akun_goes_to_the_holders_email_only(world):
    world.akun.contacts["reset-1"] = {"id": "akun-1", "nama": "Budi Santoso", "email": "budi@contoh.go.id",
                                      "token": "t0k3n", "berlaku_sampai": "2026-12-01T02:30:00+00:00"}
    reset_asked(world)
    [(channel, message)] = world.sender.to("budi@contoh.go.id")
    assert channel == "email" and message.subject == "Atur ulang kata sandi akun BKPM"
    assert f"{PUBLIC_URL}/konsol/atur-sandi?token=t0k3n" in message.text
    assert "09.30 WIB" in message.text and message.berhenti_url is None  # no opt-out link under a key
    assert world.outcomes() == [("email", "terkirim")]  # not the inbox: it is behind the password
    assert "reset" not in world.one()["konteks"]  # the link leaves the log once sent
    world.akun.contacts["reset-1"] = None  # asked again, akun would void the link just sent
    reset_asked(world)  # the same event heard again
    assert len(world.sender.sent) == 1


def test_a_reset_link_goes_out_whatever_the_holders_preferences(world):
    world.store.set_preferences("akun:akun-1", {"semua": False}, "akun-1")
    world.akun.contacts["reset-1"] = {"id": "akun-1", "nama": "Budi Santoso", "email": "budi@contoh.go.id",
                                      "token": "t0k3n", "berlaku_sampai": "2026-12-01T02:30:00+00:00"}
    reset_asked(world)
    assert [channel for channel, _ in world.sender.to("budi@contoh.go.id")] == ["email"]


def test_a_reset_link_leads_to_the_web_front_ends_own_address_when_it_has_one():
    """`make run` serves the portal beside the gateway, on a port of its own (PORTAL_URL)."""
    world = World(portal_url="http://127.0.0.1:8080")
    world.akun.contacts["reset-1"] = {"id": "akun-1", "nama": "Budi", "email": "budi@contoh.go.id", "token": "t",
                                      "berlaku_sampai": "2026-12-01T02:30:00+00:00"}
    reset_asked(world)
    [(_, message)] = world.sender.to("budi@contoh.go.id")
    assert "http://127.0.0.1:8080/konsol/atur-sandi?token=t" in message.text


def test_without_the_public_address_no_reset_link_is_asked_for(world):
    world = World(public_url=None)
    world.akun.contacts["reset-1"] = {"id": "akun-1", "nama": "Budi", "email": "budi@contoh.go.id", "token": "t",
                                      "berlaku_sampai": "2026-12-01T02:30:00+00:00"}
    reset_asked(world)
    assert world.sender.sent == [] and "reset-1" in world.akun.contacts


def test_organisasi_not_answering_leaves_the_event_to_be_retried_with_nothing_logged(world):
    world.organisasi.down = True
    with pytest.raises(Unavailable):
        usecases.tell_unit(event("kegiatan.dijadwalkan", KEGIATAN), world.store, world.organisasi, world.postman)
    assert world.log() == [] and world.sender.sent == []


def test_only_channels_set_up_and_with_a_template_for_the_message_are_used():
    world = World(channels=frozenset({"email", "inbox"}))  # no SMS or WhatsApp provider
    appoint(world, akun="sari")
    assert world.outcomes() == [("email", "terkirim"), ("inbox", "terkirim")]
    assert world.one(kanal="email")["cadangan"] == []
    # A receipt goes by SMS or WhatsApp only, and has no email for the inbox to show.
    world.bantuan.contacts["pn-1"] = {"id": "pn-1", "nama": "Ibu Ani Lestari", "telepon": PHONE, "akun": "ani"}
    usecases.tell_recipient(event("penyaluran.dicatat", PENYALURAN, event_id="e-2", source="/bkpm/bantuan"),
                            world.store, world.bantuan, world.postman)
    assert world.outcomes(event_id="e-2") == [("whatsapp", "dilewati")]


# The fallback chain

def test_a_channel_refusing_for_good_hands_the_message_to_the_next_one_at_once(world):
    world.sender.fail("whatsapp", PermanentFailure("penyedia menolak (400)"))
    appoint(world)
    assert world.outcomes() == [("sms", "terkirim"), ("whatsapp", "gagal")]
    assert world.one(kanal="whatsapp")["galat_terakhir"] == "penyedia menolak (400)"
    sms = world.one(kanal="sms")
    assert (sms["id"], sms["percobaan"]) == ("e-1:pengurus:p-1:sms", 1)
    assert [tuple(rest) for rest in sms["cadangan"]] == [("email", "sari@contoh.go.id")]
    assert [message.subject for _, message in world.sender.to(PHONE)] == ["Pengangkatan pengurus BKPM"]
    assert world.settled == [("whatsapp", "gagal"), ("sms", "terkirim")]


def test_the_next_channel_is_claimed_in_the_same_transaction_as_the_failure(world, monkeypatch):
    world.sender.fail("whatsapp", PermanentFailure("penyedia menolak (400)"))
    claim = world.store.claim

    def claim_but_not_in_a_transaction(key, entry, tx=None):
        if tx is not None:
            raise RuntimeError("the database went away")
        return claim(key, entry)

    monkeypatch.setattr(world.store, "claim", claim_but_not_in_a_transaction)
    with pytest.raises(RuntimeError):
        appoint(world)
    [whatsapp] = world.log()  # the failure is not recorded without its successor: tried again later
    assert (whatsapp["kanal"], whatsapp["status"]) == ("whatsapp", "antri") and world.store.uow.events == []


def test_an_opted_out_channel_is_skipped_without_a_try_and_the_next_one_takes_over(world):
    world.store.set_preferences("akun:sari", {"whatsapp": False}, "sari")
    appoint(world, akun="sari")
    assert world.outcomes() == [("inbox", "terkirim"), ("sms", "terkirim"), ("whatsapp", "dilewati")]
    skipped = world.one(kanal="whatsapp")
    assert (skipped["percobaan"], skipped["galat_terakhir"]) == (0, usecases.OPTED_OUT)
    assert [channel for channel, _ in world.sender.to(PHONE)] == ["sms"]


def test_someone_opted_out_of_everything_gets_nothing_and_the_log_says_so(world):
    world.store.set_preferences("akun:hadi", {"semua": False}, "hadi")
    appoint(world, akun="hadi")
    assert world.outcomes() == [("email", "dilewati"), ("inbox", "dilewati"), ("sms", "dilewati"),
                                ("whatsapp", "dilewati")]
    assert world.sender.sent == [] and world.store.uow.events == []  # a skip is no outcome to announce
    assert usecases.list_pesan(actor("pemantau", sub="hadi"), {"page": 1, "per_page": 20}, world.store)["total"] == 0


def test_an_official_may_opt_out_of_duty_messages_too(world):
    world.store.set_preferences("akun:sari", {"email": False}, "sari")
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id",
                                               akun="sari")]
    usecases.escalate_late_aspirasi(event("aspirasi.terlambat", TERLAMBAT), world.store, world.organisasi,
                                    world.postman)
    assert world.outcomes() == [("email", "dilewati"), ("inbox", "terkirim")]


# Retries

def test_a_temporary_failure_is_tried_again_after_pauses_that_grow_until_the_cap():
    world = World(max_attempts=5)
    world.sender.fail("whatsapp", TemporaryFailure("penyedia menolak (503)"), times=4)
    appoint(world)
    pauses = []
    while world.one(kanal="whatsapp")["status"] == "antri":
        waiting = world.one(kanal="whatsapp")
        pauses.append((waiting["berikutnya"] - world.store.clock()).total_seconds())
        world.later(pauses[-1] - 1)
        assert world.one(kanal="whatsapp")["percobaan"] == len(pauses)  # not yet due: not tried again
        world.later(1)
    assert pauses == [30, 60, 100, 100]
    delivered = world.one(kanal="whatsapp")
    assert (delivered["status"], delivered["percobaan"], delivered["galat_terakhir"]) == ("terkirim", 5, None)
    assert len(world.sender.to(PHONE)) == 1 and world.log(kanal="sms") == []


def test_a_channel_out_of_tries_fails_and_the_next_one_takes_over(world):
    world.sender.fail("whatsapp", TemporaryFailure("penyedia tidak dapat dihubungi (ConnectTimeout)"), times=3)
    appoint(world)
    world.later(30)
    world.later(60)
    failed = world.one(kanal="whatsapp")
    assert (failed["status"], failed["percobaan"]) == ("gagal", 3)
    assert failed["galat_terakhir"] == "penyedia tidak dapat dihubungi (ConnectTimeout) (3 kali dicoba)"
    assert world.one(kanal="sms")["status"] == "terkirim"
    assert world.store.uow.types() == ["notifikasi.gagal", "notifikasi.terkirim"]


def test_an_unforeseen_error_while_sending_is_tried_again_like_a_temporary_one(world):
    world.sender.fail("whatsapp", RuntimeError("bug"))
    appoint(world)
    waiting = world.one(kanal="whatsapp")
    assert (waiting["status"], waiting["galat_terakhir"]) == ("antri", "galat tak terduga (RuntimeError)")
    world.later(30)
    assert world.one(kanal="whatsapp")["status"] == "terkirim"


def test_a_message_without_a_usable_template_fails_for_good_at_once(world):
    key = usecases.log_delivery(event("tidak.ada", {}), {
        "penerima": "pengurus:p-1", "nama": "AKBP Sari", "akun": None, "pesan": "tidak.ada", "konteks": {},
        "kanal": "email", "tujuan": "sari@contoh.go.id", "cadangan": []}, world.store)
    usecases.attempt(key, world.store, world.postman)
    failed = world.one()
    assert (failed["status"], failed["percobaan"]) == ("gagal", 1)
    assert failed["galat_terakhir"] == "templat tidak.ada.email tidak dapat dipakai (TemplateNotFound)"


# Exactly once: the lease

def test_a_delivery_held_by_another_sender_is_left_to_it(world):
    key = usecases.log_delivery(event("pengurus.diangkat", PENGURUS), {
        "penerima": "pengurus:p-1", "nama": "AKBP Sari", "akun": None, "pesan": "pengurus.diangkat",
        "konteks": {"pengurus": PENGURUS}, "kanal": "sms", "tujuan": PHONE, "cadangan": []}, world.store)
    world.store.take(key, world.store.clock() + timedelta(seconds=60))  # another instance is sending it
    usecases.attempt(key, world.store, world.postman)
    world.later(59)
    assert world.sender.sent == [] and world.one()["percobaan"] == 1
    world.later(1)  # its sender died: the hold ran out
    assert world.one()["status"] == "terkirim" and len(world.sender.sent) == 1


def test_an_outcome_is_dropped_when_the_hold_ran_out_and_another_sender_took_over(world):
    def another_sender_takes_over(delivery):
        world.store.clock.advance(61)
        world.store.take(delivery["id"], world.store.clock() + timedelta(seconds=60))

    world.sender.during(another_sender_takes_over)
    appoint(world)
    held = world.one()
    assert (held["kanal"], held["status"], held["percobaan"]) == ("whatsapp", "antri", 2)
    assert world.store.uow.events == [] and world.settled == []


def test_a_delivery_whose_senders_died_on_every_try_fails_after_the_limit(world):
    key = usecases.log_delivery(event("pengurus.diangkat", PENGURUS, "31"), {
        "penerima": "pengurus:p-1", "nama": "AKBP Sari", "akun": None, "pesan": "pengurus.diangkat",
        "konteks": {"pengurus": PENGURUS}, "kanal": "whatsapp", "tujuan": PHONE, "cadangan": [["sms", PHONE]]},
        world.store)
    for _ in range(3):  # taken, and its sender killed before it could settle
        world.store.take(key, world.store.clock() + timedelta(seconds=60))
        world.store.clock.advance(60)
    usecases.attempt(key, world.store, world.postman)
    dead = world.one(kanal="whatsapp")
    assert (dead["status"], dead["galat_terakhir"]) == ("gagal", "berhenti setelah 3 percobaan yang terputus")
    assert world.sender.to(PHONE)[0][0] == "sms"  # the next channel takes over


# What is announced

def test_each_outcome_is_announced_inside_for_the_event_it_was_about_never_outside(world):
    world.sender.fail("whatsapp", PermanentFailure("penyedia menolak (400)"))
    appoint(world, akun="sari")
    failed, sent_sms, sent_inbox = world.store.uow.events
    assert [e["type"] for e in (failed, sent_sms, sent_inbox)] == [
        "notifikasi.gagal", "notifikasi.terkirim", "notifikasi.terkirim"]
    assert {e["subject"] for e in world.store.uow.events} == {"notifikasi/e-1"}
    assert {e["wilayah"] for e in world.store.uow.events} == {"31"}
    assert failed["data"] == {"id": "e-1:akun:sari:whatsapp", "event_id": "e-1", "event_type": "pengurus.diangkat",
                              "penerima": "akun:sari", "kanal": "whatsapp", "status": "gagal"}
    assert all(event["public"] is None for event in world.store.uow.events)  # internal: never on the feed


# The opt-out link

def test_an_email_carries_the_link_that_stops_every_email_to_its_address_whatever_record_it_comes_from(world):
    report(world, email="wati@contoh.id")
    [(_, first)] = world.sender.to("wati@contoh.id")
    assert first.berhenti_url.startswith(f"{PUBLIC_URL}/api/v1/notifikasi/berhenti/")
    assert first.text.rstrip().endswith(first.berhenti_url)
    token = first.berhenti_url.rsplit("/", 1)[1]
    assert usecases.get_tautan_berhenti(token, world.store) == {"kanal": "email", "berhenti": False}

    progress(world, "e-2")
    report(world, "e-3", "asp-2", email="Wati+bkpm@Contoh.id")  # another aspiration, the address spelt otherwise
    [_, (_, second), (_, third)] = world.sender.to("wati@contoh.id") + world.sender.to("Wati+bkpm@Contoh.id")
    assert second.berhenti_url == third.berhenti_url == first.berhenti_url  # an old message's link still works

    assert usecases.hentikan_langganan(token, world.store) == {"kanal": "email", "berhenti": True}
    assert usecases.get_tautan_berhenti(token, world.store) == {"kanal": "email", "berhenti": True}
    holder = domain.address_holder("wati@contoh.id")
    assert world.store.preference_record(holder)["kanal"] == {"email": False}
    assert holder.startswith("alamat:") and "wati" not in holder  # the address is known by its hash only
    progress(world, "e-4")
    report(world, "e-5", "asp-3", email="WATI@contoh.id")
    world.organisasi.contacts[PARENT] = [contact("p-1", "Bu Wati", "sekretaris", email="wati@contoh.id")]
    usecases.tell_appointee(event("pengurus.diangkat", PENGURUS, "31", "e-6", "/bkpm/organisasi"), world.store,
                            world.organisasi, world.postman)
    for event_id in ("e-4", "e-5", "e-6"):
        skipped = world.one(event_id=event_id)
        assert (skipped["status"], skipped["galat_terakhir"]) == ("dilewati", usecases.OPTED_OUT), event_id
    assert len(world.sender.to("wati@contoh.id")) == 2 and len(world.sender.sent) == 3


def test_someone_with_an_account_keeps_their_accounts_preferences_and_their_link_changes_those(world):
    world.store.set_preferences(domain.address_holder("sari@contoh.go.id"), {"email": False}, "tautan-berhenti")
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id",
                                               akun="sari")]
    usecases.tell_unit(event("kegiatan.dijadwalkan", KEGIATAN), world.store, world.organisasi, world.postman)
    [(_, message)] = world.sender.to("sari@contoh.go.id")
    usecases.hentikan_langganan(message.berhenti_url.rsplit("/", 1)[1], world.store)
    assert world.store.preference_record("akun:sari")["kanal"] == {"email": False}  # hers to switch on again


def test_a_link_sent_before_opt_outs_were_by_address_still_stops_that_records_emails(world):
    token = world.store.opt_out_token("pelapor:asp-1", "email")  # as an email of an earlier version carried it
    assert usecases.hentikan_langganan(token, world.store) == {"kanal": "email", "berhenti": True}
    report(world, email="wati@contoh.id")
    assert world.outcomes(penerima="pelapor:asp-1") == [("email", "dilewati")]


def test_a_national_admin_records_the_wish_of_a_number_that_replied_stop_for_every_message_to_it(world):
    wish = {"telepon": "+6281234567890", "kanal": {"semua": False}}
    for someone in (actor("admin", "31.71"), actor("pengurus")):
        with pytest.raises(Forbidden):
            usecases.atur_preferensi(someone, wish, world.store)
    recorded = usecases.atur_preferensi(actor("admin"), wish, world.store)
    assert (recorded["penerima"], recorded["kanal"]) == (domain.address_holder(PHONE), {"semua": False})
    report(world, telepon=PHONE)
    world.bantuan.contacts["pn-1"] = {"id": "pn-1", "nama": "Pak Darto", "telepon": "0812-3456-7890"}
    usecases.tell_recipient(event("penyaluran.dicatat", PENYALURAN, event_id="e-2", source="/bkpm/bantuan"),
                            world.store, world.bantuan, world.postman)
    assert world.sender.sent == []
    for event_id in ("e-1", "e-2"):
        assert world.outcomes(event_id=event_id, tujuan=world.one(event_id=event_id, kanal="sms")["tujuan"]) == [
            ("sms", "dilewati"), ("whatsapp", "dilewati")]


# A reporter's address and the public form

def test_an_address_hears_of_at_most_three_new_aspirations_a_day_however_it_is_spelt(world):
    spellings = ("korban@contoh.id", "Korban@Contoh.id", "korban+1@contoh.id", "KORBAN+2@contoh.id")
    for n, address in enumerate(spellings, start=1):
        report(world, f"e-{n}", f"asp-{n}", email=address)
    assert len(world.sender.sent) == 3
    held = world.one(event_id="e-4", penerima="pelapor:asp-4")
    assert (held["status"], held["percobaan"], held["galat_terakhir"]) == ("dilewati", 0, usecases.TOO_MANY)
    assert usecases.TOO_MANY.startswith("alamat ini sudah mendapat pesan tentang 3 aspirasi baru dalam 24 jam")
    report(world, "e-5", "asp-5", email="orang.lain@contoh.id")  # another address has its own allowance
    assert [to for _, to, _, _ in world.sender.sent][-1] == "orang.lain@contoh.id"

    world.store.clock.advance(timedelta(hours=23, minutes=59).total_seconds())
    report(world, "e-6", "asp-6", email="korban@contoh.id")
    assert world.one(event_id="e-6")["galat_terakhir"] == usecases.TOO_MANY
    world.store.clock.advance(60)  # a day after the first
    report(world, "e-7", "asp-7", email="korban@contoh.id")
    assert world.one(event_id="e-7")["status"] == "terkirim"


def test_the_progress_of_an_aspiration_an_address_was_told_of_does_not_count_and_the_rest_waits_for_room(world):
    for n in (1, 2, 3, 4):
        report(world, f"e-{n}", f"asp-{n}", email="korban@contoh.id")
    for n in (1, 2, 3):
        progress(world, f"e-1{n}", f"asp-{n}")  # told of these: their progress goes, uncounted
    progress(world, "e-14", "asp-4")  # held back at first: so is its progress, for now
    assert [world.one(event_id=f"e-1{n}")["status"] for n in (1, 2, 3, 4)] == ["terkirim"] * 3 + ["dilewati"]
    world.store.clock.advance(timedelta(days=1).total_seconds())
    progress(world, "e-24", "asp-4")  # room again: it counts as new now
    progress(world, "e-21", "asp-1")
    assert world.one(event_id="e-24")["status"] == world.one(event_id="e-21")["status"] == "terkirim"


def test_a_number_held_back_hands_the_message_to_the_email_the_reporter_gave_too(world):
    for n in (1, 2, 3):
        report(world, f"e-{n}", f"asp-{n}", telepon=PHONE)
    report(world, "e-4", "asp-4", telepon="0812 3456 7890", email="wati@contoh.id")
    assert world.outcomes(event_id="e-4", penerima="pelapor:asp-4") == [
        ("email", "terkirim"), ("sms", "dilewati"), ("whatsapp", "dilewati")]
    assert [channel for channel, _ in world.sender.to(PHONE)] == ["whatsapp"] * 3


def test_only_messages_about_aspirations_are_held_to_the_allowance(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id")]
    for n in range(1, 6):
        report(world, f"e-{n}", f"asp-{n}", email="sari@contoh.go.id")
    summaries = [m for _, m in world.sender.to("sari@contoh.go.id") if m.subject.startswith("Aspirasi baru")]
    assert len(summaries) == 5  # a duty is not a message from the public form


def test_a_duty_email_has_no_opt_out_link_nor_has_any_without_a_public_address(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id")]
    report(world, email="wati@contoh.id")
    [(_, summary)] = world.sender.to("sari@contoh.go.id")
    assert summary.berhenti_url is None and "berhenti" not in summary.text

    unlisted = World(public_url=None)
    report(unlisted, email="wati@contoh.id")
    [(_, receipt)] = unlisted.sender.to("wati@contoh.id")
    assert receipt.berhenti_url is None and "berhenti" not in receipt.text
    assert unlisted.store.tables["tautan_berhenti"] == {}


def test_an_unknown_opt_out_link_is_404(world):
    with pytest.raises(NotFound, match="tidak dikenal"):
        usecases.get_tautan_berhenti("tidak-pernah-diberikan", world.store)
    with pytest.raises(NotFound):
        usecases.hentikan_langganan("tidak-pernah-diberikan", world.store)


# Webhooks: forwarding

def register(world, wilayah="31.71", jenis=("kegiatan.*",)):
    return usecases.daftarkan_webhook(actor("admin", wilayah), {
        "url": "https://sistem.contoh.go.id/bkpm", "rahasia": "rahasia-bersama-2026", "jenis": list(jenis)},
        world.store)


def test_a_webhook_gets_the_events_of_its_area_it_asked_for_sent_by_the_timer(world):
    webhook = register(world, jenis=("kegiatan.*", "notifikasi.*"))
    scheduled = event("kegiatan.dijadwalkan", KEGIATAN, "31.71.01")
    for forwarded in (scheduled, scheduled, event("kegiatan.dijadwalkan", KEGIATAN, "31.72", "e-2"),
                      event("aspirasi.diterima", DITERIMA, "31.71", "e-3"),
                      event("notifikasi.gagal", {}, "31.71", "e-4", source="/bkpm/notifikasi")):  # its own: never
        usecases.forward_to_webhooks(forwarded, world.store)
    [waiting] = world.log()
    assert (waiting["id"], waiting["status"]) == (f"e-1:webhook:{webhook['id']}:webhook", "antri")
    assert world.sender.sent == []  # a slow receiver never holds up the event's handler

    world.resend_due()
    [(channel, to, message, target)] = world.sender.sent
    assert (channel, to, message) == ("webhook", "https://sistem.contoh.go.id/bkpm", Message())
    assert target["rahasia"] == "rahasia-bersama-2026"
    assert world.one()["konteks"] == {"event": scheduled} and world.one()["status"] == "terkirim"


def test_a_delivery_to_a_deleted_webhook_fails(world):
    webhook = register(world)
    usecases.forward_to_webhooks(event("kegiatan.dijadwalkan", KEGIATAN), world.store)
    usecases.hapus_webhook(actor("admin", "31.71"), webhook["id"], world.store)
    world.resend_due()
    assert (world.one()["status"], world.one()["galat_terakhir"]) == ("gagal", "webhook sudah dihapus")


# Retention

def test_old_settled_deliveries_and_inbox_messages_are_forgotten_and_nothing_else(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id",
                                               akun="sari")]
    world.sender.fail("email", TemporaryFailure("SMTP 421"))
    usecases.tell_unit(event("kegiatan.dijadwalkan", KEGIATAN), world.store, world.organisasi, world.postman)
    world.store.clock.advance(timedelta(days=20).total_seconds())
    usecases.tell_unit(event("kegiatan.dibatalkan", CONTEXTS["kegiatan.dibatalkan"]["kegiatan"], event_id="e-2"),
                       world.store, world.organisasi, world.postman)
    forgotten = usecases.forget_old(world.store, timedelta(days=10), world.store.clock())
    assert forgotten == (1, 1)  # the old inbox delivery and its message; the old email still waits
    assert [(d["event_id"], d["kanal"]) for d in world.log()] == [("e-1", "email"), ("e-2", "email"),
                                                                 ("e-2", "inbox")]
    assert [m["id"] for m in world.store.rows("kotak_masuk")] == ["e-2:akun:sari:inbox"]
    assert usecases.forget_old(world.store, timedelta(days=10), world.store.clock()) == (0, 0)


# Over the gateway: the delivery log

PAGE = {"page": 1, "per_page": 50}


def test_the_delivery_log_is_for_admins_and_boards_of_the_area_with_addresses_masked(world):
    world.kegiatan.contacts["asp-1"] = {"id": "asp-1", "nama": "Bu Wati", "email": "wati@contoh.id"}
    for event_id, wilayah in (("e-1", "31.71"), ("e-2", "31.72")):
        usecases.tell_reporter(event("aspirasi.diperbarui", DIPERBARUI, wilayah, event_id), world.store,
                               world.kegiatan, world.postman)
    appoint(world, event_id="e-3")

    with pytest.raises(Forbidden, match="tidak berwenang melihat log"):
        usecases.list_pengiriman(actor("pemantau", "31.71"), PAGE, world.store)
    mine = usecases.list_pengiriman(actor("pengurus", "31.71"), PAGE, world.store)
    [entry] = mine["items"]
    assert (mine["total"], entry["event_id"]) == (1, "e-1")
    assert (entry["tujuan"], entry["nama"]) == ("w***@contoh.id", "Bu*****")  # a citizen's name masked too
    everything = usecases.list_pengiriman(actor("admin"), PAGE, world.store)
    assert everything["total"] == 3
    board = next(item for item in everything["items"] if item["event_id"] == "e-3")
    assert (board["tujuan"], board["nama"]) == ("0812******90", "AKBP Sari")
    assert "konteks" not in board and "cadangan" not in board


def test_the_delivery_log_filters_by_status_event_and_channel(world):
    world.sender.fail("whatsapp", PermanentFailure("penyedia menolak (400)"))
    appoint(world)
    appoint(world, event_id="e-2")
    admin = actor("admin")
    assert [d["kanal"] for d in usecases.list_pengiriman(admin, {**PAGE, "status": "gagal"}, world.store)["items"]] \
        == ["whatsapp"]
    assert usecases.list_pengiriman(admin, {**PAGE, "event_id": "e-2"}, world.store)["total"] == 1
    assert usecases.list_pengiriman(admin, {**PAGE, "kanal": "sms", "event_id": "e-1"}, world.store)["total"] == 1


# Over the gateway: the inbox

def test_the_inbox_is_ones_own_and_remembers_when_a_message_was_first_read(world):
    world.organisasi.contacts[UNIT] = [contact("p-2", "AKBP Sari", "sekretaris", email="sari@contoh.go.id",
                                               akun="sari")]
    usecases.tell_unit(event("kegiatan.dijadwalkan", KEGIATAN), world.store, world.organisasi, world.postman)
    sari, other = actor("pemantau", sub="sari"), actor("pemantau", sub="orang-lain")
    [message] = usecases.list_pesan(sari, PAGE, world.store)["items"]
    assert usecases.list_pesan(other, PAGE, world.store)["total"] == 0
    with pytest.raises(NotFound, match="tidak ada di kotak masuk Anda"):
        usecases.baca_pesan(other, message["id"], world.store)

    read = usecases.baca_pesan(sari, message["id"], world.store)
    assert read["dibaca"] is not None
    world.store.clock.advance(60)
    assert usecases.baca_pesan(sari, message["id"], world.store)["dibaca"] == read["dibaca"]
    assert usecases.list_pesan(sari, {**PAGE, "dibaca": False}, world.store)["total"] == 0
    assert usecases.list_pesan(sari, {**PAGE, "dibaca": True}, world.store)["total"] == 1


# Over the gateway: preferences

def test_ones_own_preferences_are_set_and_read_back(world):
    hadi = actor("pemantau", sub="hadi")
    assert usecases.get_preferensi(hadi, world.store) == {"penerima": "akun:hadi", "kanal": {}, "diperbarui": None}
    chosen = usecases.atur_preferensi(hadi, {"kanal": {"semua": False}}, world.store)
    assert (chosen["penerima"], chosen["kanal"]) == ("akun:hadi", {"semua": False})
    usecases.atur_preferensi(hadi, {"kanal": {"sms": True}}, world.store)  # channels not named stay
    assert usecases.get_preferensi(hadi, world.store)["kanal"] == {"semua": False, "sms": True}


def test_only_a_national_admin_sets_the_preferences_of_someone_without_an_account(world):
    wish = {"penerima": "pelapor:123", "kanal": {"sms": False}}
    with pytest.raises(Forbidden, match="Hanya admin nasional"):
        usecases.atur_preferensi(actor("pengurus"), wish, world.store)
    with pytest.raises(Forbidden):
        usecases.atur_preferensi(actor("admin", "31.71"), wish, world.store)
    assert usecases.atur_preferensi(actor("admin"), wish, world.store)["kanal"] == {"sms": False}
    with pytest.raises(Forbidden, match="hanya dapat diatur oleh pemiliknya sendiri"):
        usecases.atur_preferensi(actor("admin"), {"penerima": "akun:hadi", "kanal": {"semua": True}}, world.store)


# Over the gateway: webhooks

def test_an_admin_registers_a_webhook_in_their_area_and_it_never_shows_its_secret(world):
    with pytest.raises(Forbidden, match="Hanya admin"):
        usecases.daftarkan_webhook(actor("pengurus", "31.71"), {"url": "https://x.go.id", "rahasia": "r" * 16,
                                                                "jenis": ["*"]}, world.store)
    with pytest.raises(Forbidden, match="bukan wilayah 31[.]"):
        usecases.daftarkan_webhook(actor("admin", "31.71"), {"url": "https://x.go.id", "rahasia": "r" * 16,
                                                             "jenis": ["*"], "wilayah": "31"}, world.store)
    webhook = register(world)
    assert (webhook["wilayah"], webhook["oleh"], webhook["jenis"]) == ("31.71", "admin-31.71", ["kegiatan.*"])
    assert "rahasia" not in webhook
    assert register(world, wilayah=None)["wilayah"] is None  # a national admin's: national


def test_an_admin_lists_and_deletes_only_the_webhooks_of_their_area(world):
    here, elsewhere, national = register(world, "31.71"), register(world, "31.72"), register(world, None)
    with pytest.raises(Forbidden, match="melihat webhook"):
        usecases.list_webhook(actor("pengurus", "31.71"), world.store)
    assert [w["id"] for w in usecases.list_webhook(actor("admin", "31.71"), world.store)] == [here["id"]]
    assert len(usecases.list_webhook(actor("admin"), world.store)) == 3
    assert all("rahasia" not in w for w in usecases.list_webhook(actor("admin"), world.store))

    with pytest.raises(Forbidden):
        usecases.hapus_webhook(actor("admin", "31.71"), elsewhere["id"], world.store)
    with pytest.raises(Forbidden):
        usecases.hapus_webhook(actor("admin", "31.71"), national["id"], world.store)
    with pytest.raises(Forbidden, match="menghapus webhook"):
        usecases.hapus_webhook(actor("pengurus", "31.71"), here["id"], world.store)
    usecases.hapus_webhook(actor("admin", "31.71"), here["id"], world.store)
    with pytest.raises(NotFound, match=f"Webhook {here['id']} tidak ditemukan"):
        usecases.hapus_webhook(actor("admin", "31.71"), here["id"], world.store)
