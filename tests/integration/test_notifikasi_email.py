"""notifikasi writes email through a real SMTP server (aiosmtpd, in this process) to a unit's
board and members when an activity is scheduled or cancelled: rendered from the templates,
to the right people, once each, also when the event comes twice."""
import email
import json
import threading
import time

import pika
import pytest
from aiosmtpd.controller import Controller

from tests.support import assert_problem, events_fixture, form_units

events = events_fixture("kegiatan.events")


class Mailbox:
    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"

    def about(self, subject_start):
        with self._lock:
            return [(rcpts, m) for rcpts, m in self.messages if m["Subject"].startswith(subject_start)]

    def wait_for(self, subject_start, count, timeout=20):
        """The emails whose subject starts so (the appointment emails of this module's board
        go to the same box), once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.about(subject_start)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.about(subject_start))} emails about {subject_start!r}, expected {count}")


@pytest.fixture(scope="module")
def mailbox(env):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=int(env["SMTP_PORT"]))
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def semarang(api, national_unit, mailbox):
    unit = form_units(api, "33", "33.74")["33.74"]
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
    received = mailbox.wait_for("Kegiatan BKPM dijadwalkan", 2)
    assert sorted(rcpt for rcpts, _ in received for rcpt in rcpts) == ["ani@contoh.id", "kapolres@contoh.go.id"]
    for _, message in received:
        assert message["Subject"] == "Kegiatan BKPM dijadwalkan: Penyuluhan Bahaya Narkoba"
        text = message.get_payload(decode=True).decode()
        assert "Rabu, 2 Desember 2026 pukul 09.00 WIB" in text and "Aula Kelurahan" in text
    assert "Yth. Ibu Ani," in [m.get_payload(decode=True).decode() for rcpts, m in received
                              if rcpts == ["ani@contoh.id"]][0]

    # The same event once more, as a redelivery would bring it: nobody is written to twice.
    [scheduled] = events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan["id"])
    connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
    connection.channel().basic_publish("kegiatan.events", "kegiatan.dijadwalkan", json.dumps(scheduled),
                                       pika.BasicProperties(content_type="application/cloudevents+json"))
    connection.close()
    time.sleep(2)
    assert len(mailbox.about("Kegiatan BKPM dijadwalkan")) == 2

    log = api.get("/notifikasi", params={"event_id": scheduled["id"]}).json()
    assert log["total"] == 2 and {d["status"] for d in log["items"]} == {"terkirim"}
    assert all("***" in d["tujuan"] for d in log["items"])

    api.post(f"/kegiatan/{kegiatan['id']}/batal", json={"alasan": "Gedung dipakai pemilu"})
    cancelled = mailbox.wait_for("Kegiatan BKPM dibatalkan", 2)
    assert {m["Subject"] for _, m in cancelled} == {"Kegiatan BKPM dibatalkan: Penyuluhan Bahaya Narkoba"}
    # The ketua has no phone: the appointment reached them by email, the last of the chain.
    assert [rcpts for rcpts, _ in mailbox.about("Pengangkatan pengurus BKPM")] == [["kapolres@contoh.go.id"]]
    assert all("Gedung dipakai pemilu" in m.get_payload(decode=True).decode() for _, m in cancelled)


def test_the_delivery_log_is_for_those_who_run_the_platform(api, semarang):
    assert_problem(api.get("/notifikasi", role="pemantau", wilayah="33.74"), 403)
