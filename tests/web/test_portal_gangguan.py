"""What a citizen keeps when the platform cannot take a form just now: the aspiration and the
survey forms, sent to a web app whose gateway does not answer, come back with what was typed and
a banner saying they were not sent yet (never the app's error page, which loses the text); and
pressing Kirim again is safe, since the aspiration form carries the same Idempotency-Key from its
first rendering to its last send: the real gateway gives the same ticket twice, one aspiration."""
import re
import uuid

import pytest
import requests

from services.stack import free_port
from tests.web.conftest import start_web

AREA = "81.71"  # Kota Ambon: no other test sends anything there
ISI = "Jalan ke pasar berlubang besar di depan sekolah; sudah dua motor jatuh minggu ini."
TELEPON = "081234567890"


@pytest.fixture
def dead_gateway(env, logs):
    """A second web app, in front of a port nobody listens on."""
    process, base = start_web(env, logs, f"http://127.0.0.1:{free_port()}", name="web-gateway-mati")
    yield base
    process.stop()


def axe_without_javascript(visit, axe, page):
    """axe needs scripts to run: the page as this browser without scripts got it, in one with them
    (as tests/web/test_portal.py checks its JavaScript-off pages)."""
    checker = visit()
    checker.page.set_content(re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S))
    axe(checker.page)
    checker.requests.clear()  # set_content's page is about:blank's, not a request to check


def send(page, button):
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    return posted.value


def test_a_form_the_gateway_cannot_take_comes_back_as_typed_and_says_it_was_not_sent(
        visit, dead_gateway, axe, screenshot):
    visitor = visit(web=dead_gateway, java_script_enabled=False)
    page = visitor.page
    assert visitor.go("/aspirasi").status == 200
    kunci = page.locator("input[name=kunci]").input_value()
    assert uuid.UUID(kunci)
    page.get_by_label("Wilayah kejadian").fill(AREA)
    page.get_by_label("Keluhan", exact=True).check()
    page.locator("#isi").fill(ISI)
    page.locator("#telepon").fill(TELEPON)
    page.get_by_label("Rahasiakan identitas saya").check()
    answer = send(page, "Kirim aspirasi")
    assert answer.status == 503 and answer.headers["retry-after"] == "60"

    banner = page.get_by_role("alert")
    assert banner.get_by_role("heading", name="Aspirasi belum terkirim").is_visible()
    assert "tekan Kirim aspirasi sekali lagi" in banner.inner_text()
    assert "tidak hilang" not in page.content()
    assert page.locator("#kode_wilayah").input_value() == AREA
    assert page.get_by_label("Keluhan", exact=True).is_checked()
    assert page.locator("#isi").input_value() == ISI
    assert page.locator("#telepon").input_value() == TELEPON
    assert page.get_by_label("Rahasiakan identitas saya").is_checked()
    assert page.locator("input[name=kunci]").input_value() == kunci  # the next send is the same request
    axe_without_javascript(visit, axe, page)
    screenshot(page, "aspirasi-belum-terkirim")

    # Again: still kept, still the same key.
    assert send(page, "Kirim aspirasi").status == 503
    assert page.locator("#isi").input_value() == ISI and page.locator("input[name=kunci]").input_value() == kunci

    # The survey form alike.
    assert visitor.go("/survei/KODE1234?kegiatan=kegiatan-1").status == 200
    page.locator("input[name=kepercayaan][value='4']").check()
    page.locator("input[name=kepuasan][value='5']").check()
    page.locator("#komentar").fill("Acaranya bermanfaat.")
    assert send(page, "Kirim jawaban").status == 503
    assert page.get_by_role("alert").get_by_role("heading", name="Survei belum terkirim").is_visible()
    assert "tekan Kirim jawaban sekali lagi" in page.get_by_role("alert").inner_text()
    assert page.locator("input[name=kepercayaan][value='4']").is_checked()
    assert page.locator("input[name=kepuasan][value='5']").is_checked()
    assert page.locator("#komentar").input_value() == "Acaranya bermanfaat."
    axe_without_javascript(visit, axe, page)


def test_the_same_aspiration_form_sent_twice_to_the_real_gateway_gives_one_ticket(web, api, national_unit):
    """The form's key goes to POST /api/v1/aspirasi as its Idempotency-Key: the second send (a
    citizen pressing Kirim again after the gateway gave up) is answered as the first was."""
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = "203.0.113.81"  # an address of its own for the rate limits
    form = browser.get(f"{web}/aspirasi", timeout=15).text
    fields = dict(re.findall(r'name="(csrf_token|kunci)" value="([^"]+)"', form))
    isi = f"{ISI} ({uuid.uuid4().hex[:8]})"
    body = {**fields, "kode_wilayah": AREA, "kategori": "keluhan", "isi": isi}
    tickets = []
    for _ in range(2):
        sent = browser.post(f"{web}/aspirasi", data=body, timeout=20)
        assert sent.status_code == 200 and sent.url.endswith("/aspirasi/terkirim"), sent.text[-2000:]
        tickets.append(re.search(r'<p class="ticket"[^>]*>([^<]+)</p>', sent.text)[1].strip())
    assert tickets[0] == tickets[1]
    items = api.get("/aspirasi", params={"kode_prefix": AREA, "per_page": 200}).json()["items"]
    assert [item["nomor_tiket"] for item in items if item["isi"] == isi] == tickets[:1]
