"""The web front-end's parts without a browser or a platform: what the gateway's answers become,
how a typed area is made a code, the headers every answer carries, the asset build, and how
times and figures are written."""
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.common.config import Settings
from services.kegiatan import domain as kegiatan_domain
from services.stack import free_port
from web import display
from web.app import CONTENT_SECURITY_POLICY, create_app
from web.build import DIST, Assets, build, hashed_name
from web.gateway import Gateway, Problem, TooManyRequests, Unavailable
from web.wilayah import AreaReference


class Answers(BaseHTTPRequestHandler):
    """A stand-in gateway: the path names the answer."""

    def do_GET(self):
        seen.append(dict(self.headers))
        status, body, headers = {
            "/ok": (200, {"items": []}, {}),
            "/invalid": (400, {"code": "input_tidak_valid", "detail": "Data tidak valid.",
                               "errors": {"pelapor": {"telepon": ["Nomor tidak valid."]}}}, {}),
            "/limited": (429, {"code": "terlalu_banyak_permintaan"}, {"Retry-After": "90"}),
            "/broken": (503, {"code": "layanan_tidak_tersedia"}, {}),
        }[self.path.split("?")[0]]
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


seen = []


@pytest.fixture(scope="module")
def stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_gateways_answers_become_pages_to_show(stand_in):
    gateway = Gateway(stand_in)
    assert gateway.get("/ok") == {"items": []}
    with pytest.raises(Problem) as invalid:
        gateway.get("/invalid")
    assert (invalid.value.status, invalid.value.code) == (400, "input_tidak_valid")
    assert invalid.value.errors == {"pelapor": {"telepon": ["Nomor tidak valid."]}}
    with pytest.raises(TooManyRequests) as limited:
        gateway.get("/limited")
    assert limited.value.retry_after == 90
    with pytest.raises(Unavailable):
        gateway.get("/broken")
    with pytest.raises(Unavailable):
        Gateway(f"http://127.0.0.1:{free_port()}").get("/ok")  # nobody listening


