"""Lists and summaries as spreadsheets: every GET route that answers a page of a list, a list,
or a summary with rows (`rincian`) also answers `Accept: text/csv` and `Accept:` XLSX with the
rows of its JSON, every page of them, masked as the JSON is for the same caller (they are that
JSON, fetched page by page through the route's own view).

One mechanism for every route, hooked into the gateway's Blueprint.documents (gateway/
blueprint.py), which sees each route's success schema. JSON stays the answer to `*/*` and to a
request without Accept. Columns follow the schema's field order and are named by its fields
(Indonesian words; a field's `label` metadata where given), a nested object's fields as
`induk.anak`. A cell a spreadsheet would read as a formula (OWASP CSV injection) starts with
a `'`."""
import csv
import functools
import io
import json
import logging
import math
import tempfile
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import Response, after_this_request, request, send_file, stream_with_context
from marshmallow import fields

from gateway.problems import ProblemSchema
from services.common.errors import DomainError
from services.common.schema import PageQuerySchema

log = logging.getLogger(__name__)

JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {CSV: "csv", XLSX: "xlsx"}
MAX_ROWS = 100_000
# Pages as large as every list's query allows (services/common/schema.py), so as few calls as can be.
PER_PAGE = next(validator.max for validator in PageQuerySchema._declared_fields["per_page"].validators)
# The field of a summary that holds its rows (services/common/rincian.py).
SUMMARY_ROWS = "rincian"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheet programs read a CSV file as UTF-8 only when it starts with the byte order mark.
BOM = "\ufeff"
CHUNK_CHARACTERS = 64 * 1024
# The dates the platform speaks in (a file's name carries the day it was made).
WIB = ZoneInfo("Asia/Jakarta")
PAGE, LIST, SUMMARY = "page", "list", "summary"
BINARY = {"type": "string", "format": "binary"}


def _number(n):
    return f"{n:_}".replace("_", ".")  # 100.000, as Indonesian writes it


DESCRIPTION = (f"OK. Dengan `Accept: {CSV}` atau `Accept: {XLSX}`: semua baris (semua halaman, paling banyak "
               f"{_number(MAX_ROWS)} baris) sebagai berkas; CSV dipisah koma, UTF-8 dengan BOM.")


class TooManyRows(DomainError):
    status = 400
    code = "ekspor_terlalu_besar"


class Column(NamedTuple):
    path: tuple   # the keys leading to the value in a row
    header: str


def requested_format(accept):
    """CSV or XLSX when the request's Accept (werkzeug's MIMEAccept) prefers one of them to
    JSON; None for JSON, which wins a tie (`*/*`, no Accept at all)."""
    best = accept.best_match((JSON, CSV, XLSX), default=JSON)
    return None if best == JSON else best


