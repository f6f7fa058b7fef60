"""The leaders' dashboard (/konsol, issue 20 "What leaders read") in Debian's Chromium, on figures
of Kota Magelang (33.71) made through the API: activities over two months, finished with their
participants, survey answers and aspirations. A pengurus reads the monthly tables as the API's
summary gives them, with their charts drawn; sorts the per-area table by its headings, its bars
following; downloads the API's CSV and Excel of the same rows; and sees a citizen's new survey
answer after reloading. A pemantau reads it all with nothing to change: only the period form
(which also says what it cannot show) and the downloads."""
import calendar
import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.web.conftest import a_visitor

MAGELANG = "33.71"
SELATAN, UTARA = "33.71.01", "33.71.02"
NAMES = {SELATAN: "Magelang Selatan", UTARA: "Magelang Utara"}
WIDE = {"width": 1280, "height": 900}


def unit(api, tingkat, kode):
    """The area's unit, formed here unless another test of the session formed it already."""
    made = api.post("/units", json={"tingkat": tingkat, "kode_wilayah": kode})
    assert made.status_code in (201, 409), made.text
    return made.json()["id"] if made.status_code == 201 else made.json()["unit_id"]


def held(api, unit_id, jenis, day, desa, peserta=(), answers=(), **fields):
    """An activity of the unit on `day` in the village `desa`: scheduled only, or, with
    participants, finished with them and its survey answered `answers` (trust, satisfaction)
    times; the survey codes left unused."""
    body = {"unit_id": unit_id, "jenis": jenis, "judul": f"{jenis.title()} {desa}",
            "lokasi": {"kode_wilayah": desa, "alamat": "Balai kelurahan"},
            "mulai": f"{day}T09:00:00+07:00", "selesai": f"{day}T11:00:00+07:00", **fields}
    made = api.post("/kegiatan", json=body)
    assert made.status_code == 201, made.text
    kegiatan = made.json()
    if not peserta:
        return []
    for n, unsur in enumerate(peserta):
        added = api.post(f"/kegiatan/{kegiatan['id']}/peserta", json={"nama": f"Peserta {n}", "unsur": unsur})
        assert added.status_code == 201, added.text
    assert api.post(f"/kegiatan/{kegiatan['id']}/mulai").status_code == 200
    done = api.post(f"/kegiatan/{kegiatan['id']}/selesai",
                    json={"laporan": {"jumlah_peserta": len(peserta), "ringkasan": "Berjalan lancar."}})
    assert done.status_code == 200, done.text
    codes = api.get(f"/kegiatan/{kegiatan['id']}/survei").json()["kode"]
    for kode, (trust, satisfaction) in zip(codes, answers, strict=False):
        answer(api, kegiatan["id"], kode, trust, satisfaction)
    return [(kegiatan["id"], kode) for kode in codes[len(answers):]]


def answer(api, kegiatan_id, kode, trust, satisfaction):
    """A citizen's survey answer, through the API as the portal sends it."""
    answered = api.post(f"/kegiatan/{kegiatan_id}/survei", role=None, headers=a_visitor(),
                        json={"kode": kode, "kepercayaan": trust, "kepuasan": satisfaction})
    assert answered.status_code == 201, answered.text


def aspiration(api, kode_wilayah, *statuses):
    sent = api.post("/aspirasi", role=None, headers=a_visitor(),
                    json={"kode_wilayah": kode_wilayah, "kategori": "masukan", "isi": "Mohon patroli malam di gang."})
    assert sent.status_code == 201, sent.text
    ticket = sent.json()["nomor_tiket"]
    listed = api.get("/aspirasi", params={"kode_prefix": kode_wilayah, "per_page": 100}).json()["items"]
    [found] = [item for item in listed if item["nomor_tiket"] == ticket]
    for status in statuses:
        followed = api.post(f"/aspirasi/{found['id']}/tindak-lanjut", json={"status": status, "catatan": "Ditangani."})
        assert followed.status_code == 200, followed.text


@pytest.fixture(scope="module")
def magelang(api, national_unit):
    """In Kota Magelang, on the 10th of last month and of this one (WIB):
    - Magelang Selatan: a dialog finished with 4 participants, 2 survey answers; two aspirations,
      one resolved on time;
    - Magelang Utara: a penyuluhan finished with 3 participants, 1 survey answer, and a dialog
      scheduled.
    The survey codes left for citizens to answer later."""
    unit(api, "provinsi", "33")
    unit_id = unit(api, "kabupaten_kota", MAGELANG)
    this = datetime.now(ZoneInfo("Asia/Jakarta")).date().replace(day=10)
    last = (this.replace(day=1) - timedelta(days=1)).replace(day=10)
    left = held(api, unit_id, "dialog", last, "33.71.01.1003", peserta=("masyarakat",) * 3 + ("polri",),
                answers=((4, 3), (5, 4)))
    left += held(api, unit_id, "penyuluhan", this, "33.71.02.1003", peserta=("masyarakat", "masyarakat", "polri"),
                 answers=((3, 4),), topik="kenakalan_remaja")
    held(api, unit_id, "dialog", this, "33.71.02.1004")
    aspiration(api, SELATAN, "diverifikasi", "diproses", "selesai")
    aspiration(api, SELATAN)
    return left


