"""The web front-end in a real browser: gunicorn serving web/ against the session's platform
(tests/conftest.py), and Debian's Chromium driven by Playwright (`apt-get install chromium`;
Playwright's own browser download is never used). Every page a test opens is checked as it
closes: no request went to any host but the web app's own, the Content-Security-Policy refused
nothing, and axe-core found no violation of impact serious or critical on the pages it ran on.

The web app runs as behind a reverse proxy on this machine (WEB_TRUSTED_PROXIES=127.0.0.1), and
each browser context says who it is in X-Forwarded-For, as such a proxy would: an address of
TEST-NET-2 of its own, which the web app passes on to the gateway, so that the gateway counts the
rate limits of each context apart from the 127.0.0.1 every other test of the session calls from."""
import itertools
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest

from services.stack import free_port, ready, wait_for
from tests.support import ROOT, Process

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE = ROOT / "web" / "assets" / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "web" / "static" / "dist" / "manifest.json"
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 360, "height": 740}
WEB_ARGS = ["-m", "gunicorn", "-c", "python:web.gunicorn_conf", "web.wsgi:app"]
# Each browser context's address: see the module's docstring.
VISITORS = (f"198.51.100.{n}" for n in itertools.count(1))


def start_web(env, logs, gateway_url, name="web", **extra):
    """gunicorn serving the web app against `gateway_url`; (process, base URL as the browser uses it)."""
    if not DIST.exists():
        built = subprocess.run([sys.executable, "-m", "web.build"], cwd=ROOT, capture_output=True, text=True)
        assert built.returncode == 0, f"the web assets are not built ({built.stderr.strip()}): `make test` builds them"
    port = free_port()
    process = Process(name, WEB_ARGS, {**env, "WEB_PORT": str(port), "WEB_GATEWAY_URL": gateway_url,
                                       "WEB_COOKIE_SECURE": "false", "WEB_WORKERS": "1", "WEB_THREADS": "8",
                                       "WEB_TRUSTED_PROXIES": "127.0.0.1",
                                       **{key: str(value) for key, value in extra.items()}}, logs)
    try:
        wait_for(lambda: ready(f"http://127.0.0.1:{port}/health"), "the web app's /health", 30, [process.popen])
    except Exception:
        print(process.log()[-3000:])
        process.stop()
        raise
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def web(env, logs, gateway):
    process, base = start_web(env, logs, gateway)
    yield base
    process.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is expected at /usr/bin/chromium: apt-get install -y chromium (make test does)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """A browser context at phone width, a visitor of an `address` of its own, whose every request
    and CSP complaint is recorded."""

    def __init__(self, browser, web, address=None, **options):
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(web))
        self.web = web
        self.address = address or next(VISITORS)
        self.context = browser.new_context(viewport=PHONE, locale="id-ID",
                                           extra_http_headers={"X-Forwarded-For": self.address}, **options)
        self.context.set_default_timeout(15_000)
        self.requests = []
        self.complaints = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("console", self._console)

    def _console(self, message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.complaints.append(message.text)

    def go(self, path):
        response = self.page.goto(self.web + path)
        return response

    def close(self):
        self.context.close()
        foreign = [url for url in self.requests if not url.startswith((self.origin + "/", "data:"))]
        assert not foreign, f"requests left for other hosts: {foreign}"
        assert not self.complaints, f"the Content-Security-Policy refused: {self.complaints}"


@pytest.fixture
def visit(browser, web):
    """visit() opens a new context on the web app (JavaScript on unless told:
    visit(java_script_enabled=False); another web app: visit(web=...))."""
    opened = []

    def open_(web=web, **options):
        opened.append(Visit(browser, web, **options))
        return opened[-1]

    yield open_
    for one in opened:
        one.close()


@pytest.fixture(scope="session")
def axe_source():
    assert AXE.exists(), "axe-core is a devDependency of web/assets: `npm ci --prefix web/assets`"
    return AXE.read_text()


@pytest.fixture
def axe(axe_source):
    """axe(page): axe-core run in the page (evaluate is not bound by the page's CSP); fails on a
    violation of impact serious or critical."""
    def check(page):
        page.evaluate(axe_source)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]][:3])
               for violation in result["violations"] if violation["impact"] in ("serious", "critical")]
        assert not bad, f"axe-core on {page.url}: {bad}"
        return result
    return check


@pytest.fixture(scope="session")
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    return take


# The console's people (tests/web/test_konsol*.py): accounts an admin opened with a password given
# to them (GIVEN), which their holders replace (OWN).
GIVEN = "kuda-lumping-di-pasar"
OWN = "sapi-perah-di-padang-rumput"


def opened(api, role="petugas", wilayah="33.74", **extra):
    username = f"konsol-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "nama": f"Budi {role.title()}", "email": f"{username}@contoh.go.id",
            "role": role, "wilayah": wilayah, "password": GIVEN, **extra}
    made = api.post("/akun", json=body, wilayah="33")
    assert made.status_code == 201, made.text
    return made.json()


def a_visitor():
    """The header a login through the API sends as a visitor of its own: the gateway counts its
    login rate limit per address, and the session's tests log in many times from 127.0.0.1."""
    return {"X-Forwarded-For": next(VISITORS)}


def with_own_password(api, account, totp=None):
    """What its holder did already: replaced the password the admin gave (through the API)."""
    login = {"username": account["username"], "password": GIVEN}
    if totp is not None:
        login["kode_otp"] = totp.now()  # a code is good once: the enrolment took the one before
    pair = api.post("/auth/login", role=None, json=login, headers=a_visitor()).json()
    changed = api.post("/akun/saya/password", role=None, json={"password_lama": GIVEN, "password_baru": OWN},
                       headers={"Authorization": f"Bearer {pair['access_token']}", **a_visitor()})
    assert changed.status_code == 200, changed.text
    return account


def tab_to(page, selector, limit=40):
    """Tab until `selector` has the focus: what a person without a mouse does."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def type_into(page, selector, text):
    tab_to(page, selector)
    page.keyboard.type(text)


def log_in(page, username, password):
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def enrolled(api, account, password):
    """What an admin's holder did already: enrolled its one-time code (through the API); its TOTP."""
    pair = api.post("/auth/login", role=None, json={"username": account["username"], "password": password},
                    headers=a_visitor()).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}", **a_visitor()}
    uri = api.post("/akun/saya/otp", role=None, headers=bearer).json()["otpauth_uri"]
    totp = pyotp.parse_uri(uri)
    made = api.post("/akun/saya/otp/aktifkan", role=None, headers=bearer, json={"kode_otp": totp.at(time.time() - 30)})
    assert made.status_code == 200, made.text
    return totp


@pytest.fixture
def officer(visit, api):
    """officer(role="petugas", wilayah="33.74", **account) -> (Visit, account): someone logged in
    to the console through its pages, with their own password (OWN) and, where the role needs
    one, a one-time code enrolled (account["totp"])."""
    def logged_in(role="petugas", wilayah="33.74", **extra):
        account = opened(api, role, wilayah, **extra)
        if role == "admin":
            account["totp"] = enrolled(api, account, GIVEN)
        with_own_password(api, account, account.get("totp"))
        one = visit()
        one.go("/konsol/masuk")
        log_in(one.page, account["username"], OWN)
        if "totp" in account:
            one.page.wait_for_url("**/konsol/masuk/kode")
            one.page.fill("#kode_otp", account["totp"].at(time.time() + 30))  # the next one: now's is used
            one.page.click("button[type=submit]")
        one.page.wait_for_url("**/konsol")
        return one, account
    return logged_in
