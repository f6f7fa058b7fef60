"""Events POSTed to webhooks, by notifikasi and by `bkpm subscribe --webhook`, follow CloudEvents'
HTTP binding in structured mode: the whole event is the body, and `Content-Type:
application/cloudevents+json` says so (with application/json, CloudEvents SDKs read binary mode
and fail). A real HTTP server on loopback plays the receiving system."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notifikasi.channels import send_to_webhook
from services.subscriber import forward_to

EVENT = {"specversion": "1.0", "id": "e-1", "type": "kegiatan.dijadwalkan", "source": "bkpm/kegiatan",
         "datacontenttype": "application/json", "data": {"id": "k-1", "judul": "Penyuluhan Sanur"}}


@pytest.fixture
def receiver():
    """A webhook receiver on loopback; yields (its URL, what it received)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"content_type": self.headers["Content-Type"], "event": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/bkpm", received
    server.shutdown()


def test_notifikasi_posts_an_event_as_a_structured_cloudevent(receiver):
    url, received = receiver
    send_to_webhook(url, "rahasia-bersama-denpasar-2026", json.dumps(EVENT).encode(), "e-1:webhook", timeout=5)
    assert received == [{"content_type": "application/cloudevents+json", "event": EVENT}]


def test_bkpm_subscribe_webhook_posts_an_event_as_a_structured_cloudevent(receiver):
    url, received = receiver
    forward_to(url)(EVENT)
    assert received == [{"content_type": "application/cloudevents+json", "event": EVENT}]