def shown_period(page):
    """The API's dari and sampai of the months the period form shows."""
    dari, sampai = (date.fromisoformat(page.input_value(field) + "-01") for field in ("#dari", "#sampai"))
    return {"dari": dari.isoformat(),
            "sampai": sampai.replace(day=calendar.monthrange(sampai.year, sampai.month)[1]).isoformat()}


def rekap(api, page, kode, rinci):
    params = {**shown_period(page), "kode_wilayah": kode, "rinci": rinci}
    answered = api.get("/rekap/kegiatan", params=params, role="pemantau", wilayah=MAGELANG)
    assert answered.status_code == 200, answered.text
    return answered.json()


def values(page, table):
    """Each body row's figures as the table holds them for its chart: the cells' data-value."""
    return page.locator(f"{table} tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.querySelectorAll('td')].map(cell => cell.dataset.value))")


def text(value):
    return "" if value is None else str(value)


def row_names(page, selector):
    return [name.strip() for name in page.locator(selector).all_inner_texts()]


def stat(page, label):
    return page.locator(".dasbor-ringkasan li", has_text=label).locator(".stat-value").inner_text()


def test_a_pengurus_reads_the_figures_the_api_gives_sorts_them_and_downloads_them(
        officer, api, magelang, axe, screenshot):
    one, _ = officer("pengurus", MAGELANG, nama="Sari Pengurus Magelang")
    page = one.page
    assert page.get_by_role("heading", level=1).inner_text() == f"Dasbor Kota Magelang {MAGELANG}"
    monthly = rekap(api, page, MAGELANG, "bulan")
    rows = monthly["rincian"]
    assert len(rows) == 12 and sum(row["kegiatan"]["jumlah"] > 0 for row in rows) == 2

    # Each trend's table holds the API's figures month by month; its chart is drawn from it.
    assert values(page, "#tren-kegiatan") == [
        [text(row["kegiatan"]["jumlah"]), text(row["kegiatan"]["per_status"]["selesai"]),
         text(row["peserta"]["jumlah"])] for row in rows]
    assert values(page, "#tren-aspirasi") == [
        [text(row["aspirasi"][name]) for name in ("diterima", "diselesaikan", "tepat_waktu", "persen_tepat_waktu")]
        for row in rows]
    assert values(page, "#tren-indeks") == [
        [text(row["survei"][name]) for name in ("jumlah_jawaban", "rata_kepercayaan", "rata_kepuasan")] for row in rows]
    charts = page.locator("figure[data-grafik]")
    assert charts.count() == 3
    for n in range(3):
        assert charts.nth(n).locator("canvas").count() == 1 and charts.nth(n).locator("canvas").is_visible()
    assert stat(page, "Kegiatan") == text(monthly["kegiatan"]["jumlah"])
    assert stat(page, "Jawaban survei") == text(monthly["survei"]["jumlah_jawaban"])
    axe(page)
    screenshot(page, "konsol-dasbor")

    # Per area one level down, in the API's order; sorted by a heading's button, the bars following.
    by_area = {row["kode_wilayah"]: row for row in rekap(api, page, MAGELANG, "wilayah")["rincian"]}
    assert row_names(page, "#wilayah-tabel tbody th") == [NAMES[kode] for kode in by_area] == list(NAMES.values())
    kegiatan = page.locator("#wilayah-tabel thead th", has_text="Kegiatan")
    kegiatan.get_by_role("button").click()
    assert kegiatan.get_attribute("aria-sort") == "descending"
    most_first = sorted(by_area, key=lambda kode: -by_area[kode]["kegiatan"]["jumlah"])
    assert row_names(page, "#wilayah-tabel tbody th") == [NAMES[kode] for kode in most_first] == [
        "Magelang Utara", "Magelang Selatan"]
    assert row_names(page, ".batang-nama") == [NAMES[kode] for kode in most_first]
    kegiatan.get_by_role("button").click()
    assert kegiatan.get_attribute("aria-sort") == "ascending"
    assert row_names(page, "#wilayah-tabel tbody th") == [NAMES[kode] for kode in reversed(most_first)]
    peserta = page.locator("#wilayah-tabel thead th", has_text="Peserta")
    peserta.get_by_role("button").click()
    assert peserta.get_attribute("aria-sort") == "descending" and kegiatan.get_attribute("aria-sort") is None
    assert row_names(page, "#wilayah-tabel tbody th") == [
        NAMES[kode] for kode in sorted(by_area, key=lambda kode: -by_area[kode]["peserta"]["jumlah"])] == [
        "Magelang Selatan", "Magelang Utara"]
    assert page.locator("[data-ukuran]").inner_text() == "Peserta"
    assert page.locator(".batang-angka").all_inner_texts() == [
        text(by_area[SELATAN]["peserta"]["jumlah"]), text(by_area[UTARA]["peserta"]["jumlah"])]
    assert "Diurutkan menurut Peserta, terbesar dulu" in page.inner_text("#wilayah-urutan")
    axe(page)

    # The downloads are the API's own exports: the whole period first, then its rows.
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh CSV per bulan").click()
    assert download.value.suggested_filename.endswith(".csv")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert exported[0]["bulan"] == "" and exported[0]["kegiatan.jumlah"] == text(monthly["kegiatan"]["jumlah"])
    assert [(row["bulan"], row["kegiatan.jumlah"], row["peserta.jumlah"]) for row in exported[1:]] == [
        (row["bulan"], text(row["kegiatan"]["jumlah"]), text(row["peserta"]["jumlah"])) for row in rows]
    with page.expect_download() as download:
        page.get_by_role("link", name="Unduh Excel per wilayah").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    header, whole, *areas = sheet.iter_rows(values_only=True)
    assert [row[header.index("kode_wilayah")] for row in areas] == list(by_area)
    assert [row[header.index("kegiatan.jumlah")] for row in areas] == [
        row["kegiatan"]["jumlah"] for row in by_area.values()]

    page.set_viewport_size(WIDE)
    page.reload()
    page.wait_for_function("document.querySelectorAll('figure[data-grafik] canvas').length === 3")
    screenshot(page, "konsol-dasbor-lebar")

    # A citizen answers one more survey: the dashboard shows it once reloaded.
    kegiatan_id, kode = magelang[0]
    answer(api, kegiatan_id, kode, 2, 2)
    page.reload()
    after = rekap(api, page, MAGELANG, "bulan")
    assert after["survei"]["jumlah_jawaban"] == monthly["survei"]["jumlah_jawaban"] + 1
    assert stat(page, "Jawaban survei") == text(after["survei"]["jumlah_jawaban"])
    assert values(page, "#tren-indeks") == [
        [text(row["survei"][name]) for name in ("jumlah_jawaban", "rata_kepercayaan", "rata_kepuasan")]
        for row in after["rincian"]]


