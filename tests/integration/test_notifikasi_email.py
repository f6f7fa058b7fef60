"""notifikasi writes email through a real SMTP server (aiosmtpd, in this process) to a unit's
board and members when an activity is scheduled or cancelled: rendered from the templates,
to the right people, once each, also when the event comes twice."""
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pika
import pytest
import requests

from services.common.mongo import connect
from tests.nik import recipient
from tests.support import assert_problem, body_of, events_fixture, form_units, wait_until

events = events_fixture("kegiatan.events")


def sekretaris(nama, email, akun=None):
    return {"jabatan": "sekretaris", "nama": nama, "nrp": "80010203", "pangkat": "AKBP",
            "jabatan_polri": "Kasat Binmas", "mulai": "2025-01-01", "email": email, **({"akun": akun} if akun else {})}


@pytest.fixture(scope="module")
def semarang(api, national_unit, mailbox):
    units = form_units(api, "33", "33.74")
    unit = units["33.74"]
    for at, person in ((unit, sekretaris("AKBP Sari", "sari@contoh.go.id", akun="sari-semarang")),
                       (units["33"], sekretaris("AKBP Joko", "joko@contoh.go.id"))):
        assert api.post(f"/units/{at['id']}/pengurus", json=person).status_code == 201
    ketua = {"jabatan": "ketua", "nama": "Kombes Pol. Irwan", "nrp": "72030456", "pangkat": "Kombes Pol",
             "jabatan_polri": "Kapolrestabes Semarang", "mulai": "2025-01-01", "email": "kapolres@contoh.go.id"}
    assert api.post(f"/units/{unit['id']}/pengurus", json=ketua).status_code == 201
    for member in [{"nama": "Ibu Ani", "kategori": "tokoh_agama", "email": "ani@contoh.id"},
                   {"nama": "Pak Budi", "kategori": "masyarakat", "telepon": "081200001111"}]:
        assert api.post(f"/units/{unit['id']}/anggota", json=member).status_code == 201
    return unit


def test_scheduling_and_cancelling_email_the_board_and_members_once(api, semarang, mailbox, events, env):
    body = {"unit_id": semarang["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": "Penyuluhan Bahaya Narkoba",
            "mulai": "2026-12-02T09:00:00+07:00", "selesai": "2026-12-02T12:00:00+07:00",
            "lokasi": {"kode_wilayah": "33.74.01", "alamat": "Aula Kelurahan"}}
    kegiatan = api.post("/kegiatan", json=body).json()
    received = mailbox.wait_for("Kegiatan BKPM dijadwalkan", 3)
    assert sorted(rcpt for rcpts, _ in received for rcpt in rcpts) == ["ani@contoh.id", "kapolres@contoh.go.id",
                                                                      "sari@contoh.go.id"]
    for _, message in received:
        assert message["Subject"] == "Kegiatan BKPM dijadwalkan: Penyuluhan Bahaya Narkoba"
        text = body_of(message)
        assert "Rabu, 2 Desember 2026 pukul 09.00 WIB" in text and "Aula Kelurahan" in text
    [to_ani] = [m for rcpts, m in received if rcpts == ["ani@contoh.id"]]
    assert "Yth. Ibu Ani," in body_of(to_ani)
    html = to_ani.get_body(preferencelist=("html",)).get_content()
    assert "<p>Yth. Ibu Ani,</p>" in html and "Aula Kelurahan" in html

    # The same event once more, as a redelivery would bring it: nobody is written to twice.
    [scheduled] = events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan["id"])
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    connection.channel().basic_publish("kegiatan.events", "kegiatan.dijadwalkan", json.dumps(scheduled),
                                       pika.BasicProperties(content_type="application/cloudevents+json"))
    connection.close()
    time.sleep(2)
    assert len(mailbox.about("Kegiatan BKPM dijadwalkan")) == 3

    log = api.get("/notifikasi", params={"event_id": scheduled["id"]}).json()
    # Three emails, and the message in the inbox of the sekretaris, who has an account; Pak Budi
    # has only a phone and activity notices go by email: logged as not reached, not forgotten.
    assert sorted((d["kanal"], d["status"]) for d in log["items"]) == [
        ("email", "terkirim"), ("email", "terkirim"), ("email", "terkirim"), ("inbox", "terkirim"),
        ("whatsapp", "dilewati")]
    assert [d["nama"] for d in log["items"] if d["status"] == "dilewati"] == ["Pak Budi"]
    assert all("***" in d["tujuan"] for d in log["items"])

    api.post(f"/kegiatan/{kegiatan['id']}/batal", json={"alasan": "Gedung dipakai pemilu"})
    cancelled = mailbox.wait_for("Kegiatan BKPM dibatalkan", 3)
    assert {m["Subject"] for _, m in cancelled} == {"Kegiatan BKPM dibatalkan: Penyuluhan Bahaya Narkoba"}
    # The ketua has no phone: the appointment reached them by email, the last of the chain.
    assert ["kapolres@contoh.go.id"] in [rcpts for rcpts, _ in mailbox.about("Pengangkatan pengurus BKPM")]
    assert all("Gedung dipakai pemilu" in body_of(m) for _, m in cancelled)


