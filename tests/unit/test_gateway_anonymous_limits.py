"""The anonymous write routes in-process (Flask test client, services faked): the ALTCHA proof of
work they accept in X-Altcha, the limits per client address with and without it, who that client
is behind trusted proxies, and the key challenges are signed with.
(tests/integration/test_anonymous_limits.py: the real gateway, its workers sharing one storage.)"""
import base64
import ipaddress
import json
import time

import altcha
import pytest

from gateway.altcha import ALGORITHM, CHALLENGE_SECONDS, ProofOfWork, hmac_key
from gateway.app import create_app
from gateway.proxies import client_address
from services.common.config import ALTCHA_KEY, Settings
from tests.keys import PUBLIC_KEYS_FILE

KEY = "kunci-altcha-untuk-uji-0123456789"
ASPIRASI = ("/api/v1/aspirasi", {"kode_wilayah": "35.78.01.1001", "kategori": "keluhan", "isi": "Lampu jalan mati."})
SURVEI = ("/api/v1/kegiatan/k1/survei", {"kode": "ABCD-1234", "kepercayaan": 4, "kepuasan": 5})
ROUTES = {"aspirasi": ASPIRASI, "survei": SURVEI}
CLIENT = {"REMOTE_ADDR": "198.51.100.20"}


class FakeRpc:
    """The kegiatan service, accepting every submission."""

    def call(self, service, method, *args, **kwargs):
        return {"diterima": True, "nomor_tiket": "ASP-2026-ABCD"}  # a ticket: what a 201's Location names


