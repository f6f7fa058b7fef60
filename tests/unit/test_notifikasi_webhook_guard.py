"""A webhook cannot be turned towards what sits beside the platform by a host name that resolves
to an allowed address when checked and to a blocked one when connected to (DNS rebinding): the
address the connection really reached is checked too. A real HTTP server on loopback plays the
thing beside the platform; the name's resolution is faked."""
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notifikasi.channels import send_to_webhook
from services.notifikasi.domain import PermanentFailure

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
REBINDING_HOST = "penerima.contoh.id"


@pytest.fixture
def beside_the_platform():
    """A server on loopback; yields (its port, the paths it was asked for)."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, asked
    server.shutdown()


@pytest.fixture
def rebinding_name(monkeypatch):
    """REBINDING_HOST resolves to a public address the first time, to loopback after."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    real, lookups = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != REBINDING_HOST:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real("203.0.113.7" if len(lookups) == 1 else "127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_that_resolves_into_a_blocked_network_when_connecting_gets_no_request(beside_the_platform,
                                                                                      rebinding_name):
    port, asked = beside_the_platform
    with pytest.raises(PermanentFailure, match="diblokir"):
        send_to_webhook(f"http://{REBINDING_HOST}:{port}/rahasia", "rahasia-yang-panjang", b"{}", "k", 2, LOOPBACK)
    assert len(rebinding_name) == 2  # checked on the first answer, connected on the second
    assert asked == []


def test_a_receiver_outside_the_blocked_networks_gets_the_request_through_the_same_guard(beside_the_platform,
                                                                                          rebinding_name):
    port, asked = beside_the_platform
    elsewhere = (ipaddress.ip_network("169.254.0.0/16"),)
    send_to_webhook(f"http://{REBINDING_HOST}:{port}/terima", "rahasia-yang-panjang", b"{}", "k", 2, elsewhere)
    assert asked == ["/terima"]