def neutralise(text):
    """`text` that no spreadsheet reads as a formula: with a leading `'` if it starts like one."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def kind_of(schema):
    """How a route answering `schema` is exported: PAGE (items and total), LIST (many), SUMMARY
    (with rows), or None (not at all)."""
    if schema is None:
        return None
    if getattr(schema, "many", False):
        return LIST
    names = set(schema.fields)
    if {"items", "total"} <= names:
        return PAGE
    return SUMMARY if SUMMARY_ROWS in names else None


def columns(schema, dict_keys=lambda path: None, prefix=()):
    """The columns of rows shaped by `schema`, in its field order: a nested object's fields
    as `induk.anak`; a dict's keys as `induk.kunci` where `dict_keys(path)` names them (rows
    all known before the first is written), else the dict in one column as JSON."""
    found = []
    for name, field in schema.fields.items():
        if field.load_only:
            continue
        key = field.data_key or name
        path, header = (*prefix, key), field.metadata.get("label", key)
        keys = dict_keys(path) if isinstance(field, fields.Dict) else None
        if isinstance(field, fields.Nested) and not field.many:
            found += [Column(column.path, f"{header}.{column.header}")
                      for column in columns(field.schema, dict_keys, path)]
        elif keys:
            found += [Column((*path, item), f"{header}.{item}") for item in keys]
        else:
            found.append(Column(path, header))
    return found


def keys_in(rows):
    """`dict_keys` for `columns`: the keys of the dicts found at a path in any of `rows`, in
    the order they first appear."""
    def dict_keys(path):
        keys = {}
        for row in rows:
            value = value_at(row, path)
            if isinstance(value, dict):
                keys.update(dict.fromkeys(value))
        return list(keys)
    return dict_keys


def value_at(row, path):
    for key in path:
        if not isinstance(row, dict):
            return None
        row = row.get(key)
    return row


def cell(value):
    """A JSON value as a spreadsheet cell: None, a boolean or a number as it is (a negative
    number is no formula), anything else as neutralised text; a list of plain values joined
    with commas, other lists and objects as JSON."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list) and not any(isinstance(item, (dict, list)) for item in value):
        text = ", ".join(_plain(item) for item in value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return neutralise(text)


def _plain(value):
    return "" if value is None else json.dumps(value) if isinstance(value, bool) else str(value)


def exportable(blueprint, view, schema):
    """`view` (a route's GET) answering CSV and XLSX too when its success `schema` is a page,
    a list or a summary with rows; any other view as it is."""
    schema = schema() if isinstance(schema, type) else schema
    kind = kind_of(schema)
    if kind is None or view.__name__ != "get":
        return view

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        after_this_request(_varies_by_accept)
        media = requested_format(request.accept_mimetypes)
        if media is None:
            return view(*args, **kwargs)
        return _export(media, *_table(kind, schema, view, args, kwargs))

    for media in (CSV, XLSX):
        wrapper = blueprint.alt_response(200, schema=BINARY, content_type=media, description=DESCRIPTION, headers={
            "Content-Disposition": {"description": "Untuk CSV dan XLSX: nama berkas unduhan.",
                                    "schema": {"type": "string"}}})(wrapper)
    return blueprint.alt_response(400, schema=ProblemSchema, content_type="application/problem+json")(wrapper)


def _varies_by_accept(response):
    # One URL, several representations: a shared cache must keep them apart.
    response.vary.add("Accept")
    return response


def _table(kind, schema, view, args, kwargs):
    """The columns and the rows (an iterator) of the export. Only a page's first call is made
    here, before the answer starts (so its 401, 403, 404 or 503 is still a problem); the other
    pages are asked for while the rows are written."""
    if kind == PAGE:
        *before, query = args  # flask-smorest hands the parsed query in last
        first = view(*before, {**query, "page": 1, "per_page": PER_PAGE}, **kwargs)
        _require_at_most(first["total"])

        def pages():
            yield from first["items"]
            for page in range(2, math.ceil(first["total"] / PER_PAGE) + 1):
                yield from view(*before, {**query, "page": page, "per_page": PER_PAGE}, **kwargs)["items"]

        return columns(schema.fields["items"].inner.schema), pages()
    answer = view(*args, **kwargs)
    if kind == LIST:
        rows, row_schema = answer, schema
    else:  # the whole first (its own values of the rows' columns), then the rows
        rows, row_schema = [answer, *answer[SUMMARY_ROWS]], schema.fields[SUMMARY_ROWS].inner.schema
    _require_at_most(len(rows))
    return columns(row_schema, keys_in(rows)), iter(rows)


def _require_at_most(total):
    if total > MAX_ROWS:
        raise TooManyRows(f"Ekspor paling banyak {_number(MAX_ROWS)} baris, sedangkan hasil ini {_number(total)} "
                          "baris. Persempit filternya (misalnya wilayah, status atau rentang tanggal).",
                          batas=MAX_ROWS, jumlah=total)


def _export(media, table_columns, rows):
    name = f"{_route_name()}-{datetime.now(WIB).date().isoformat()}.{EXTENSIONS[media]}"
    if media == CSV:
        response = Response(stream_with_context(_csv_chunks(table_columns, rows)), mimetype=CSV)
        response.headers.set("Content-Disposition", "attachment", filename=name)
        return response
    return send_file(_xlsx_file(table_columns, rows, _route_name()), mimetype=XLSX, as_attachment=True,
                     download_name=name, etag=False)


def _route_name():
    """'/api/v1/bantuan/program/<program_id>/rekap' -> 'bantuan-program-rekap'."""
    parts = request.url_rule.rule.removeprefix("/api/v1/").split("/")
    return "-".join(part for part in parts if part and not part.startswith("<"))


def _csv_chunks(table_columns, rows):
    """The CSV (comma-separated, RFC 4180 quoting, UTF-8 with BOM) in chunks, page by page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([column.header for column in table_columns])
    written = 0
    try:
        for row in rows:
            writer.writerow([_csv_text(cell(value_at(row, column.path))) for column in table_columns])
            written += 1
            if buffer.tell() >= CHUNK_CHARACTERS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    except Exception:
        # The answer has started: it can only stop short (the client sees the body cut off).
        log.warning("CSV export of %s stopped after %d rows", request.path, written, exc_info=True)
        raise
    yield buffer.getvalue()


def _csv_text(value):
    return "" if value is None else json.dumps(value) if isinstance(value, bool) else value


def _xlsx_file(table_columns, rows, title):
    """The workbook in a temporary file (a zip cannot be streamed as it is written); openpyxl's
    write-only sheet keeps its rows in a file of its own too, not in memory. openpyxl (and the
    numpy it loads when installed) is imported by the first workbook, not by every gateway worker
    at start: most never make one."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])  # Excel's longest sheet name
    sheet.append([column.header for column in table_columns])
    for row in rows:
        sheet.append([_xlsx_value(cell(value_at(row, column.path))) for column in table_columns])
    file = tempfile.TemporaryFile()
    workbook.save(file)
    file.seek(0)
    return file


def _xlsx_value(value):
    # XML cannot carry most control characters: text that predates today's rules loses them.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