def test_the_visitors_address_goes_to_the_gateway(stand_in, tmp_path, monkeypatch):
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEB_GATEWAY_URL", stand_in)
    monkeypatch.setenv("WEB_TRUSTED_PROXIES", "127.0.0.1")
    app = create_app(Settings())
    seen.clear()
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        app.extensions["gateway"].get("/ok")
    assert seen[-1]["X-Forwarded-For"] == "203.0.113.7"
    # Behind a trusted proxy, the address it reports.
    client = app.test_client()
    client.get("/wilayah.json", headers={"X-Forwarded-For": "198.51.100.77"},
               environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen[-1]["X-Forwarded-For"] == "198.51.100.77"


class FakeGateway:
    """The area routes of a gateway whose reference knows Makassar (a city and a district)."""

    AREAS = {"73": "Sulawesi Selatan", "73.71": "Kota Makassar", "73.71.03": "Makassar", "73.72": "Kota Parepare"}

    def __init__(self):
        self.calls = []

    def get(self, path, **params):
        self.calls.append((path, params))
        if path.startswith("/api/v1/wilayah/"):
            kode = path.rsplit("/", 1)[1]
            if kode not in self.AREAS:
                raise Problem(404, {"code": "tidak_ditemukan"})
            return self.area(kode)
        if "q" in params:
            if len(params["q"]) > 30:
                raise Problem(400, {"errors": {"q": ["Panjang teks harus 3 sampai 100 huruf."]}})
            return {"items": [self.area(kode) for kode, nama in self.AREAS.items()
                              if params["q"].lower() in nama.lower()]}
        induk = params.get("induk")
        return {"items": [self.area(kode) for kode in self.AREAS
                          if kode.rpartition(".")[0] == (induk or "") and kode != induk]}

    def area(self, kode):
        parents = [{"kode": kode[:n], "nama": self.AREAS[kode[:n]]} for n in (2, 5) if n < len(kode)]
        return {"kode": kode, "nama": self.AREAS[kode], "aktif": True, "induk": parents}


def test_a_typed_area_is_a_code_one_match_or_a_choice():
    areas = AreaReference(FakeGateway())
    assert areas.resolve(" 73.71 ").kode == "73.71"
    assert areas.resolve("Parepare").kode == "73.72"
    several = areas.resolve("makassar")
    assert several.kode is None and [c["kode"] for c in several.candidates] == ["73.71", "73.71.03"]
    assert several.candidates[1]["label"] == "Makassar, Kota Makassar, Sulawesi Selatan"
    assert "tidak ada" in areas.resolve("73.99").error and "Tidak ada wilayah" in areas.resolve("Atlantis").error
    assert "3 huruf" in areas.resolve("ab").error and areas.resolve("").error


def test_area_lists_are_kept_in_memory_for_a_while():
    gateway = FakeGateway()
    areas = AreaReference(gateway, seconds=3600, entries=2)
    for _ in range(3):
        assert [area["kode"] for area in areas.children("73")] == ["73.71", "73.72"]
    assert len(gateway.calls) == 1
    areas.children(None), areas.children("73.71"), areas.children("73")  # the oldest forgotten past 2
    assert len(gateway.calls) == 4


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WEB_SECRET_KEY", raising=False)
    app = create_app(Settings())
    app.extensions["wilayah"] = AreaReference(FakeGateway())
    return app.test_client()


def test_every_answer_carries_the_security_headers_and_secure_cookies(client, tmp_path):
    page = client.get("/aspirasi")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'",
                      "object-src 'none'"):
        assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")  # cookies are HTTPS-only by default
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-bkpm=") and all(part in cookie for part in ("Secure", "HttpOnly", "SameSite=Lax"))
    assert (tmp_path / "web-session.key").stat().st_mode & 0o077 == 0  # made for the platform's owner only
    # No inline script or style in the page: everything comes from hashed files.
    html = page.get_data(as_text=True)
    assert "<style" not in html and " style=" not in html and "<script>" not in html
    asset = next(part.split('"')[0] for part in html.split('href="/static/')[1:] if part.startswith("app."))
    served = client.get(f"/static/{asset}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_form_without_its_csrf_token_is_refused(client):
    refused = client.post("/aspirasi", data={"kode_wilayah": "73.71", "kategori": "keluhan", "isi": "x"})
    assert refused.status_code == 400 and "Formulir kedaluwarsa" in refused.get_data(as_text=True)


def test_the_picker_lists_an_areas_children(client):
    assert client.get("/wilayah.json?induk=73").get_json() == [{"kode": "73.71", "nama": "Kota Makassar"},
                                                               {"kode": "73.72", "nama": "Kota Parepare"}]
    assert client.get("/wilayah.json?induk=99").status_code == 404
    missing = client.get("/tidak-ada")
    assert missing.status_code == 404 and "Halaman tidak ditemukan" in missing.get_data(as_text=True)


def test_the_build_hashes_names_and_rewrites_our_stylesheets(tmp_path):
    import web.build as module
    node_modules, sources, dist = tmp_path / "node_modules", tmp_path / "src", tmp_path / "dist"
    for path in [*module.VENDORED.values(), *(module.ICON_SOURCE.format(name) for name in module.ICON_NAMES)]:
        (node_modules / path).parent.mkdir(parents=True, exist_ok=True)
        (node_modules / path).write_bytes(f"<svg>{path}</svg>".encode())
    sources.mkdir()
    (sources / "app.css").write_text('@font-face { src: url("noto-sans-400.woff2"); }')
    manifest = build(node_modules, sources, dist)
    assert manifest["htmx.js"] == hashed_name("htmx.js", (node_modules / module.VENDORED["htmx.js"]).read_bytes())
    assert f'url("{manifest["noto-sans-400.woff2"]}")' in (dist / manifest["app.css"]).read_text()
    assets = Assets(dist)
    assert assets.file("app.css") == manifest["app.css"] and assets.icon("star").startswith("<svg>")
    with pytest.raises(RuntimeError, match="web.build"):
        Assets(tmp_path / "nothing")


def test_times_are_on_the_areas_clock_and_numbers_written_the_indonesian_way():
    moment = "2026-12-02T02:00:00+00:00"
    assert display.waktu(moment, "73.71") == "Rabu, 2 Desember 2026 pukul 10.00 WITA"
    assert display.waktu(moment, "91.71") == "Rabu, 2 Desember 2026 pukul 11.00 WIT"
    assert display.waktu(moment) == "Rabu, 2 Desember 2026 pukul 09.00 WIB"
    assert display.jam("2026-12-02T16:30:00+00:00", "33") == "23.30 WIB"
    assert display.tanggal("2026-12-02") == "2 Desember 2026"
    assert display.angka(12345.678, 2) == "12.345,68" and display.angka(None) == "\u2013"


def test_every_value_of_the_api_has_its_words():
    assert set(display.JENIS_KEGIATAN) == set(kegiatan_domain.JENIS)
    assert set(display.STATUS_KEGIATAN) == set(kegiatan_domain.STATUS_KEGIATAN)
    assert set(display.KATEGORI_ASPIRASI) == set(kegiatan_domain.KATEGORI_ASPIRASI)
    assert set(display.STATUS_ASPIRASI) == set(kegiatan_domain.STATUS_ASPIRASI)


def test_a_text_asset_goes_gzipped_to_a_browser_that_takes_it_and_plain_to_one_that_does_not(client):
    assets = Assets()
    name, font = assets.file("htmx.js"), assets.file("noto-sans-400.woff2")
    # The build wrote a gzip copy of each text asset; fonts are compressed already.
    assert (DIST / f"{name}.gz").exists() and not (DIST / f"{font}.gz").exists()
    plain = client.get(f"/static/{name}", headers={"Accept-Encoding": "identity"})
    gzipped = client.get(f"/static/{name}", headers={"Accept-Encoding": "br, gzip;q=0.8"})
    assert plain.status_code == gzipped.status_code == 200
    assert "Content-Encoding" not in plain.headers and gzipped.headers["Content-Encoding"] == "gzip"
    assert plain.headers["Content-Type"] == gzipped.headers["Content-Type"] == "text/javascript; charset=utf-8"
    for response in (plain, gzipped):
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(gzipped.data) < len(plain.data) / 2
    assert gzip.decompress(gzipped.data) == plain.data
    assert "Content-Encoding" not in client.get(f"/static/{name}").headers  # nothing asked, nothing encoded
    woff2 = client.get(f"/static/{font}", headers={"Accept-Encoding": "gzip"})
    assert woff2.status_code == 200 and "Content-Encoding" not in woff2.headers