def test_a_pemantau_reads_it_all_with_nothing_to_change(officer, api, magelang, axe):
    one, _ = officer("pemantau", MAGELANG)
    page = one.page
    assert page.locator("#tren-kegiatan tbody tr").count() == 12
    assert page.locator("#wilayah-tabel tbody tr").count() == 2
    # Nothing that changes data: one form, the period's (GET); its button and the sort buttons alone.
    forms = page.locator("main form")
    assert forms.count() == 1 and forms.get_attribute("method") == "get"
    for button in page.locator("main button").all():
        assert button.evaluate("b => b.closest('form.periode') !== null || b.matches('th > button.urut')")
    links = page.locator("main a.button").all_inner_texts()
    assert links and all(link.strip().startswith("Unduh") for link in links)

    # Another period and an area one level down, chosen in the form.
    this_month = page.input_value("#sampai")
    page.select_option("#wilayah", label="Magelang Utara")
    page.fill("#dari", this_month)
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_url(f"**wilayah={UTARA}**")
    assert page.get_by_role("heading", level=1).inner_text() == f"Dasbor Magelang Utara {UTARA}"
    utara = rekap(api, page, UTARA, "bulan")
    assert values(page, "#tren-kegiatan") == [
        [text(utara["kegiatan"]["jumlah"]), text(utara["kegiatan"]["per_status"]["selesai"]),
         text(utara["peserta"]["jumlah"])]]
    assert row_names(page, "#wilayah-tabel tbody th") == ["Wates", "Potrobangsan"]
    axe(page)

    # A period that ends before it starts is said by its field, and nothing is shown.
    page.fill("#sampai", f"{int(this_month[:4]) - 1}{this_month[4:]}")
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_selector("#sampai-galat")
    assert "tidak boleh sebelum" in page.inner_text("#sampai-galat")
    assert page.get_attribute("#sampai", "aria-invalid") == "true"
    assert page.locator("#tren-kegiatan").count() == 0
    axe(page)
