"""Lists and summaries as CSV and XLSX through the gateway, read back with real readers (csv,
openpyxl): every page, the same rows and the same masking as the JSON, formula-looking text
neutralised, and errors that are still problems. Kota Kendari (74.71), Mandonga (74.71.01)."""
import concurrent.futures
import csv
import io

import openpyxl
import pytest

from tests.nik import recipient
from tests.support import assert_problem, form_units

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VILLAGE = "74.71.01.1005"
# Names a spreadsheet would take for formulas; a name is one line of plain text, so these are valid.
FORMULAS = {47300: "=SUM(1+1)", 47301: "@cmd", 47302: "-2+3", 47303: "+62 812"}
RECIPIENTS = range(47300, 47550)   # 250: two pages of the largest page a list gives
PEMANTAU = {"role": "pemantau", "wilayah": "74.71"}


@pytest.fixture(scope="module")
def kendari(api, national_unit):
    return form_units(api, "74", "74.71")["74.71"]


@pytest.fixture(scope="module")
def penerima(api, kendari):
    def register(n):
        response = api.post("/bantuan/penerima",
                            json=recipient(n, village=VILLAGE, **({"nama": FORMULAS[n]} if n in FORMULAS else {})))
        assert response.status_code == 201, response.text
        return response.json()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(register, RECIPIENTS))


def json_items(api, path, params, **caller):
    """Every item of a list as its JSON pages give them."""
    items, page = [], 1
    while True:
        answer = api.get(path, params={**params, "page": page, "per_page": 100}, **caller).json()
        items += answer["items"]
        if len(items) >= answer["total"]:
            return items
        page += 1


