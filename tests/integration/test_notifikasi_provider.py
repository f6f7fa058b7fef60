"""notifikasi through an SMS/WhatsApp provider (a local HTTP server speaking the generic JSON
webhook): a 500 is tried again and the message arrives once; a permanent refusal of WhatsApp
falls back to SMS."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from tests.nik import recipient
from tests.support import assert_problem, form_units, wait_until


class Provider:
    """Answers 500 once to numbers ending in 0500, 400 to WhatsApp for numbers ending in 0400,
    200 otherwise; records every request."""

    def __init__(self, port):
        self.requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen = [r for r in provider.requests if r["path"] == self.path and r["body"]["ke"] == body["ke"]]
                provider.requests.append({"path": self.path, "body": body, "key": self.headers["Idempotency-Key"],
                                          "auth": self.headers["Authorization"]})
                status = 200
                if body["ke"].endswith("0500") and not seen:
                    status = 500
                elif body["ke"].endswith("0400") and self.path == "/wa":
                    status = 400
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, number):
        return [r for r in self.requests if r["body"]["ke"] == number]

    def wait_for(self, number, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.to(number)) < count:
            assert time.monotonic() < deadline, f"{len(self.to(number))} requests for {number}, expected {count}"
            time.sleep(0.1)
        return self.to(number)


@pytest.fixture(scope="module")
def provider(env):
    started = Provider(urlparse(env["SMS_PROVIDER_URL"]).port)
    yield started
    started.server.shutdown()
    started.server.server_close()  # the port is free for the next module that stands a provider up


@pytest.fixture(scope="module")
def unit(api, national_unit):
    return form_units(api, "34", "34.71")["34.71"]


def appoint(api, unit, jabatan, nama, telepon, **fields):
    response = api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": jabatan, "nama": nama, "mulai": "2026-01-02", "telepon": telepon, **fields,
        **({"nrp": "80010203", "pangkat": "AKBP", "jabatan_polri": "Kasat Binmas"} if jabatan == "sekretaris" else {})})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_provider_500_is_tried_again_and_the_message_arrives_once(api, unit, provider):
    appoint(api, unit, "wakil_ketua", "Bapak Sutrisno", "081234560500")
    requests_ = provider.wait_for("+6281234560500", 2)  # in E.164, as providers take numbers
    time.sleep(1.5)
    assert len(provider.to("+6281234560500")) == 2  # the 500, then the one that arrived; no more
    assert [r["path"] for r in requests_] == ["/wa", "/wa"]
    assert requests_[0]["key"] == requests_[1]["key"]  # the provider can tell it is the same message
    template = requests_[1]["body"]["templat"]
    assert template["nama"] == "bkpm_pengangkatan_pengurus"
    assert template["parameter"] == ["Bapak Sutrisno", "wakil ketua", "2 Januari 2026"]
    assert requests_[1]["auth"] == "Bearer token-uji-rahasia"


def test_whatsapp_refused_for_good_falls_back_to_sms(api, unit, provider):
    appoint(api, unit, "sekretaris", "AKBP Dewi", "081234560400")
    requests_ = provider.wait_for("+6281234560400", 2)
    time.sleep(1)
    assert [r["path"] for r in provider.to("+6281234560400")] == ["/wa", "/sms"]
    assert "AKBP Dewi" in requests_[1]["body"]["pesan"]
    log = api.get("/notifikasi", params={"kanal": "whatsapp", "status": "gagal"}).json()
    assert any(entry["nama"] == "AKBP Dewi" for entry in log["items"])


def test_a_recipient_gets_a_receipt_for_the_aid_once(api, unit, provider):
    program = api.post("/bantuan/program", json={
        "nama": "Sembako Yogyakarta", "jenis": "sembako", "unit_id": unit["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 5, "wilayah_sasaran": ["34.71"]}).json()
    api.post(f"/bantuan/program/{program['id']}/aktifkan")
    penerima = api.post("/bantuan/penerima", json=recipient(7000, village="34.71.01.1001", telepon="081299990400"))
    assert penerima.status_code == 201, penerima.text
    given = api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": penerima.json()["id"],
                                                 "tanggal": "2026-03-01", "jenis_bukti": "foto", "bukti": "IMG-1"})
    assert given.status_code == 201, given.text
    requests_ = provider.wait_for("+6281299990400", 2)  # WhatsApp refuses this number for good: SMS
    time.sleep(1)
    assert [r["path"] for r in provider.to("+6281299990400")] == ["/wa", "/sms"]
    assert given.json()["id"][:8] in requests_[1]["body"]["pesan"]
    sent = json.dumps([r["body"] for r in requests_])
    assert recipient(7000)["nik"] not in sent and recipient(7000)["no_kk"] not in sent


def test_an_opted_out_person_gets_nothing_and_the_log_says_so(api, unit, provider):
    chosen = api.put("/notifikasi/preferensi", role="pemantau", sub="pak-hadi", json={"kanal": {"semua": False}})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["kanal"] == {"semua": False} and chosen.json()["penerima"] == "akun:pak-hadi"
    assert_problem(api.put("/notifikasi/preferensi", role="pemantau", json={"kanal": {"merpati": False}}), 400)
    assert_problem(api.put("/notifikasi/preferensi", role="admin",
                           json={"penerima": "akun:pak-hadi", "kanal": {"semua": True}}), 403)
    assert_problem(api.put("/notifikasi/preferensi", role="admin", wilayah="34.71",
                           json={"penerima": "pelapor:123", "kanal": {"semua": False}}), 403)
    assert api.put("/notifikasi/preferensi", role="admin",
                   json={"penerima": "pelapor:123", "kanal": {"sms": False}}).json()["kanal"] == {"sms": False}

    pengurus = appoint(api, unit, "ketua", "Kombes Hadi", "081234560777", akun="pak-hadi",
                       nrp="70010203", pangkat="Kombes Pol", jabatan_polri="Kapolresta Yogyakarta")
    deadline = time.monotonic() + 20
    while True:
        log = api.get("/notifikasi", params={"status": "dilewati", "per_page": 200}).json()["items"]
        skipped = sorted(d["kanal"] for d in log if d["penerima"] == "akun:pak-hadi")
        if len(skipped) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # Every channel of the chain, and the inbox, skipped and logged; not one message out.
    assert skipped == ["inbox", "sms", "whatsapp"], skipped
    assert provider.to("+6281234560777") == []
    assert api.get("/notifikasi/inbox", role="pemantau", sub="pak-hadi").json()["total"] == 0
    assert pengurus["akun"] == "pak-hadi"


def test_a_reporter_is_greeted_by_salutation_and_a_number_that_replied_stop_hears_nothing_more(api, unit, provider):
    number = "081234561111"
    sent = api.post("/aspirasi", role=None, json={
        "kode_wilayah": "34.71.01", "kategori": "aspirasi", "isi": "Mohon patroli malam ditambah.",
        "pelapor": {"nama": "Selamat! Anda menang undian, hubungi 0899", "telepon": number}})
    assert sent.status_code == 201, sent.text
    [receipt] = provider.wait_for(f"+62{number[1:]}", 1)
    template = receipt["body"]["templat"]
    assert template["nama"] == "bkpm_aspirasi_diterima"
    assert template["parameter"][:2] == ["Bapak/Ibu Pelapor", sent.json()["nomor_tiket"]]
    assert "undian" not in json.dumps(receipt["body"])

    # The number replied STOP: a national admin records it for the number, whatever record it is in.
    assert_problem(api.put("/notifikasi/preferensi", role="admin",
                           json={"telepon": number, "penerima": "pelapor:123", "kanal": {"semua": False}}), 400)
    stopped = api.put("/notifikasi/preferensi", role="admin", json={"telepon": number, "kanal": {"semua": False}})
    assert stopped.status_code == 200 and stopped.json()["penerima"].startswith("alamat:"), stopped.text
    assert number not in stopped.text
    appoint(api, form_units(api, "34.02")["34.02"], "wakil_ketua", "Pak Slamet", f"+62{number[1:]}")

    def skipped():
        log = api.get("/notifikasi", params={"status": "dilewati", "per_page": 200}).json()["items"]
        return sorted(d["kanal"] for d in log if d["nama"] == "Pak Slamet")
    wait_until(lambda: skipped() == ["sms", "whatsapp"], "the appointment's deliveries skipped")
    assert len(provider.to(f"+62{number[1:]}")) == 1  # the receipt only