@pytest.fixture
def make_app(monkeypatch, tmp_path):
    def make(**settings):
        for name, value in {"JWT_PUBLIC_KEYS_FILE": str(PUBLIC_KEYS_FILE), "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                            "BKPM_DATA_DIR": str(tmp_path), "ALTCHA_HMAC_KEY": KEY, **settings}.items():
            monkeypatch.setenv(name, value)
        app = create_app()
        app.extensions["rpc"] = FakeRpc()
        # Solving the real challenge takes a core about a third of a second: these tests want
        # the protocol, tests/integration/test_anonymous_limits.py solves the real work.
        app.extensions["altcha"] = ProofOfWork(KEY, iterations=10, counters=range(1, 5))
        return app
    return make


@pytest.fixture
def app(make_app):
    return make_app()


def solution(client):
    """What the widget sends: the solved challenge of GET /api/v1/altcha, base64."""
    challenge = altcha.Challenge.from_dict(client.get("/api/v1/altcha").get_json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def submit(client, route, payload=None, **environ):
    path, body = ROUTES[route]
    headers = {} if payload is None else {"X-Altcha": payload}
    return client.post(path, json=body, headers=headers, environ_base={**CLIENT, **environ})


def altcha_error(response):
    assert response.status_code == 400, response.get_data(as_text=True)
    return response.get_json()["errors"]["altcha"][0]


# The challenge

def test_a_challenge_is_public_fresh_signed_and_not_cached(app):
    client = app.test_client()
    first, second = client.get("/api/v1/altcha"), client.get("/api/v1/altcha")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    challenge = first.get_json()
    assert challenge["parameters"]["algorithm"] == ALGORITHM and challenge["signature"]
    assert challenge["parameters"]["nonce"] != second.get_json()["parameters"]["nonce"]
    assert abs(challenge["parameters"]["expiresAt"] - (time.time() + CHALLENGE_SECONDS)) < 5


def test_the_real_challenge_names_its_work_and_signs_the_key_it_leads_to():
    parameters = ProofOfWork(KEY).challenge()["parameters"]
    assert parameters["cost"] == 5_000
    # Half the derived key: only the counter the challenge was made with leads to it, and the
    # key's signature lets the gateway check a solution without deriving it again.
    assert len(parameters["keyPrefix"]) == 32 and parameters["keySignature"]


def test_the_openapi_document_shows_the_challenge_and_the_header(app):
    spec = app.test_client().get("/openapi.json").get_json()
    assert spec["paths"]["/api/v1/altcha"]["get"]["security"] == []
    for path in ("/api/v1/aspirasi", "/api/v1/kegiatan/{kegiatan_id}/survei"):
        assert "X-Altcha" in [parameter["name"] for parameter in spec["paths"][path]["post"]["parameters"]]


# With and without a solution

@pytest.mark.parametrize("route,limit,strict", [("aspirasi", "ASPIRASI_RATE_LIMIT", "ASPIRASI_RATE_LIMIT_TANPA_ALTCHA"),
                                                ("survei", "SURVEI_RATE_LIMIT", "SURVEI_RATE_LIMIT_TANPA_ALTCHA")])
def test_a_solution_earns_the_usual_limit_and_none_a_strict_one(make_app, route, limit, strict):
    client = make_app(**{limit: "4 per minute", strict: "2 per hour"}).test_client()
    without = [submit(client, route).status_code for _ in range(3)]
    assert without == [201, 201, 429]
    solved = [submit(client, route, solution(client)).status_code for _ in range(5)]
    assert solved == [201, 201, 201, 201, 429]


def test_a_solution_is_spent_by_its_first_use(app):
    client = app.test_client()
    payload = solution(client)
    assert submit(client, "aspirasi", payload).status_code == 201
    assert "sudah dipakai" in altcha_error(submit(client, "survei", payload))


def encoded(document):
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("payload", ["", "bukan-base64!", encoded([]), encoded({"challenge": "x", "solution": 1}),
                                     base64.b64encode(b"\xff\xfe").decode()])
def test_an_unreadable_solution_is_400_on_the_altcha_field(app, payload):
    assert "tidak dapat dibaca" in altcha_error(submit(app.test_client(), "aspirasi", payload))


def solved(challenge):
    return altcha.Payload(challenge, altcha.solve_challenge(challenge))


def test_an_expired_forged_or_unsolved_solution_is_400_on_the_altcha_field(app):
    client = app.test_client()
    expired = altcha.create_challenge(ALGORITHM, 10, counter=1, expires_at=int(time.time()) - 1, hmac_secret=KEY,
                                      hmac_key_secret=app.extensions["altcha"].solution_key)
    assert "kedaluwarsa" in altcha_error(submit(client, "aspirasi", solved(expired).to_base64()))

    forged = altcha.create_challenge(ALGORITHM, 10, counter=1, expires_at=int(time.time()) + 60,
                                     hmac_secret="kunci-orang-lain-0123456789", hmac_key_secret="kunci-lain-0123456789")
    assert "tidak sah" in altcha_error(submit(client, "aspirasi", solved(forged).to_base64()))

    guessed = altcha.Payload.from_base64(solution(client))
    guessed.solution.derived_key = "00" * 32
    assert "tidak sah" in altcha_error(submit(client, "aspirasi", guessed.to_base64()))


# The key challenges are signed with

def test_without_altcha_hmac_key_one_is_made_in_the_data_dir_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("ALTCHA_HMAC_KEY", raising=False)
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path / "var"))
    made = hmac_key(Settings())
    key_file = tmp_path / "var" / ALTCHA_KEY
    assert len(made) == 64 and key_file.read_text() == made and key_file.stat().st_mode & 0o077 == 0
    assert hmac_key(Settings()) == made
    assert list((tmp_path / "var").iterdir()) == [key_file]


def test_a_key_that_cannot_be_made_stops_the_gateway_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("ALTCHA_HMAC_KEY", raising=False)
    (tmp_path / "var").write_text("a file where the folder should be")
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path / "var"))
    with pytest.raises(RuntimeError, match="ALTCHA_HMAC_KEY is not set and .* cannot be made"):
        hmac_key(Settings())


@pytest.mark.parametrize("key,why", [("ganti-kunci-altcha-minimal-dua-belas-karakter", "placeholder"),
                                     ("pendek", "has 6 characters")])
