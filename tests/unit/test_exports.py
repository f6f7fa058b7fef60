"""CSV and XLSX exports (gateway/exports.py): which Accept asks for them, how rows become
columns and cells, formula-looking text neutralised; and the mechanism itself on a small app of
its own whose list lives in memory (all pages, the row limit, errors before the first byte).
No broker: the real routes are exported in tests/integration/test_exports_http.py."""
import csv
import io

import openpyxl
import pytest
from flask import Flask
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import fields
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from gateway import exports, problems
from gateway.blueprint import Blueprint
from gateway.exports import CSV, XLSX, cell, columns, keys_in, requested_format
from services.common.errors import Forbidden
from services.common.schema import BaseSchema, PageQuerySchema, page_of
from services.kegiatan.schemas import KegiatanSchema, RekapSchema


@pytest.mark.parametrize("accept, wanted", [
    (None, None), ("*/*", None), ("application/json", None), ("application/json, text/csv", None),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None), ("image/png", None),
    ("text/csv;q=0", None), ("text/csv", CSV), ("text/csv, */*;q=0.1", CSV), (XLSX, XLSX),
    (f"application/json;q=0.5, {XLSX}", XLSX),
])
def test_json_stays_the_default_and_a_spreadsheet_is_asked_for_by_accept(accept, wanted):
    assert requested_format(parse_accept_header(accept, MIMEAccept)) == wanted