def test_the_delivery_log_is_for_those_who_run_the_platform(api, semarang):
    assert_problem(api.get("/notifikasi", role="pemantau", wilayah="33.74"), 403)


def test_an_aspiration_tells_the_reporter_and_the_sekretaris_and_a_late_one_escalates(api, semarang, mailbox, env):
    receipt = api.post("/aspirasi", role=None, json={
        "kode_wilayah": "33.74.01", "kategori": "keluhan", "isi": "Parkir liar di depan sekolah.", "rahasia": True,
        "pelapor": {"nama": "Bu Wati", "email": "wati@contoh.id"}}).json()
    ticket = receipt["nomor_tiket"]
    [(rcpts, to_reporter)] = mailbox.wait_for(f"Aspirasi Anda diterima BKPM: tiket {ticket}", 1)
    assert rcpts == ["wati@contoh.id"] and "Yth. Bapak/Ibu Pelapor," in body_of(to_reporter)
    [(rcpts, summary)] = mailbox.wait_for(f"Aspirasi baru {ticket}", 1)
    assert rcpts == ["sari@contoh.go.id"]
    assert "dirahasiakan" in body_of(summary) and "Wati" not in body_of(summary) and "Parkir" not in body_of(summary)
    # The reporter may stop these emails with a click; the sekretaris, told of a duty, may not.
    assert to_reporter["List-Unsubscribe"] and summary["List-Unsubscribe"] is None

    listed = api.get("/aspirasi", params={"kode_prefix": "33.74", "per_page": 200}).json()["items"]
    [aspirasi_id] = [a["id"] for a in listed if a["nomor_tiket"] == ticket]
    moved = api.post(f"/aspirasi/{aspirasi_id}/tindak-lanjut", role="petugas", wilayah="33.74",
                     json={"status": "diverifikasi", "catatan": "Sudah kami teruskan ke Dishub.", "publik": True})
    assert moved.status_code == 200, moved.text
    [(rcpts, update)] = mailbox.wait_for(f"Tiket {ticket}: diverifikasi", 1)
    assert rcpts == ["wati@contoh.id"] and "Sudah kami teruskan ke Dishub." in body_of(update)

    client = connect(env["MONGO_URI"])
    try:  # the answer's deadline passes: the deadline is moved, not the clock
        client[f"{env['BKPM_DB_PREFIX']}_kegiatan"].aspirasi.update_one(
            {"_id": aspirasi_id}, {"$set": {"batas_jawaban": datetime.now(timezone.utc) - timedelta(hours=1)}})
    finally:
        client.close()
    late = mailbox.wait_for(f"Aspirasi {ticket} melewati batas jawaban", 2)
    assert sorted(rcpts[0] for rcpts, _ in late) == ["joko@contoh.go.id", "sari@contoh.go.id"]