def test_a_placeholder_or_short_altcha_key_is_refused(monkeypatch, key, why):
    monkeypatch.setenv("ALTCHA_HMAC_KEY", key)
    with pytest.raises(RuntimeError, match=f"ALTCHA_HMAC_KEY .*{why}"):
        Settings()


def test_the_altcha_key_may_come_from_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv("ALTCHA_HMAC_KEY", raising=False)
    (tmp_path / "altcha").write_text(KEY + "\n")
    monkeypatch.setenv("ALTCHA_HMAC_KEY_FILE", str(tmp_path / "altcha"))
    assert hmac_key(Settings()) == KEY


# The shared storage

def test_while_the_shared_storage_is_down_each_worker_counts_and_spends_on_its_own(make_app):
    client = make_app(RATE_LIMIT_STORAGE_URI="valkey://127.0.0.1:1/0", ASPIRASI_RATE_LIMIT_TANPA_ALTCHA="2 per hour"
                      ).test_client()
    assert [submit(client, "aspirasi").status_code for _ in range(3)] == [201, 201, 429]
    payload = solution(client)
    assert submit(client, "aspirasi", payload).status_code == 201
    assert "sudah dipakai" in altcha_error(submit(client, "aspirasi", payload))


# Who the client is

def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy():
    trusted = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))
    assert client_address("203.0.113.5", "198.51.100.1", trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", "198.51.100.1", trusted) == "198.51.100.1"
    # What the client wrote itself, left of the address the proxy appended, counts for nothing.
    assert client_address("10.1.2.3", "192.0.2.66, 198.51.100.1", trusted) == "198.51.100.1"
    # Through two trusted proxies.
    assert client_address("127.0.0.1", "192.0.2.66, 198.51.100.1, 10.9.9.9", trusted) == "198.51.100.1"
    # Without the header, or with rubbish in it: the last trusted hop.
    assert client_address("10.1.2.3", "", trusted) == "10.1.2.3"
    assert client_address("10.1.2.3", "tidak-dikenal", trusted) == "10.1.2.3"
    assert client_address(None, "198.51.100.1", trusted) is None


def test_a_forged_x_forwarded_for_does_not_change_the_counted_client(make_app):
    client = make_app(TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8",
                      ASPIRASI_RATE_LIMIT_TANPA_ALTCHA="2 per hour").test_client()
    forged = [submit(client, "aspirasi", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
              for n in range(3)]
    assert forged == [201, 201, 429]
    proxied = [submit(client, "aspirasi", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
               for n in range(3)]
    assert proxied == [201, 201, 201]  # three clients behind the proxy, one submission each


@pytest.mark.parametrize("value", ["1", "2", "satu", "10.0.0.0/33"])
def test_trusted_proxies_is_addresses_and_a_count_is_refused_at_start(monkeypatch, value):
    monkeypatch.setenv("TRUSTED_PROXIES", value)
    with pytest.raises(RuntimeError, match=r"TRUSTED_PROXIES must be the comma-separated addresses or networks .*"
                                           r"no longer how many"):
        Settings()


def test_the_portal_data_is_limited_per_client_address(make_app):
    """The public reads (activities, index, a ticket's tracking) share one limit per address:
    a person never meets it, a harvester or a loop hammering the index's aggregation does."""
    client = make_app(PUBLIK_RATE_LIMIT="3 per minute").test_client()
    paths = ["/api/v1/publik/kegiatan?kode_wilayah=33", "/api/v1/publik/indeks?kode_wilayah=33&dari=2026-01-01"
             "&sampai=2026-01-31", "/api/v1/aspirasi/lacak/BKPM-2026-000001"]
    answers = [client.get(path, environ_base=CLIENT).status_code for path in paths * 2]
    assert answers[:3] == [200, 200, 200] and 429 in answers[3:]
    other = client.get(paths[0], environ_base={"REMOTE_ADDR": "198.51.100.21"})
    assert other.status_code == 200