@pytest.mark.parametrize("value, shown", [
    ("=SUM(1+1)", "'=SUM(1+1)"), ("+62812", "'+62812"), ("-5", "'-5"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Dialog = warga", "Dialog = warga"), ("", ""),
    (-5, -5), (2.5, 2.5), (0, 0), (True, True), (None, None),
    (["31.71", "31.72"], "31.71, 31.72"), (["=1", True, None], "'=1, true, "),
    ([{"baris": 2}], '[{"baris": 2}]'), ({"nama": "=x"}, '{"nama": "=x"}'),
])
def test_a_cell_is_a_number_or_neutralised_text(value, shown):
    assert cell(value) == shown


def test_nested_objects_become_columns_in_the_schemas_order():
    headers = [column.header for column in columns(KegiatanSchema())]
    assert headers[:3] == ["unit_id", "jenis", "judul"]
    assert [header for header in headers if header.startswith("lokasi.")] == [
        "lokasi.kode_wilayah", "lokasi.alamat", "lokasi.lat", "lokasi.lon"]
    assert [header for header in headers if header.startswith("laporan.")] == [
        "laporan.jumlah_peserta", "laporan.ringkasan", "laporan.temuan"]
    assert "rute" in headers   # a list: one column


def test_a_summarys_dicts_become_a_column_per_key_of_its_rows():
    rows = [{"kegiatan": {"jumlah": 2, "per_jenis": {"dialog": 2, "patroli_bersama": 0}}},
            {"kegiatan": {"jumlah": 1, "per_jenis": {"dialog": 1, "penyuluhan": 0}}}]
    headers = [column.header for column in columns(RekapSchema().fields["rincian"].inner.schema, keys_in(rows))]
    assert headers[:2] == ["kode_wilayah", "bulan"]
    assert headers[2:6] == ["kegiatan.jumlah", "kegiatan.per_jenis.dialog", "kegiatan.per_jenis.patroli_bersama",
                            "kegiatan.per_jenis.penyuluhan"]
    # Without the rows (a list streamed page by page), a dict is one column of JSON.
    assert "kegiatan.per_jenis" in [column.header for column in columns(RekapSchema().fields["rincian"].inner.schema)]


# The mechanism, on an app of its own

class BarisSchema(BaseSchema):
    nomor = fields.Integer(required=True)
    judul = fields.String(required=True)
    selisih = fields.Float(required=True)
    aktif = fields.Boolean(required=True)


BarisPageSchema = page_of(BarisSchema)


@pytest.fixture
def app_with_rows():
    """GET /baris: a list of `state["total"]` rows (every tenth title formula-looking), pages
    as the services answer them; `state["calls"]` records the pages asked for."""
    state = {"total": 450, "calls": [], "refuse": False}
    blp = Blueprint("baris", __name__, url_prefix="/baris", public=True)

    @blp.route("")
    class Baris(MethodView):
        @blp.arguments(PageQuerySchema, location="query")
        @blp.documents(200, BarisPageSchema, 400)
        def get(self, query):
            state["calls"].append((query["page"], query["per_page"]))
            if state["refuse"]:
                raise Forbidden("Anda tidak berwenang.")
            first = (query["page"] - 1) * query["per_page"]
            numbers = range(first + 1, min(first + query["per_page"], state["total"]) + 1)
            return {"items": [{"nomor": n, "judul": "=SUM(1+1)" if n % 10 == 0 else f"Baris {n}",
                               "selisih": -n / 2, "aktif": n % 2 == 0} for n in numbers],
                    "total": state["total"], "page": query["page"], "per_page": query["per_page"]}

    app = Flask("uji-ekspor")
    app.config.update(API_TITLE="uji", API_VERSION="v1", OPENAPI_VERSION="3.0.3", OPENAPI_URL_PREFIX="/",
                      OPENAPI_JSON_PATH="openapi.json")
    api = Api(app)
    api.register_blueprint(blp)
    problems.register(app)
    return app.test_client(), state


def test_json_is_one_page_as_before(app_with_rows):
    client, state = app_with_rows
    response = client.get("/baris?per_page=5", headers={"Accept": "*/*"})
    assert response.mimetype == "application/json" and len(response.get_json()["items"]) == 5
    assert "Accept" in response.headers["Vary"]
    assert state["calls"] == [(1, 5)]


def test_a_csv_has_every_page_a_header_row_and_no_formula(app_with_rows):
    client, state = app_with_rows
    response = client.get("/baris?per_page=5&page=3", headers={"Accept": CSV})
    assert response.status_code == 200 and response.mimetype == CSV
    assert response.headers["Content-Disposition"].startswith('attachment; filename=baris-')
    assert response.headers["Content-Disposition"].endswith('.csv')
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["nomor", "judul", "selisih", "aktif"]
    assert len(rows) == 451 and [row[0] for row in rows[1:]] == [str(n) for n in range(1, 451)]
    assert rows[10] == ["10", "'=SUM(1+1)", "-5.0", "true"]
    assert state["calls"] == [(1, 200), (2, 200), (3, 200)]   # the query's page and per_page do not matter


def test_an_xlsx_keeps_numbers_as_numbers_and_text_as_text(app_with_rows):
    client, _ = app_with_rows
    response = client.get("/baris", headers={"Accept": XLSX})
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Content-Disposition"].endswith('.xlsx')
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.max_row == 451
    header, tenth = [c.value for c in sheet[1]], sheet[11]
    assert header == ["nomor", "judul", "selisih", "aktif"]
    assert [c.value for c in tenth] == [10, "'=SUM(1+1)", -5.0, True]
    assert tenth[1].data_type == "s" and tenth[2].data_type == "n"


def test_more_rows_than_allowed_is_refused_before_the_file_starts(app_with_rows, monkeypatch):
    client, state = app_with_rows
    state["total"] = exports.MAX_ROWS + 1
    response = client.get("/baris", headers={"Accept": CSV})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "ekspor_terlalu_besar" and "100.000" in body["detail"] and "Persempit" in body["detail"]
    assert body["jumlah"] == exports.MAX_ROWS + 1 and state["calls"] == [(1, 200)]


def test_a_refusal_of_the_first_page_is_still_a_problem(app_with_rows):
    client, state = app_with_rows
    state["refuse"] = True
    for media in (CSV, XLSX):
        response = client.get("/baris", headers={"Accept": media})
        assert response.status_code == 403 and response.mimetype == "application/problem+json"
        assert "Accept" in response.headers["Vary"]


def test_the_document_lists_both_media_types_for_a_list(app_with_rows):
    client, _ = app_with_rows
    document = client.get("/openapi.json").get_json()
    content = document["paths"]["/baris"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", CSV, XLSX}
    assert content[CSV]["schema"] == {"type": "string", "format": "binary"}


def test_every_exported_list_of_the_gateway_is_paged_as_the_export_pages_it(monkeypatch):
    """The export asks a list for pages of PER_PAGE rows: every list route that answers CSV
    takes `page` and `per_page` up to that; the two summaries answer CSV too."""
    from gateway.app import create_app
    from tests.keys import PUBLIC_KEYS_FILE
    monkeypatch.setenv("JWT_PUBLIC_KEYS_FILE", str(PUBLIC_KEYS_FILE))
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")
    document = create_app().test_client().get("/openapi.json").get_json()
    components = document["components"]["schemas"]
    exported = {}
    for path, operations in document["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if CSV in ok:
            assert XLSX in ok
            exported[path] = ok["application/json"]["schema"].get("$ref", "").rsplit("/", 1)[-1]
    assert {"/api/v1/rekap/kegiatan", "/api/v1/bantuan/program/{program_id}/rekap", "/api/v1/bantuan/penerima",
            "/api/v1/kegiatan", "/api/v1/publik/kegiatan"} <= set(exported)
    for path, name in exported.items():
        if {"items", "total"} <= set(components.get(name, {}).get("properties", {})):
            parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
            assert parameters["per_page"]["schema"]["maximum"] == exports.PER_PAGE, path
            assert "page" in parameters, path
    assert not any(CSV in operations.get(method, {}).get("responses", {}).get("200", {}).get("content", {})
                   for operations in document["paths"].values() for method in ("post", "put", "patch", "delete"))