def test_the_board_hears_when_a_programs_quota_runs_out(api, semarang, mailbox):
    program = api.post("/bantuan/program", json={
        "nama": "Beras Semarang", "jenis": "sembako", "unit_id": semarang["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 1, "wilayah_sasaran": ["33.74"]}).json()
    api.post(f"/bantuan/program/{program['id']}/aktifkan")
    registered = api.post("/bantuan/penerima", json=recipient(33300, village="33.74.01.1001"))
    assert registered.status_code == 201, registered.text
    penerima = registered.json()
    given = api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima["id"],
                                                 "tanggal": "2026-03-01", "jenis_bukti": "foto", "bukti": "IMG-9"})
    assert given.status_code == 201, given.text
    told = mailbox.wait_for("Kuota program Beras Semarang habis", 2)
    # The board, not the members.
    assert sorted(rcpts[0] for rcpts, _ in told) == ["kapolres@contoh.go.id", "sari@contoh.go.id"]


def test_the_inbox_is_ones_own_and_remembers_what_was_read(api, semarang, mailbox):
    mailbox.wait_for("Kegiatan BKPM dijadwalkan", 3)
    mine = api.get("/notifikasi/inbox", role="pemantau", wilayah="33.74", sub="sari-semarang").json()
    assert mine["total"] >= 1
    message = next(m for m in mine["items"] if m["event_type"] == "kegiatan.dijadwalkan")
    assert message["judul"].startswith("Kegiatan BKPM dijadwalkan") and message["dibaca"] is None

    assert_problem(api.post(f"/notifikasi/inbox/{message['id']}/dibaca", role="pemantau", sub="orang-lain"), 404)
    assert api.get("/notifikasi/inbox", role="pemantau", sub="orang-lain").json()["total"] == 0

    read = api.post(f"/notifikasi/inbox/{message['id']}/dibaca", role="pemantau", sub="sari-semarang")
    assert read.status_code == 200 and read.json()["dibaca"] is not None
    unread = api.get("/notifikasi/inbox", params={"dibaca": "false"}, role="pemantau", sub="sari-semarang").json()
    assert message["id"] not in [m["id"] for m in unread["items"]]
    again = api.post(f"/notifikasi/inbox/{message['id']}/dibaca", role="pemantau", sub="sari-semarang").json()
    assert again["dibaca"] == read.json()["dibaca"]  # the first reading's time stays


def test_the_link_in_an_email_stops_that_persons_emails_without_an_account(api, semarang, mailbox, events, env):
    def schedule(judul):
        response = api.post("/kegiatan", json={
            "unit_id": semarang["id"], "jenis": "penyuluhan", "topik": "pencegahan_kejahatan", "judul": judul,
            "mulai": "2026-12-09T09:00:00+07:00", "selesai": "2026-12-09T11:00:00+07:00",
            "lokasi": {"kode_wilayah": "33.74.01", "alamat": "Balai RW 3"}})
        assert response.status_code == 201, response.text
        return response.json()

    schedule("Dialog Kamtibmas Pertama")
    [to_ani] = [m for rcpts, m in mailbox.wait_for("Kegiatan BKPM dijadwalkan: Dialog Kamtibmas Pertama", 3)
                if rcpts == ["ani@contoh.id"]]
    link = to_ani["List-Unsubscribe"].strip("<>")
    assert to_ani["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.startswith(f"{env['PUBLIC_URL']}/api/v1/notifikasi/berhenti/")
    assert link in body_of(to_ani) and link in to_ani.get_body(preferencelist=("html",)).get_content()

    # Opening it changes nothing (mail scanners open links); a browser is asked to confirm.
    assert requests.get(link, timeout=10).json() == {"kanal": "email", "berhenti": False}
    page = requests.get(link, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and '<form method="post">' in page.text
    # The mail program's one-click unsubscribe (RFC 8058), no token needed.
    stopped = requests.post(link, data="List-Unsubscribe=One-Click", timeout=10,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert stopped.status_code == 200 and stopped.json() == {"kanal": "email", "berhenti": True}
    assert requests.get(link, timeout=10).json()["berhenti"] is True

    kedua = schedule("Dialog Kamtibmas Kedua")
    received = mailbox.wait_for("Kegiatan BKPM dijadwalkan: Dialog Kamtibmas Kedua", 2)
    assert sorted(rcpt for rcpts, _ in received for rcpt in rcpts) == ["kapolres@contoh.go.id", "sari@contoh.go.id"]
    [scheduled] = events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kedua["id"])
    # The handler writes to one person after another: the log is read once it has reached all three.
    def settled():
        log = api.get("/notifikasi", params={"event_id": scheduled["id"], "kanal": "email"}).json()["items"]
        return sorted((d["nama"], d["status"]) for d in log if d["status"] != "antri")

    wait_until(lambda: len(settled()) == 3, "the email deliveries of the second activity settled")
    assert settled() == [("AKBP Sari", "terkirim"), ("Ibu Ani", "dilewati"), ("Kombes Pol. Irwan", "terkirim")]


def aspiration_from(api, events, **pelapor):
    """An aspiration sent on the public form with these reporter's particulars; its ticket and
    the id of its aspirasi.diterima event."""
    sent = api.post("/aspirasi", role=None, json={
        "kode_wilayah": "33.74.01", "kategori": "keluhan", "isi": "Jalan berlubang.\nSudah sebulan.",
        "pelapor": pelapor})
    assert sent.status_code == 201, sent.text
    ticket = sent.json()["nomor_tiket"]
    [received] = events.wait_for(lambda e: e["type"] == "aspirasi.diterima" and e["data"]["nomor_tiket"] == ticket)
    return ticket, received["id"]


def to_reporter_of(api, event_id):
    """The settled delivery to the reporter of an aspirasi.diterima event, once there is one."""
    def settled():
        log = api.get("/notifikasi", params={"event_id": event_id}).json()["items"]
        return [d for d in log if d["penerima"].startswith("pelapor:") and d["status"] != "antri"]
    wait_until(settled, f"the delivery to the reporter of {event_id}")
    [delivery] = settled()
    return delivery


def test_the_public_form_relays_no_strangers_text_and_an_opt_out_holds_for_the_address(api, semarang, mailbox,
                                                                                        events):
    phishing = "Akun Anda diblokir, verifikasi di http://bkpm-verifikasi.contoh"
    refused = api.post("/aspirasi", role=None, json={
        "kode_wilayah": "33.74.01", "kategori": "keluhan", "isi": "Tes",
        "pelapor": {"nama": f"Bu Wati\n{phishing}", "email": "korban@contoh.id"}})
    assert assert_problem(refused, 400)["errors"] == {
        "pelapor": {"nama": ["Harus satu baris, tanpa baris baru atau karakter kendali."]}}

    ticket, _ = aspiration_from(api, events, nama=phishing, email="korban@contoh.id")
    [(_, receipt)] = mailbox.wait_for(f"Aspirasi Anda diterima BKPM: tiket {ticket}", 1)
    assert body_of(receipt).startswith("Yth. Bapak/Ibu Pelapor,") and "verifikasi di" not in body_of(receipt)

    link = receipt["List-Unsubscribe"].strip("<>")
    assert requests.post(link, timeout=10).json() == {"kanal": "email", "berhenti": True}
    ticket, received = aspiration_from(api, events, nama="Bu Wati", email="Korban+lagi@Contoh.ID")
    delivery = to_reporter_of(api, received)
    assert (delivery["status"], delivery["galat_terakhir"]) == (
        "dilewati", "penerima memilih tidak menerima lewat kanal ini")
    assert mailbox.about(f"Aspirasi Anda diterima BKPM: tiket {ticket}") == []


def test_an_address_hears_of_three_new_aspirations_a_day_from_the_public_form(api, semarang, mailbox, events):
    sent = [aspiration_from(api, events, email=address)
            for address in ("batas@contoh.id", "Batas@contoh.id", "batas+2@contoh.id", "BATAS+3@contoh.id")]
    # notifikasi handles the four events side by side: which one is held back is not fixed.
    settled = {ticket: to_reporter_of(api, event_id) for ticket, event_id in sent}
    told = [ticket for ticket, delivery in settled.items() if delivery["status"] == "terkirim"]
    [held] = [delivery for delivery in settled.values() if delivery["status"] == "dilewati"]
    assert len(told) == 3 and held["galat_terakhir"].startswith(
        "alamat ini sudah mendapat pesan tentang 3 aspirasi baru dalam 24 jam")
    for ticket, _ in sent:
        expected = 1 if ticket in told else 0
        assert len(mailbox.wait_for(f"Aspirasi Anda diterima BKPM: tiket {ticket}", expected)) == expected


def test_an_unknown_opt_out_link_is_404_also_for_a_browser(api):
    unknown = f"{api.base}/api/v1/notifikasi/berhenti/tidak-pernah-diberikan"
    assert_problem(requests.post(unknown, timeout=10), 404)
    page = requests.get(unknown, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 404 and "tidak dikenal" in page.text


def test_a_forgotten_password_is_reset_with_a_one_time_link_by_email(api, mailbox):
    """akun hands the link to notifikasi once; the holder sets a new password with it and logs in."""
    username = f"lupa-{uuid.uuid4().hex[:8]}"
    address = f"{username}@contoh.go.id"
    made = api.post("/akun", json={"username": username, "nama": "Budi Lupa", "email": address, "role": "petugas",
                                   "wilayah": "33.74", "password": "kuda-lumping-di-pasar"}, wilayah="33")
    assert made.status_code == 201, made.text
    asked = api.post(f"/akun/{made.json()['id']}/reset", wilayah="33")
    assert asked.status_code == 202 and asked.json()["berlaku_sampai"], asked.text
    assert_problem(api.post(f"/akun/{made.json()['id']}/reset", role="admin", wilayah="32"), 403)
    deadline = time.monotonic() + 20
    while not [m for rcpts, m in mailbox.about("Atur ulang kata sandi") if rcpts == [address]]:
        assert time.monotonic() < deadline, "no reset email"
        time.sleep(0.1)
    [message] = [m for rcpts, m in mailbox.about("Atur ulang kata sandi") if rcpts == [address]]
    link = next(line for line in body_of(message).splitlines() if "/konsol/atur-sandi?token=" in line).strip()
    assert link.startswith(api.base) and "List-Unsubscribe" not in message
    token = link.split("token=", 1)[1]
    new_password = {"token": token, "password_baru": "sapi-perah-di-padang"}
    weak = api.post("/auth/atur-sandi", role=None, json={**new_password, "password_baru": "rahasia"})
    assert "password_baru" in assert_problem(weak, 400)["errors"]
    done = api.post("/auth/atur-sandi", role=None, json=new_password)
    assert done.status_code == 204, done.text
    login = api.post("/auth/login", role=None, json={"username": username, "password": "sapi-perah-di-padang"})
    assert login.status_code == 200 and login.json()["hanya"] is None, login.text
    again = api.post("/auth/atur-sandi", role=None, json={**new_password, "password_baru": "kerbau-di-sawah-hijau"})
    assert_problem(again, 401, "tautan_tidak_berlaku")
