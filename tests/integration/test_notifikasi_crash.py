"""notifikasi killed (kill -9) while a message is in the provider's hands, then restarted: the
delivery log still holds the message, it is taken up again when the dead sender's hold runs out,
with the same Idempotency-Key, so the provider hands the person one message; and the same event
delivered again changes nothing."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pika
import pytest

from services.common.mongo import connect
from services.stack import free_port
from tests.support import rpc_client, start_service, token_for

NUMBER = "081311112222"


class HoldingProvider:
    """An SMS/WhatsApp provider that keeps the first request waiting (the sender dies meanwhile)
    and, as real providers do, hands a message on once per Idempotency-Key."""

    def __init__(self):
        self.requests, self.handed_on = [], {}
        self.release = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                provider.requests.append({"path": self.path, "key": key, "body": body})
                if len(provider.requests) == 1:
                    provider.release.wait(30)
                provider.handed_on.setdefault(key, body)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_requests(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} requests, expected {count}"
            time.sleep(0.05)


@pytest.fixture
def provider():
    started = HoldingProvider()
    yield started
    started.release.set()
    started.server.shutdown()


def test_killed_mid_send_and_restarted_the_person_gets_one_message(isolated, provider, logs):
    env, organisasi_db = isolated
    env = {**env, "WHATSAPP_PROVIDER_URL": f"{provider.url}/wa", "SMS_PROVIDER_URL": f"{provider.url}/sms",
           "WHATSAPP_PROVIDER_TOKEN": "token-uji-rahasia", "SMS_PROVIDER_TOKEN": "token-uji-rahasia",
           "NOTIFIKASI_POLL_SECONDS": "0.3", "NOTIFIKASI_LEASE_SECONDS": "3", "NOTIFIKASI_RETRY_BASE_SECONDS": "0.3"}
    organisasi = start_service("organisasi", env, logs)
    notifikasi = start_service("notifikasi", env, logs)
    client = connect(env["MONGO_URI"])
    log = client[f"{env['BKPM_DB_PREFIX']}_notifikasi"].pengiriman
    try:
        rpc = rpc_client(env)
        rpc.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "nasional"})
        unit = rpc.call("organisasi", "bentuk_unit", token_for(env), {"tingkat": "provinsi", "kode_wilayah": "11"})
        rpc.call("organisasi", "angkat_pengurus", token_for(env), unit["id"], {
            "jabatan": "wakil_ketua", "nama": "Teuku Rizal", "mulai": "2026-01-02", "telepon": NUMBER})

        provider.wait_for_requests(1)
        notifikasi.kill()  # the message is in the provider's hands, its outcome not yet recorded
        provider.release.set()
        [held] = list(log.find())
        assert (held["kanal"], held["status"]) == ("whatsapp", "antri")

        notifikasi = start_service("notifikasi", env, logs)
        provider.wait_for_requests(2)
        deadline = time.monotonic() + 15
        while log.find_one({"_id": held["_id"]})["status"] == "antri" and time.monotonic() < deadline:
            time.sleep(0.1)
        settled = log.find_one({"_id": held["_id"]})
        assert settled["status"] == "terkirim", settled

        # The same event once more, as a redelivery after a crash would bring it.
        event = client[f"{env['BKPM_DB_PREFIX']}_organisasi"].outbox.find_one({"event.type": "pengurus.diangkat"})
        connection = pika.BlockingConnection(pika.URLParameters(env["AMQP_URI"]))
        connection.channel().basic_publish("organisasi.events", "pengurus.diangkat", json.dumps(event["event"]),
                                           pika.BasicProperties(content_type="application/cloudevents+json"))
        connection.close()
        time.sleep(2)

        assert [r["path"] for r in provider.requests] == ["/wa", "/wa"]  # no SMS: WhatsApp took it
        assert len({r["key"] for r in provider.requests}) == 1  # the same message both times...
        assert list(provider.handed_on) == [held["_id"]]  # ...so the person got it once
        assert log.count_documents({}) == 1
    finally:
        client.close()
        notifikasi.stop()
        organisasi.stop()