def read_csv(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(CSV)
    assert response.content.startswith("\ufeff".encode())   # UTF-8 with BOM, for spreadsheet programs
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def read_xlsx(response):
    """The sheet's rows as dicts by header, and the cells themselves."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = sheet.iter_rows()
    names = [c.value for c in header]
    cells = [dict(zip(names, row, strict=True)) for row in rows]
    return [{name: c.value for name, c in row.items()} for row in cells], cells


def test_recipients_as_csv_every_page_masked_as_in_the_json(api, penerima):
    params = {"kode_prefix": VILLAGE}
    response = api.get("/bantuan/penerima", params={**params, "per_page": 5}, headers={"Accept": CSV}, **PEMANTAU)
    assert response.headers["Content-Disposition"].startswith('attachment; filename=bantuan-penerima-')
    assert "Accept" in response.headers["Vary"]
    rows = read_csv(response)
    assert len(rows) == 250
    assert list(rows[0])[:8] == ["nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat",
                                 "telepon"]
    by_id = {row["id"]: row for row in rows}
    items = json_items(api, "/bantuan/penerima", params, **PEMANTAU)
    assert set(by_id) == {item["id"] for item in items} == {p["id"] for p in penerima}
    for item in items:
        row = by_id[item["id"]]
        assert (row["nik"], row["no_kk"], row["kode_wilayah"]) == (item["nik"], item["no_kk"], item["kode_wilayah"])
        assert "*" in row["nik"] and row["tanggal_lahir"] == ""   # masked, as in the JSON list
    whole = {recipient(n)["nik"] for n in RECIPIENTS}
    assert not whole & {row["nik"] for row in rows} and not any(nik in response.text for nik in whole)
    names = {row["nama"] for row in rows}
    assert {"'=SUM(1+1)", "'@cmd", "'-2+3", "'+62 812"} <= names
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for value in row.values())


def test_recipients_as_xlsx_with_text_as_text(api, penerima):
    values, cells = read_xlsx(api.get("/bantuan/penerima", params={"kode_prefix": VILLAGE},
                                      headers={"Accept": XLSX}, role="petugas", wilayah="74.71"))
    assert len(values) == 250
    [formula] = [row for row in cells if row["nama"].value == "'=SUM(1+1)"]
    assert formula["nama"].data_type == "s"   # text, never a formula
    assert not any(cell.data_type == "f" for row in cells for cell in row.values())
    assert all("*" in row["nik"] for row in values)   # a recorder's list is masked too, as its JSON


@pytest.fixture(scope="module")
def kegiatan(api, kendari):
    body = {"unit_id": kendari["id"], "jenis": "dialog", "judul": "=SUM(1+1)",
            "lokasi": {"kode_wilayah": VILLAGE, "alamat": "@Balai Mandonga"},
            "mulai": "2026-11-03T09:00:00+07:00", "selesai": "2026-11-03T11:00:00+07:00"}
    created = [api.post("/kegiatan", json=body) for _ in range(2)]
    assert all(response.status_code == 201 for response in created), created[0].text
    return [response.json() for response in created]


def test_activities_flattened_with_formula_titles_neutralised(api, kegiatan):
    params = {"unit_id": kegiatan[0]["unit_id"]}
    rows = read_csv(api.get("/kegiatan", params=params, headers={"Accept": f"{CSV}, */*;q=0.1"}, **PEMANTAU))
    assert [row["id"] for row in rows] == [item["id"] for item in json_items(api, "/kegiatan", params, **PEMANTAU)]
    assert {(row["judul"], row["lokasi.kode_wilayah"], row["lokasi.alamat"], row["status"]) for row in rows} == {
        ("'=SUM(1+1)", VILLAGE, "'@Balai Mandonga", "direncanakan")}
    # JSON stays the answer to */* and to no Accept at all.
    for accept in ("*/*", None):
        answer = api.get("/kegiatan", params=params, headers={"Accept": accept} if accept else {}, **PEMANTAU)
        assert answer.headers["Content-Type"] == "application/json" and answer.json()["total"] == 2


def test_a_summary_broken_down_is_exported_whole_first(api, kegiatan):
    params = {"kode_wilayah": "74.71", "dari": "2026-10-01", "sampai": "2026-11-30", "rinci": ["wilayah", "bulan"]}
    answer = api.get("/rekap/kegiatan", params=params, **PEMANTAU).json()
    rows = read_csv(api.get("/rekap/kegiatan", params=params, headers={"Accept": CSV}, **PEMANTAU))
    assert [(row["kode_wilayah"], row["bulan"], row["kegiatan.jumlah"], row["kegiatan.per_jenis.dialog"])
            for row in rows] == [("74.71", "", "2", "2"), ("74.71.01", "2026-10", "0", "0"),
                                 ("74.71.01", "2026-11", "2", "2")]
    assert len(rows) == 1 + len(answer["rincian"])
    assert rows[2]["survei.rata_kepercayaan"] == "" and rows[2]["kegiatan.per_status.direncanakan"] == "2"
    values, _ = read_xlsx(api.get("/rekap/kegiatan", params=params, headers={"Accept": XLSX}, **PEMANTAU))
    assert [(row["kode_wilayah"], row["bulan"], row["kegiatan.jumlah"]) for row in values] == [
        ("74.71", None, 2), ("74.71.01", "2026-10", 0), ("74.71.01", "2026-11", 2)]


def test_a_program_summary_as_xlsx(api, kendari, penerima):
    created = api.post("/bantuan/program", json={
        "nama": "Sembako Kendari", "jenis": "sembako", "unit_id": kendari["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 10, "wilayah_sasaran": ["74.71"]}).json()
    program = api.post(f"/bantuan/program/{created['id']}/aktifkan").json()
    for person, bukti in ((penerima[10], "voucher"), (penerima[11], "foto")):
        assert api.post("/bantuan/penyaluran", json={"program_id": program["id"], "penerima_id": person["id"],
                                                     "tanggal": "2026-03-02", "jenis_bukti": bukti,
                                                     "bukti": "BKT-1"}).status_code == 201
    response = api.get(f"/bantuan/program/{program['id']}/rekap", params={"rinci": "wilayah"},
                       headers={"Accept": XLSX}, **PEMANTAU)
    assert response.headers["Content-Disposition"].startswith('attachment; filename=bantuan-program-rekap-')
    values, _ = read_xlsx(response)
    assert [(row["kode_wilayah"], row["tersalur"], row["per_bukti.voucher"], row["per_bukti.foto"])
            for row in values] == [(None, 2, 1, 1), ("74.71.01", 2, 1, 1)]


def test_a_refusal_is_still_a_problem(api, kendari):
    for accept in (CSV, XLSX):
        assert_problem(api.get("/bantuan/program/program-tidak-ada/rekap", headers={"Accept": accept}), 404)
        assert_problem(api.get("/bantuan/penerima", headers={"Accept": accept}, role=None), 401)
        assert_problem(api.get("/bantuan/penerima", params={"kode_prefix": "31"}, headers={"Accept": accept},
                               **PEMANTAU), 403)
        assert_problem(api.get("/bantuan/penerima", params={"per_page": 0}, headers={"Accept": accept}), 400)
