"""Webhooks for other systems: an operator registers a URL, a secret and an event filter; the
receiver here checks every delivery's HMAC-SHA256 signature and timestamp the way the docs tell
a receiving system to, and gets exactly the events of its area it asked for."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.stack import free_port
from tests.support import assert_problem, events_fixture, form_units

SECRET = "rahasia-bersama-denpasar-2026"
TOLERANCE_SECONDS = 300

events = events_fixture("kegiatan.events")


def verified(secret, header, body):
    """What a receiving system does (docs/notifikasi-providers.md): recompute the signature over
    `<t>.<body>`, compare in constant time, refuse old timestamps."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(parts["t"])) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected, parts["v1"])


class Receiver:
    def __init__(self):
        self.deliveries = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append({"event": json.loads(body), "key": self.headers["Idempotency-Key"],
                                            "content_type": self.headers["Content-Type"],
                                            "valid": verified(SECRET, self.headers["BKPM-Signature"], body),
                                            "forged": verified("bukan-rahasianya-sama-sekali",
                                                               self.headers["BKPM-Signature"], body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/bkpm"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def about(self, kegiatan_id):
        return [d for d in self.deliveries if d["event"]["data"].get("id") == kegiatan_id]

    def wait_for(self, kegiatan_id, timeout=20):
        deadline = time.monotonic() + timeout
        while not self.about(kegiatan_id):
            assert time.monotonic() < deadline, f"no delivery about {kegiatan_id}"
            time.sleep(0.1)
        return self.about(kegiatan_id)


@pytest.fixture(scope="module")
def receiver():
    started = Receiver()
    yield started
    started.server.shutdown()


@pytest.fixture(scope="module")
def units(api, national_unit):
    return form_units(api, "51", "51.71", "51.03")


def schedule(api, unit, kode, judul):
    response = api.post("/kegiatan", json={
        "unit_id": unit["id"], "jenis": "penyuluhan", "topik": "narkoba", "judul": judul,
        "mulai": "2026-12-05T19:00:00+08:00", "selesai": "2026-12-05T22:00:00+08:00",
        "lokasi": {"kode_wilayah": kode, "alamat": "Balai Banjar"}})
    assert response.status_code == 201, response.text
    return response.json()


def test_registering_a_webhook_takes_an_admin_and_valid_settings(api, units, receiver):
    valid = {"url": receiver.url, "rahasia": SECRET, "jenis": ["kegiatan.*"]}
    problem = assert_problem(api.post("/notifikasi/webhook", json={
        "url": "ftp://contoh", "rahasia": "pendek", "jenis": ["Kegiatan"]}), 400)
    assert set(problem["errors"]) == {"url", "rahasia", "jenis"}
    assert_problem(api.post("/notifikasi/webhook", json={**valid, "url": "https://user:pw@contoh.go.id/x"}), 400)
    assert_problem(api.post("/notifikasi/webhook", role="pengurus", wilayah="51.71", json=valid), 403)
    assert_problem(api.post("/notifikasi/webhook", role="admin", wilayah="51.71", json={**valid, "wilayah": "51"}),
                   403)


def test_a_webhook_receives_signed_events_of_its_area_only_until_deleted(api, units, receiver, events, public_feed):
    created = api.post("/notifikasi/webhook", role="admin", wilayah="51.71",
                       json={"url": receiver.url, "rahasia": SECRET, "jenis": ["kegiatan.*", "aspirasi.diterima"]})
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["wilayah"] == "51.71" and "rahasia" not in webhook
    listed = api.get("/notifikasi/webhook", role="admin", wilayah="51.71").json()
    assert [w["id"] for w in listed] == [webhook["id"]] and "rahasia" not in listed[0]
    assert webhook["id"] not in [w["id"] for w in api.get("/notifikasi/webhook", role="admin", wilayah="51.03").json()]

    elsewhere = schedule(api, units["51.03"], "51.03.01", "Penyuluhan Kuta")
    here = schedule(api, units["51.71"], "51.71.01", "Penyuluhan Sanur")
    [delivery] = receiver.wait_for(here["id"])
    assert delivery["valid"] and not delivery["forged"]
    assert delivery["content_type"] == "application/cloudevents+json"  # CloudEvents' structured mode
    [published] = public_feed.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == here["id"])
    assert delivery["event"] == published  # the public CloudEvent, as the public feed carries it
    assert delivery["key"] == f"{published['id']}:webhook:{webhook['id']}:webhook"
    time.sleep(1)
    assert receiver.about(elsewhere["id"]) == []
    assert {d["event"]["type"] for d in receiver.deliveries} == {"kegiatan.dijadwalkan"}  # unit.dibentuk: not asked

    assert api.delete(f"/notifikasi/webhook/{webhook['id']}", role="admin", wilayah="51.03").status_code == 403
    assert api.delete(f"/notifikasi/webhook/{webhook['id']}", role="admin", wilayah="51.71").status_code == 204
    assert_problem(api.delete(f"/notifikasi/webhook/{webhook['id']}"), 404)
    after = schedule(api, units["51.71"], "51.71.02", "Penyuluhan Renon")
    events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == after["id"])
    time.sleep(1)
    assert receiver.about(after["id"]) == []


def test_a_blocked_address_is_refused_at_once_and_a_dead_receiver_fails_after_its_tries(api, units, events):
    refused = assert_problem(api.post("/notifikasi/webhook", role="admin", wilayah="51.03", json={
        "url": "http://169.254.169.254/latest/meta-data", "rahasia": SECRET}), 400)
    assert refused["errors"] == {"url": ["Alamat webhook berada di jaringan yang diblokir."]}
    # TEST-NET-1 is never routed: every try times out, then the delivery fails for good.
    created = api.post("/notifikasi/webhook", role="admin", wilayah="51.03", json={
        "url": "http://192.0.2.1/bkpm", "rahasia": SECRET, "jenis": ["kegiatan.dijadwalkan"]})
    assert created.status_code == 201, created.text
    kegiatan = schedule(api, units["51.03"], "51.03.02", "Penyuluhan Canggu")
    [published] = events.wait_for(lambda e: e["type"] == "kegiatan.dijadwalkan" and e["data"]["id"] == kegiatan["id"])
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        log = api.get("/notifikasi", role="admin", wilayah="51.03", params={"event_id": published["id"]}).json()
        if log["items"] and log["items"][0]["status"] != "antri":
            break
        time.sleep(0.3)
    [delivery] = log["items"]
    assert (delivery["kanal"], delivery["status"], delivery["percobaan"]) == ("webhook", "gagal", 4)
    assert "tidak dapat dihubungi" in delivery["galat_terakhir"] and "4 kali dicoba" in delivery["galat_terakhir"]
    # Only those over the area see it.
    assert api.get("/notifikasi", role="pengurus", wilayah="51.71", params={"event_id": published["id"]}).json()[
        "total"] == 0
    assert api.get("/notifikasi", role="pengurus", wilayah="51", params={"event_id": published["id"]}).json()[
        "total"] == 1
    api.delete(f"/notifikasi/webhook/{created.json()['id']}", role="admin", wilayah="51.03")
