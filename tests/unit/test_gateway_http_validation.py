"""The gateway in-process (Flask test client): authentication, body validation, problem+json,
the OpenAPI document. The broker address is unreachable, so only the 503 test gets as far as
an RPC call, and it is expected to fail."""
import json
import re
import time
import uuid

import pytest

from gateway.app import create_app
from gateway.blueprint import client_network
from tests.keys import KEY, PREVIOUS_KEY, PUBLIC_KEYS_FILE, ROTATING_KEYS_FILE, STRANGER_KEY, token

UNITS = "/api/v1/units"
PENGURUS = "/api/v1/units/u1/pengurus"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "instance"}


def gateway(monkeypatch, **settings):
    for name, value in {"JWT_PUBLIC_KEYS_FILE": str(PUBLIC_KEYS_FILE), "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                        "RPC_TIMEOUT": "1", **settings}.items():
        monkeypatch.setenv(name, value)
    return create_app().test_client()


@pytest.fixture
def client(monkeypatch):
    return gateway(monkeypatch)


def bearer(role="admin", wilayah=None, **kwargs):
    return {"Authorization": f"Bearer {token(role=role, wilayah=wilayah, **kwargs)}"}


def assert_problem(response, status, code):
    """The response is problem+json with `status` and `code`; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert PROBLEM_FIELDS <= set(body)
    assert (body["status"], body["code"], body["type"]) == (status, code, "about:blank")
    assert body["title"] and body["detail"]
    return body


def invalid_input(response):
    """The response is a 400 for invalid input; returns its field errors."""
    return assert_problem(response, 400, "input_tidak_valid")["errors"]


# Authentication

def test_no_token_is_401(client):
    body = assert_problem(client.post(UNITS, json={"tingkat": "nasional"}), 401, "tidak_terautentikasi")
    assert body["instance"] == UNITS
    assert "Authorization" in body["detail"]


def test_authentication_comes_before_the_body(client):
    response = client.post(UNITS, data="{rusak", content_type="application/json")
    assert_problem(response, 401, "tidak_terautentikasi")


def hs256(secret="unit-test-secret-0123456789abcdef0123456789"):
    import jwt
    claims = {"iss": "bkpm", "aud": "bkpm-api", "sub": "penguji", "roles": ["admin"], "iat": int(time.time()),
              "exp": int(time.time()) + 600, "jti": "x"}
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def unsigned():
    import jwt
    claims = {"iss": "bkpm", "aud": "bkpm-api", "sub": "penguji", "roles": ["admin"], "iat": int(time.time()),
              "exp": int(time.time()) + 600, "jti": "x"}
    return {"Authorization": f"Bearer {jwt.encode(claims, None, algorithm='none')}"}


@pytest.mark.parametrize("headers", [
    bearer(expired=True),
    bearer(role="tamu"),                                     # no known role
    bearer(key=STRANGER_KEY),                                # a key the platform does not know
    bearer(wilayah="3171"),                                  # not an area code
    hs256(),                                                 # a shared secret instead of the key
    unsigned(),                                              # alg: none
    {"Authorization": "Bearer bukan.sebuah.token"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
], ids=["expired", "unknown-role", "unknown-key", "bad-wilayah", "hs256", "alg-none", "garbage", "basic"])
def test_bad_tokens_are_401(client, headers):
    assert_problem(client.get(UNITS, headers=headers), 401, "tidak_terautentikasi")


def test_a_token_for_another_audience_or_from_another_issuer_is_401(monkeypatch):
    for name, value in (("JWT_AUDIENCE", "sistem-lain"), ("JWT_ISSUER", "penerbit-lain")):
        other = gateway(monkeypatch, **{name: value})
        body = assert_problem(other.get(UNITS, headers=bearer()), 401, "tidak_terautentikasi")
        assert "tidak diterbitkan untuk platform ini" in body["detail"]
        monkeypatch.delenv(name)


def test_during_a_change_of_key_tokens_signed_with_either_get_past_authentication(monkeypatch):
    rotating = gateway(monkeypatch, JWT_PUBLIC_KEYS_FILE=str(ROTATING_KEYS_FILE))
    for key_headers in (bearer(), bearer(key=PREVIOUS_KEY)):  # both reach the (unreachable) services
        assert_problem(rotating.get(UNITS, headers=key_headers), 503, "layanan_tidak_tersedia")
    assert_problem(rotating.get(UNITS, headers=bearer(key=STRANGER_KEY)), 401, "tidak_terautentikasi")
    expired = assert_problem(rotating.get(UNITS, headers=bearer(key=PREVIOUS_KEY, expired=True)),
                             401, "tidak_terautentikasi")
    assert "kedaluwarsa" in expired["detail"]


def test_the_public_keys_are_served_as_a_jwks(monkeypatch):
    document = gateway(monkeypatch, JWT_PUBLIC_KEYS_FILE=str(ROTATING_KEYS_FILE)).get("/.well-known/jwks.json")
    assert document.status_code == 200
    keys = document.get_json()["keys"]
    assert {key["kid"] for key in keys} == {KEY.kid, PREVIOUS_KEY.kid}
    assert all(key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key for key in keys)


def test_expired_token_says_so(client):
    body = assert_problem(client.get(UNITS, headers=bearer(expired=True)), 401, "tidak_terautentikasi")
    assert "kedaluwarsa" in body["detail"]


def test_unknown_role_names_the_known_ones(client):
    body = assert_problem(client.get(UNITS, headers=bearer(role="tamu")), 401, "tidak_terautentikasi")
    assert "admin" in body["detail"] and "pemantau" in body["detail"]


def test_401_announces_the_bearer_scheme(client):
    assert client.get(UNITS).headers.get("WWW-Authenticate", "").startswith("Bearer")


# Body validation (never reaches the service)

def test_malformed_json_is_400(client):
    response = client.post(UNITS, data='{"tingkat": ', content_type="application/json", headers=bearer())
    assert invalid_input(response) == {"_body": ["Isi permintaan bukan JSON yang valid."]}


@pytest.mark.parametrize("body", ["[1, 2]", "null", '"teks"'])
def test_json_that_is_not_an_object_is_400(client, body):
    response = client.post(UNITS, data=body, content_type="application/json", headers=bearer())
    assert invalid_input(response) == {"_schema": ["Data harus berupa objek JSON."]}


@pytest.mark.parametrize("body", [{}, None], ids=["empty-object", "no-body"])
def test_missing_required_field_is_400_in_bahasa_indonesia(client, body):
    assert invalid_input(client.post(UNITS, json=body, headers=bearer())) == {"tingkat": ["Wajib diisi."]}


def test_every_bad_field_is_reported(client):
    errors = invalid_input(client.post(PENGURUS, headers=bearer(), json={
        "jabatan": "ketua", "nrp": "123", "telepon": "12", "mulai": "2025-02-30"}))
    assert errors == {
        "nama": ["Wajib diisi."],
        "nrp": ["NRP harus terdiri dari 8 angka."],
        "telepon": ["Nomor telepon tidak valid. Tulis nomor Indonesia (contoh 081234567890) atau nomor luar negeri "
                    "diawali + dan kode negara (contoh +6591234567)."],
        "mulai": ["Harus berupa tanggal dengan format YYYY-MM-DD."],
    }


def test_unknown_field_is_400(client):
    errors = invalid_input(client.post(UNITS, json={"tingkat": "nasional", "kode": "31"}, headers=bearer()))
    assert errors == {"kode": ["Field tidak dikenal."]}


def test_bad_area_code_and_level_are_400(client):
    errors = invalid_input(client.post(UNITS, json={"tingkat": "desa", "kode_wilayah": "3171"}, headers=bearer()))
    assert set(errors) == {"tingkat", "kode_wilayah"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_body_that_is_not_json_is_415(client, content_type):
    response = client.post(UNITS, data="tingkat=nasional", content_type=content_type, headers=bearer())
    assert_problem(response, 415, "jenis_konten")


def test_bad_query_parameter_is_400(client):
    bounds = {"page": ["Harus lebih besar atau sama dengan 1 dan lebih kecil atau sama dengan 1000000."]}
    assert invalid_input(client.get(f"{UNITS}?page=0", headers=bearer())) == bounds
    assert invalid_input(client.get(f"{UNITS}?page=6701085876670006349004", headers=bearer())) == bounds
    assert "tingkat" in invalid_input(client.get(f"{UNITS}?tingkat=desa", headers=bearer()))


def test_unknown_query_parameter_is_400(client):
    # The parameter is refused before any RPC; without the fix this test gets a 503.
    assert invalid_input(client.get(f"{UNITS}?kode_prefx=31.71", headers=bearer())) == {
        "kode_prefx": ["Field tidak dikenal."]}


def test_unknown_path_is_404_problem(client):
    assert_problem(client.get("/api/v1/tidak-ada", headers=bearer()), 404, "tidak_ditemukan")


def test_every_route_answers_a_method_it_lacks_with_405_and_the_allow_header(client):
    """RFC 9110 requires a 405 to list in `Allow` the methods the address has."""
    routes = client.application.url_map.bind("localhost")
    paths = {re.sub(r"<[^>]+>", "1", re.sub(r"<id:[^>]+>", str(uuid.uuid4()), rule.rule))
             for rule in routes.map.iter_rules()}
    assert len(paths) > 40
    for path in paths:
        its_methods = {method for method in HTTP_METHODS if routes.test(path, method)}
        method = next(m for m in HTTP_METHODS if m not in its_methods)
        response = client.open(path, method=method, headers=bearer())
        assert_problem(response, 405, "metode_tidak_diizinkan")
        assert set(response.headers["Allow"].split(", ")) == its_methods, (path, method)


@pytest.mark.parametrize("path, methods", [("/api/v1/akun/saya", {"GET", "HEAD", "OPTIONS"}),
                                           ("/api/v1/bantuan/penerima/cari", {"POST", "OPTIONS"}),
                                           ("/api/v1/bantuan/penerima/impor", {"POST", "OPTIONS"})])
def test_a_word_beside_an_id_is_no_id_so_allow_lists_its_own_methods(client, path, methods):
    assert set(client.options(path, headers=bearer()).headers["Allow"].split(", ")) == methods


def test_an_empty_entity_tag_in_if_match_matches_nothing_rather_than_failing(client):
    response = client.patch("/api/v1/units/u1", json={"nama": "BKPM Baru"},
                            headers={**bearer(), "If-Match": '"", "a1"'})
    assert_problem(response, 503, "layanan_tidak_tersedia")  # on to the service, down here; not a 500


# Public routes and the API document

def test_health_needs_no_token(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_openapi_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert {"get", "post"} <= set(spec["paths"][UNITS])
    post_pengurus = spec["paths"]["/api/v1/units/{unit_id}/pengurus"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "503"} <= set(post_pengurus["responses"])
    assert "application/problem+json" in post_pengurus["responses"]["409"]["content"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/health"]["get"]["security"] == []


# Correlation id

@pytest.mark.parametrize("method, path, headers", [
    ("get", "/health", {}),
    ("post", UNITS, {}),                   # 401
    ("post", UNITS, bearer()),             # 400
], ids=["ok", "unauthorized", "invalid"])
def test_correlation_id_is_echoed(client, method, path, headers):
    response = getattr(client, method)(path, json={}, headers={**headers, "X-Correlation-ID": "req-42.a_b"})
    assert response.headers["X-Correlation-ID"] == "req-42.a_b"
    if response.status_code != 200:
        assert response.get_json(force=True)["correlation_id"] == "req-42.a_b"


@pytest.mark.parametrize("given", ["", "ada spasi", "x" * 65])
def test_unusable_correlation_id_is_replaced(client, given):
    response = client.get("/health", headers={"X-Correlation-ID": given})
    generated = response.headers["X-Correlation-ID"]
    assert generated and generated != given


# The service behind is unreachable

def test_valid_request_with_broker_down_is_503(client):
    response = client.post(UNITS, json={"tingkat": "nasional"},
                           headers={**bearer(), "X-Correlation-ID": "req-503"})
    body = assert_problem(response, 503, "layanan_tidak_tersedia")
    assert "organisasi" in body["detail"]
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-Correlation-ID"] == body["correlation_id"] == "req-503"


def test_rate_limits_count_an_ipv6_client_by_its_64(client):
    app = client.application
    with app.test_request_context(environ_base={"REMOTE_ADDR": "2001:db8:1:2:aaaa::1"}):
        first = client_network()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "2001:db8:1:2:bbbb::9"}):
        assert client_network() == first == "2001:db8:1:2::/64"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert client_network() == "203.0.113.7"


def test_an_opt_out_links_token_is_not_written_to_the_log(client, caplog):
    caplog.set_level("INFO", logger="gateway.app")
    client.post("/api/v1/notifikasi/berhenti/token-rahasia-0123456789")  # the services are unreachable: 503
    lines = [record.getMessage() for record in caplog.records if record.name == "gateway.app"]
    assert "POST /api/v1/notifikasi/berhenti/<token> 503" in lines
    assert not any("token-rahasia" in line for line in lines)


def test_the_openapi_document_is_valid_for_every_language_that_reads_it(client):
    """openapi-spec-validator checks the document as OpenAPI 3 says, patterns in ECMA-262: a
    Python-only `\\Z` would be read as a literal Z by a JavaScript form validator."""
    from openapi_spec_validator import validate as validate_openapi
    document = client.get("/openapi.json").get_json()
    validate_openapi(document)
    patterns = re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', json.dumps(document))
    assert patterns and not [pattern for pattern in patterns if "\\\\Z" in pattern or "\\\\A" in pattern]


@pytest.mark.parametrize("value", ["33\n", "33.74\n", "3374"])
def test_a_published_pattern_is_matched_whole_in_python_too(value):
    from services.common.schema import kode_wilayah_field
    from marshmallow import Schema, ValidationError

    class Form(Schema):
        kode = kode_wilayah_field()

    with pytest.raises(ValidationError):
        Form().load({"kode": value})
