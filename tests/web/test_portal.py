"""The citizens' portal in Debian's Chromium, as a citizen on a phone uses it (360 px wide): an
aspiration sent with JavaScript on (the ALTCHA widget solving the gateway's challenge) and off
(the area typed, a name shared by several areas chosen among), tracked, an officer's answer made
through the API appearing; a survey answered through its QR address, refused kindly the second
time; an area's agenda and index; every error page; the aspiration form with the keyboard alone.
Every page passes axe-core and makes no request to another host (tests/web/conftest.py)."""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests

from services.stack import free_port
from tests.support import form_units
from tests.web.conftest import start_web

WITA = timezone(timedelta(hours=8))
TELEPON = "081234567890"


@pytest.fixture(scope="module")
def units(api, national_unit):
    """Sulawesi Selatan, Kota Makassar (WITA) and Kota Parepare: no other module forms them."""
    return form_units(api, "73", "73.71", "73.72")


def schedule(api, unit, kode_wilayah, days, judul, jenis="dialog", **fields):
    start = (datetime.now(WITA) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    body = {"unit_id": unit["id"], "jenis": jenis, "judul": judul, "mulai": start.isoformat(),
            "selesai": (start + timedelta(hours=3)).isoformat(),
            "lokasi": {"kode_wilayah": kode_wilayah, "alamat": "Aula Kecamatan"}, **fields}
    response = api.post("/kegiatan", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def finish(api, kegiatan, peserta):
    assert api.post(f"/kegiatan/{kegiatan['id']}/mulai").status_code == 200
    done = api.post(f"/kegiatan/{kegiatan['id']}/selesai",
                    json={"laporan": {"jumlah_peserta": peserta, "ringkasan": "Dialog kamtibmas bersama warga."}})
    assert done.status_code == 200, done.text
    return api.get(f"/kegiatan/{kegiatan['id']}/survei").json()["kode"]


def answer(api, kegiatan, kode, kepercayaan, kepuasan=4):
    response = api.post(f"/kegiatan/{kegiatan['id']}/survei", role=None,
                        json={"kode": kode, "kepercayaan": kepercayaan, "kepuasan": kepuasan})
    assert response.status_code == 201, response.text


def wait_for_altcha(page):
    """The widget solved the gateway's challenge: its hidden field holds the proof."""
    page.wait_for_function("() => document.querySelector('input[name=altcha]')?.value", timeout=30_000)


def sent_forms(page):
    """The bodies of the form POSTs the page sends, as they go."""
    bodies = []
    page.on("request", lambda request: bodies.append(request.post_data) if request.method == "POST" else None)
    return bodies


def ticket_of(page):
    return page.locator(".ticket").inner_text().strip()


def aspirasi_with_ticket(api, nomor, wilayah=None):
    items = api.get("/aspirasi", params={"kode_prefix": "73", "per_page": 200}, wilayah=wilayah).json()["items"]
    return next(item for item in items if item["nomor_tiket"] == nomor)


def test_an_aspiration_sent_with_javascript_on_is_tracked_with_the_units_answer(visit, api, units, axe, screenshot):
    visitor = visit()
    page = visitor.page
    assert visitor.go("/aspirasi").status == 200
    axe(page)
    # The cascading picker replaced the text field: province, city, district, village.
    page.select_option("#kode_wilayah-0", "73")
    page.locator("#kode_wilayah-1 option[value='73.71']").wait_for(state="attached")
    page.select_option("#kode_wilayah-1", "73.71")
    page.locator("#kode_wilayah-2 option[value='73.71.03']").wait_for(state="attached")
    page.select_option("#kode_wilayah-2", "73.71.03")
    page.get_by_label("Keluhan", exact=True).check()
    page.locator("#isi").fill("Lampu jalan di depan pasar mati sejak seminggu; rawan jambret malam hari.")
    page.locator("#nama").fill("Daeng Rahman")
    page.locator("#telepon").fill(TELEPON)
    page.get_by_label("Rahasiakan identitas saya").check()
    wait_for_altcha(page)
    screenshot(page, "aspirasi-js")
    bodies = sent_forms(page)
    page.get_by_role("button", name="Kirim aspirasi").click()
    page.wait_for_url(re.compile(r"/aspirasi/terkirim$"))
    # The widget's proof went with the form (and the gateway took it: the answer is a ticket).
    assert re.search(r"(^|&)altcha=[^&]+", bodies[0]) and "kode_wilayah=73.71.03" in bodies[0]
    nomor = ticket_of(page)
    assert re.fullmatch(r"[0-9A-Z-]{6,}", nomor), nomor
    receipt = page.locator(".receipt").inner_text()
    assert "Kota Makassar" in receipt and "WITA" in receipt  # the handling unit; Makassar's clock
    axe(page)
    screenshot(page, "aspirasi-terkirim")

    page.get_by_role("link", name="Lacak tiket ini").click()
    page.wait_for_url(re.compile(f"/lacak/{nomor}$"))
    assert "Menunggu verifikasi" in page.locator("#hasil").inner_text()
    # An officer of the handling unit verifies it, with an answer for the reporter.
    # Kept confidential: whole only inside the handling unit.
    assert aspirasi_with_ticket(api, nomor)["pelapor"] is None
    aspirasi = aspirasi_with_ticket(api, nomor, wilayah="73.71")
    assert aspirasi["kode_wilayah"] == "73.71.03" and aspirasi["rahasia"] is True
    assert re.sub(r"\D", "", aspirasi["pelapor"]["telepon"]) == TELEPON
    # First a step with only a working note: the step shows, the note does not.
    response = api.post(f"/aspirasi/{aspirasi['id']}/tindak-lanjut", json={
        "status": "diverifikasi", "catatan": "Catatan kerja: hubungi pelapor dulu."})
    assert response.status_code == 200, response.text
    page.reload()
    steps = page.locator(".timeline .step-title").all_inner_texts()
    assert steps[:2] == ["Diterima", "Diverifikasi"] and "Menunggu jawaban" in steps[-1]
    assert "Catatan kerja" not in page.content() and "Jawaban unit" not in page.content()
    assert "WITA" in page.locator(".timeline").inner_text()  # Makassar's clock, from the province alone
    response = api.post(f"/aspirasi/{aspirasi['id']}/tindak-lanjut", json={
        "status": "diproses", "catatan": "Sudah kami cek bersama lurah; lampu diganti pekan ini.", "publik": True})
    assert response.status_code == 200, response.text
    page.reload()
    timeline = page.locator("#hasil").inner_text()
    assert "Sudah kami cek bersama lurah" in timeline and "Diverifikasi" in timeline
    # Every change in order, the answer under the step it came with.
    steps = page.locator(".timeline .step-title").all_inner_texts()
    assert steps[:3] == ["Diterima", "Diverifikasi", "Sedang diproses"]
    assert "Sudah kami cek bersama lurah" in page.locator(".timeline .step").nth(2).inner_text()
    assert "Daeng" not in page.content() and TELEPON not in page.content()  # nothing about the reporter
    axe(page)
    screenshot(page, "lacak")
    # The tracking form, typed: htmx puts the answer in place and the address in the history.
    visitor.go("/lacak")
    page.get_by_label("Nomor tiket").fill(nomor)
    with page.expect_request(lambda request: request.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Lacak").click()
    page.wait_for_url(re.compile(f"nomor_tiket={nomor}$"))
    assert "Sudah kami cek bersama lurah" in page.locator("#hasil").inner_text()
    assert page.locator("#hasil").count() == 1


def test_an_aspiration_sent_with_javascript_off_types_the_area_and_chooses_among_namesakes(
        visit, api, units, axe, screenshot):
    visitor = visit(java_script_enabled=False)
    page = visitor.page
    visitor.go("/aspirasi")
    page.get_by_label("Wilayah kejadian").fill("Makassar")
    page.get_by_label("Masukan", exact=True).check()
    page.locator("#isi").fill("Mohon patroli bersama di sekitar kampus pada malam minggu.")
    page.locator("#telepon").fill("12")
    page.get_by_role("button", name="Kirim aspirasi").click()
    # "Makassar" is a city, a district and more: the portal asks which.
    assert page.get_by_role("heading", name="Wilayah mana yang Anda maksud?").is_visible()
    choices = page.locator("input[name=kode_wilayah]")
    assert choices.count() >= 2
    screenshot(page, "aspirasi-pilih-wilayah")
    page.locator("input[name=kode_wilayah][value='73.71.03']").check()
    page.get_by_role("button", name="Kirim aspirasi").click()
    # The API refuses the phone number: said beside the field, the rest kept as typed.
    error = page.locator("#telepon-galat")
    assert error.is_visible() and page.locator("#telepon").get_attribute("aria-invalid") == "true"
    assert page.locator("#isi").input_value().startswith("Mohon patroli bersama")
    assert page.get_by_label("Wilayah kejadian").input_value() == "73.71.03"
    screenshot(page, "aspirasi-galat")
    page.locator("#telepon").fill("")
    page.get_by_role("button", name="Kirim aspirasi").click()
    page.wait_for_url(re.compile(r"/aspirasi/terkirim$"))
    nomor = ticket_of(page)
    assert aspirasi_with_ticket(api, nomor)["kode_wilayah"] == "73.71.03"

    # Tracking, typed into the form.
    visitor.go("/lacak")
    page.get_by_label("Nomor tiket").fill(nomor.lower())
    page.get_by_role("button", name="Lacak").click()
    assert nomor in page.locator("#hasil").inner_text()
    assert "Diterima" in page.locator(".timeline").inner_text()
    unknown = visitor.go("/lacak/ZZZZZZZZ")
    assert unknown.status == 404 and "tidak ditemukan" in page.locator("#hasil").inner_text()


def test_pages_without_javascript_pass_axe(visit, axe, web):
    """axe needs a page's scripts: the JavaScript-off pages are checked as a browser without
    scripts got them (same HTML, the script elements never run)."""
    visitor = visit()
    for path in ("/aspirasi", "/survei"):
        html = requests.get(web + path, timeout=10).text
        visitor.page.set_content(re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S))
        axe(visitor.page)
    visitor.requests.clear()  # set_content's page is about:blank's, not a request to check


@pytest.fixture(scope="module")
def survei(api, units):
    kegiatan = schedule(api, units["73.71"], "73.71.03", -2, "Dialog kamtibmas Kecamatan Makassar")
    return kegiatan, finish(api, kegiatan, 8)


def test_a_survey_answered_through_its_qr_address_is_refused_kindly_the_second_time(visit, survei, axe, screenshot):
    kegiatan, codes = survei
    visitor = visit()
    page = visitor.page
    address = f"/survei/{codes[0]}?kegiatan={kegiatan['id']}"
    assert visitor.go(address).status == 200
    axe(page)
    trust, satisfaction = page.locator("fieldset.scale").all()
    trust.get_by_role("radio", name="4 Tinggi", exact=True).check()
    satisfaction.locator(".scale-option", has_text="Sangat puas").click()  # the whole box is the target
    assert page.locator("input[name=kepercayaan]:checked").get_attribute("value") == "4"
    assert page.locator("input[name=kepuasan]:checked").get_attribute("value") == "5"
    page.get_by_label("Komentar").fill("Dialognya bermanfaat.")
    wait_for_altcha(page)
    screenshot(page, "survei")
    page.get_by_role("button", name="Kirim jawaban").click()
    assert page.get_by_role("heading", name="Terima kasih").is_visible()
    axe(page)

    visitor.go(address)
    trust, satisfaction = page.locator("fieldset.scale").all()
    trust.get_by_role("radio", name="3 Sedang", exact=True).check()
    satisfaction.get_by_role("radio", name="3 Cukup", exact=True).check()
    wait_for_altcha(page)
    page.get_by_role("button", name="Kirim jawaban").click()
    assert page.get_by_role("heading", name="Jawaban untuk kode ini sudah kami terima").is_visible()
    axe(page)
    screenshot(page, "survei-sudah")

    # A code typed on /survei leads to the same form.
    visitor.go("/survei")
    page.get_by_label("Kode kegiatan").fill(kegiatan["id"])
    page.get_by_label("Kode survei").fill(codes[1].lower())
    page.get_by_role("button", name="Lanjut").click()
    assert urlsplit(page.url).path == f"/survei/{codes[1]}"
    assert page.get_by_role("heading", name="Bagaimana pendapat Anda?").is_visible()


@pytest.fixture(scope="module")
def figures(api, units):
    """Five answers in Kota Makassar and five in Kota Parepare (shown), two in another district
    of Makassar (withheld), and an activity next week."""
    shown = [schedule(api, units["73.71"], "73.71.01", -3, "Dialog Mariso"),
             schedule(api, units["73.72"], "73.72.01", -3, "Dialog Parepare")]
    for kegiatan, trust in zip(shown, (4, 3), strict=True):
        for kode in finish(api, kegiatan, 5)[:5]:
            answer(api, kegiatan, kode, trust)
    small = schedule(api, units["73.71"], "73.71.02", -3, "Dialog Mamajang")
    for kode in finish(api, small, 2)[:2]:
        answer(api, small, kode, 5)
    return schedule(api, units["73.71"], "73.71.01", 5, "Patroli bersama pasar malam", jenis="patroli_bersama",
                    rute=[{"kode_wilayah": "73.71.01"}])


def test_the_agenda_and_the_index_of_an_area(visit, figures, axe, screenshot):
    visitor = visit()
    page = visitor.page
    visitor.go("/agenda?wilayah=73.71")
    upcoming = page.locator("section", has_text="Akan datang").inner_text()
    assert "Patroli bersama pasar malam" in upcoming and "09.00 WITA" in upcoming
    assert "Dialog Mariso" in page.locator("section", has_text="Baru saja berlalu").inner_text()
    axe(page)
    screenshot(page, "agenda")
    # The home page remembers the area chosen.
    visitor.go("/")
    assert "Patroli bersama pasar malam" in page.locator("section", has_text="Kegiatan berikutnya").inner_text()
    axe(page)
    screenshot(page, "beranda")

    visitor.go("/indeks?wilayah=Sulawesi Selatan")
    table = page.locator("#indeks-tabel")
    rows = {row.locator("th").inner_text(): row.locator("td").first.inner_text()
            for row in table.locator("tbody tr").all()}
    assert rows.get("Kota Makassar") not in (None, "ditahan") and rows.get("Kota Parepare") == "3,00", \
        (rows, page.locator("main").inner_text())
    chart = page.locator("[data-chart]")
    assert chart.is_visible() and chart.locator("canvas").count() == 1
    axe(page)
    screenshot(page, "indeks")
    page.get_by_role("link", name="Kota Makassar").click()
    assert page.get_by_role("heading", name="Indeks kepercayaan dan kepuasan Kota Makassar").is_visible()
    assert "ditahan" in table.inner_text()  # Mamajang: two answers
    axe(page)


def test_every_error_page_has_the_portals_design(visit, env, logs, axe, screenshot):
    visitor = visit()
    page = visitor.page
    missing = visitor.go("/tidak-ada")
    assert missing.status == 404 and page.get_by_role("heading", name="Halaman tidak ditemukan").is_visible()
    axe(page)
    screenshot(page, "404")

    # 429: a visitor whose anonymous sends are used up, in every gateway worker (each counts on
    # its own in this session: memory://).
    crowded = visit(java_script_enabled=False)
    refused = 0
    for _ in range(200):
        spent = requests.post(f"{env['PUBLIC_URL']}/api/v1/aspirasi", json={}, timeout=10,
                              headers={"X-Forwarded-For": crowded.address})
        refused = refused + 1 if spent.status_code == 429 else 0
        if refused == 10:
            break
    assert refused == 10, spent.text
    other = crowded.page
    crowded.go("/aspirasi")
    other.get_by_label("Wilayah kejadian").fill("73.71")
    other.get_by_label("Aspirasi", exact=True).check()
    other.locator("#isi").fill("Satu lagi.")
    with other.expect_response(lambda response: response.request.method == "POST") as posted:
        other.get_by_role("button", name="Kirim aspirasi").click()
    assert posted.value.status == 429 and int(posted.value.headers["retry-after"]) > 0
    # The form comes back as typed, saying it was not sent yet (tests/web/test_portal_gangguan.py).
    assert other.get_by_role("heading", name="Aspirasi belum terkirim").is_visible()
    assert other.locator("#isi").input_value() == "Satu lagi."
    assert re.search(r"Coba lagi dalam \d+ menit", other.content())
    screenshot(other, "429")

    # 503: the web app in front of a gateway that does not answer.
    process, dead = start_web(env, logs, f"http://127.0.0.1:{free_port()}", name="web-tanpa-gateway")
    try:
        answer = requests.get(f"{dead}/agenda?wilayah=73", timeout=20)
        assert answer.status_code == 503 and "sedang gangguan" in answer.text and "Traceback" not in answer.text
        down = visit(web=dead)
        assert down.go("/lacak/ABCDEF12").status == 503
        assert down.page.get_by_role("heading", name="Layanan sedang gangguan").is_visible()
        axe(down.page)
        screenshot(down.page, "503")
    finally:
        process.stop()


def tab_to(page, selector, limit=60):
    """Press Tab until the element matching `selector` has the focus: it is reachable by keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement?.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_an_aspiration_with_the_keyboard_alone(visit, units, api):
    visitor = visit()
    page = visitor.page
    visitor.go("/aspirasi")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Langsung ke isi"
    page.keyboard.press("Enter")
    page.locator("#kode_wilayah-0 option[value='73']").wait_for(state="attached")  # the list a person reads
    tab_to(page, "#kode_wilayah-0")
    # A closed list takes letters and arrows: "Sulawesi" is Sulawesi Utara (71), two down is 73.
    page.keyboard.type("Sulawesi")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.locator("#kode_wilayah-1 option[value='73.72']").wait_for(state="attached")
    tab_to(page, "#kode_wilayah-1")
    page.keyboard.type("Kota")  # Kota Makassar (73.71); one down, Kota Parepare
    page.keyboard.press("ArrowDown")
    page.locator("#kode_wilayah-2 option:nth-child(2)").wait_for(state="attached")
    assert page.locator("#kode_wilayah-1").input_value() == "73.72"
    tab_to(page, "input[name=kategori]")
    page.keyboard.press("ArrowDown")  # from Aspirasi to Keluhan
    page.keyboard.press("Space")
    tab_to(page, "#isi")
    page.keyboard.type("Jalan berlubang di depan sekolah membahayakan anak-anak.")
    tab_to(page, "input[name=rahasia]")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    wait_for_altcha(page)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/aspirasi/terkirim$"))
    aspirasi = aspirasi_with_ticket(api, ticket_of(page))
    assert (aspirasi["kode_wilayah"], aspirasi["kategori"], aspirasi["rahasia"]) == ("73.72", "keluhan", True)
