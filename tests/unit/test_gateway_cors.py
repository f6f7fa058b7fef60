"""Browsers on other origins (CORS_ORIGINS): a listed front-end may call the API with
credentials, its preflights are answered without a token, any other origin gets no CORS
headers; and an origin the platform cannot match exactly is refused at start."""
import pytest

from services.common.config import Settings
from tests.unit.test_gateway_http_validation import bearer, gateway

PORTAL = "https://portal.bkpm.go.id"
UNITS = "/api/v1/units"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


def cors_headers(response):
    return {name for name in response.headers.keys() if name.startswith("Access-Control-")}


@pytest.fixture
def client(monkeypatch):
    return gateway(monkeypatch, CORS_ORIGINS=f"{PORTAL}, http://localhost:5173")


def test_a_listed_origins_preflight_is_answered_without_a_token(client):
    response = client.options(UNITS, headers={"Origin": PORTAL, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == PORTAL
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert set(response.headers["Access-Control-Allow-Headers"].split(", ")) == {"authorization", "content-type"}
    assert "Origin" in response.headers["Vary"]


def test_a_listed_origin_may_read_the_answer_and_its_headers(client):
    response = client.get(UNITS, headers={"Origin": "http://localhost:5173", **bearer()})
    assert response.status_code == 503  # the broker is unreachable here: an answer all the same
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    exposed = set(response.headers["Access-Control-Expose-Headers"].split(", "))
    assert {"ETag", "Location", "Retry-After", "X-Correlation-ID"} <= exposed


@pytest.mark.parametrize("origin", ["https://jahat.example", "https://portal.bkpm.go.id.jahat.example",
                                    "http://portal.bkpm.go.id", "null"])
def test_an_origin_not_listed_gets_no_cors_headers(client, origin):
    assert not cors_headers(client.options(UNITS, headers={"Origin": origin, **PREFLIGHT}))
    assert not cors_headers(client.get(UNITS, headers={"Origin": origin}))


def test_every_answer_varies_by_origin_so_a_shared_cache_keeps_them_apart(client):
    for headers in ({}, {"Origin": "https://jahat.example"}, {"Origin": PORTAL}):
        assert "Origin" in client.get("/health", headers=headers).headers["Vary"]


def test_without_cors_origins_no_origin_gets_cors_headers(monkeypatch):
    client = gateway(monkeypatch)
    assert not cors_headers(client.options(UNITS, headers={"Origin": PORTAL, **PREFLIGHT}))
    assert not cors_headers(client.get(UNITS, headers={"Origin": PORTAL}))


def test_cors_origins_are_read_as_browsers_send_them(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", " HTTPS://Portal.bkpm.go.id ,http://[::1]:8080,, ")
    assert Settings().cors_origins == ("https://portal.bkpm.go.id", "http://[::1]:8080")
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings().cors_origins == ()


@pytest.mark.parametrize("value", ["*", "https://*.bkpm.go.id", "https://portal.bkpm.go.id/", "portal.bkpm.go.id",
                                   "ftp://portal.bkpm.go.id", "https://user:sandi@portal.bkpm.go.id",
                                   "https://portal.bkpm.go.id:port", "https://portal.bkpm.go.id?x=1"])
def test_a_cors_origin_not_of_an_origins_form_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(RuntimeError, match="^CORS_ORIGINS must be the comma-separated origins"):
        Settings()


def test_an_ipv6_origin_is_matched_exactly_not_as_a_pattern(monkeypatch):
    client = gateway(monkeypatch, CORS_ORIGINS="http://[::1]:8080")
    assert client.get(UNITS, headers={"Origin": "http://[::1]:8080"}).headers["Access-Control-Allow-Origin"]
    assert not cors_headers(client.get(UNITS, headers={"Origin": "http://1:8080"}))
