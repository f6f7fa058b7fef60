"""The officers' console, logging in (issue 20), in Debian's Chromium: an admin opened by another
enrols its one-time code on the first login, replaces the password it was given, logs out and logs
in again with a code, all with the keyboard alone; a wrong password is said by its field; a
disabled account and an idle login are thrown out; a reset link from the email sets a new
password. The cookie carries no token. Every page passes axe-core and makes no request to another
host (tests/web/conftest.py)."""
import hashlib
import time
from pathlib import Path

import pyotp
import pytest
from flask.json.tag import TaggedJSONSerializer
from itsdangerous import URLSafeTimedSerializer

from services.common.config import WEB_KEY
from tests.support import body_of, wait_until
from tests.web.conftest import GIVEN, OWN, log_in, opened, start_web, tab_to, type_into, with_own_password

def cookie_of(visit, env):
    """The web app's session cookie, read as its server reads it."""
    [cookie] = [c for c in visit.context.cookies() if c["name"] == "bkpm"]
    key = (Path(env["BKPM_DATA_DIR"]) / WEB_KEY).read_text().strip()
    serializer = URLSafeTimedSerializer(key, salt="cookie-session", serializer=TaggedJSONSerializer(),
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1})
    return serializer.loads(cookie["value"])

ENDED = "Sesi Anda sudah berakhir"


def test_an_admin_enrols_a_code_replaces_its_password_and_logs_in_with_the_keyboard_alone(
        visit, api, env, axe, screenshot):
    admin = opened(api, role="admin", nama="Sri Admin Semarang")
    one = visit()
    page = one.page
    one.go("/konsol")
    assert page.url.endswith("/konsol/masuk?next=/konsol")
    axe(page)

    # A wrong password: said by the password's field.
    type_into(page, "#username", admin["username"])
    type_into(page, "#password", "bukan-kata-sandinya")
    page.keyboard.press("Enter")
    page.wait_for_selector("#password-galat")
    assert "Nama pengguna atau kata sandi salah." in page.inner_text("#password-galat")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert page.input_value("#username") == admin["username"] and page.input_value("#password") == ""
    axe(page)

    # The right one: an admin enrols its one-time code first, from the QR code drawn here.
    type_into(page, "#password", GIVEN)
    page.keyboard.press("Enter")
    page.wait_for_url("**/konsol/daftar-otp")
    assert page.locator(".qr svg[role=img] title").text_content() == "Kode QR untuk aplikasi autentikator"
    axe(page)
    screenshot(page, "konsol-daftar-otp")
    totp = pyotp.TOTP(page.inner_text("#kunci-otp").strip())
    type_into(page, "#kode_otp", "000000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#kode_otp-galat")
    type_into(page, "#kode_otp", totp.now())
    page.keyboard.press("Enter")

    # Then the password someone else gave it is replaced, before anything else.
    page.wait_for_url("**/konsol/ganti-sandi")
    one.go("/konsol")
    assert page.url.endswith("/konsol/ganti-sandi")
    type_into(page, "#password_lama", GIVEN)
    type_into(page, "#password_baru", OWN)
    type_into(page, "#password_ulang", OWN + "x")
    page.keyboard.press("Enter")
    assert "Ulangan tidak sama" in page.inner_text("#password_ulang-galat")
    axe(page)
    type_into(page, "#password_lama", GIVEN)
    type_into(page, "#password_baru", OWN)
    type_into(page, "#password_ulang", OWN)
    page.keyboard.press("Enter")
    page.wait_for_url("**/konsol")
    main = page.inner_text("main")
    assert "Sri Admin Semarang" in main and "Admin" in main and "semarang" in main.lower() and "33.74" in main
    assert "Dasbor" in page.inner_text("nav")
    axe(page)
    screenshot(page, "konsol-pertama-masuk")

    # The cookie names the login; the tokens stay on the server.
    stored = cookie_of(one, env)
    assert set(stored) <= {"konsol", "csrf_token", "_flashes"}
    assert not any("eyJ" in str(value) for value in stored.values())

    # Logging out ends the login here and at the gateway; going back shows nothing of it.
    tab_to(page, ".konsol-nav button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/konsol/masuk")
    assert "Anda sudah keluar" in page.inner_text("main")
    page.go_back()
    assert "Sri Admin Semarang" not in page.content()
    assert "/konsol/masuk" in page.url

    # Logging in again: the password, then the code of the authenticator (the next one: the
    # one that confirmed the enrolment is spent).
    one.go("/konsol/masuk")
    type_into(page, "#username", admin["username"])
    type_into(page, "#password", OWN)
    page.keyboard.press("Enter")
    page.wait_for_url("**/konsol/masuk/kode")
    axe(page)
    type_into(page, "#kode_otp", "000000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#kode_otp-galat")
    type_into(page, "#kode_otp", totp.at(time.time() + 30))
    page.keyboard.press("Enter")
    page.wait_for_url("**/konsol")
    assert "Sri Admin Semarang" in page.inner_text("main")


def test_a_disabled_account_is_thrown_out_at_its_next_request(visit, api):
    petugas = with_own_password(api, opened(api))
    one = visit()
    one.go("/konsol/masuk")
    log_in(one.page, petugas["username"], OWN)
    one.page.wait_for_url("**/konsol")
    assert "Petugas" in one.page.inner_text("main") and "Akun" not in one.page.inner_text(".konsol-bagian")
    disabled = api.request("PATCH", f"/akun/{petugas['id']}", json={"aktif": False}, wilayah="33")
    assert disabled.status_code == 200, disabled.text

    def thrown_out():
        one.go("/konsol")
        return "/konsol/masuk" in one.page.url
    wait_until(thrown_out, "the disabled account thrown out", timeout=15)
    assert ENDED in one.page.inner_text("main")
    one.go("/konsol")
    assert "/konsol/masuk" in one.page.url  # nothing of the login is left


@pytest.fixture(scope="module")
def web_idle(env, logs, gateway):
    """A web app whose logins end after three seconds idle."""
    process, base = start_web(env, logs, gateway, name="web-idle", WEB_SESSION_IDLE_MINUTES="0.05")
    yield base
    process.stop()


def test_an_idle_login_ends(visit, api, web_idle, axe):
    petugas = with_own_password(api, opened(api))
    one = visit(web=web_idle)
    one.go("/konsol/masuk")
    log_in(one.page, petugas["username"], OWN)
    one.page.wait_for_url("**/konsol")
    for _ in range(3):  # busy: each request starts the idle clock again
        time.sleep(1.5)
        one.go("/konsol")
        assert one.page.url.endswith("/konsol")
    time.sleep(4)
    one.go("/konsol")
    assert "/konsol/masuk?next=/konsol" in one.page.url
    assert ENDED in one.page.inner_text("main")
    axe(one.page)


def test_a_reset_link_sets_a_new_password_and_the_holder_logs_in(visit, api, mailbox, logs, axe):
    petugas = opened(api)
    assert api.post(f"/akun/{petugas['id']}/reset", wilayah="33").status_code == 202
    address = petugas["email"]

    def email():
        return [m for rcpts, m in mailbox.about("Atur ulang kata sandi") if rcpts == [address]]
    wait_until(email, "the reset email", timeout=20)
    link = next(line for line in body_of(email()[0]).splitlines() if "/konsol/atur-sandi?token=" in line).strip()
    token = link.split("token=", 1)[1]

    one = visit()
    answer = one.go(f"/konsol/atur-sandi?token={token}")
    assert one.page.url.endswith("/konsol/atur-sandi") and token not in one.page.url
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert token not in one.page.content()
    axe(one.page)
    one.page.fill("#password_baru", "indonesia123")
    one.page.fill("#password_ulang", "indonesia123")
    one.page.click("button[type=submit]")
    assert one.page.inner_text("#password_baru-galat")  # too weak: said by the API, by its field
    one.page.fill("#password_baru", OWN)
    one.page.fill("#password_ulang", OWN)
    one.page.click("button[type=submit]")
    one.page.wait_for_url("**/konsol/masuk")
    assert "Kata sandi baru Anda tersimpan" in one.page.inner_text("main")
    log_in(one.page, petugas["username"], OWN)
    one.page.wait_for_url("**/konsol")  # the holder chose it: no change asked
    # Spent: the link again says so.
    one.go(f"/konsol/atur-sandi?token={token}")
    one.page.fill("#password_baru", "kerbau-di-sawah-hijau")
    one.page.fill("#password_ulang", "kerbau-di-sawah-hijau")
    one.page.click("button[type=submit]")
    assert "Tautan tidak berlaku" in one.page.inner_text("main")
    for path in Path(logs).glob("web*.log"):
        assert token not in path.read_text(errors="replace"), f"the reset token is in {path.name}"


def test_the_store_keeps_records_encrypted_under_hashed_ids_until_idle(tmp_path):
    from web.session import Sessions, SqliteBackend

    backend = SqliteBackend(tmp_path / "sesi.sqlite3")
    store = Sessions(backend, "kunci-rahasia-uji", idle_seconds=0.5)
    sid = store.new({"access": "eyJ.token.akses", "refresh": "rahasia-refresh"})
    assert store.get(sid) == {"access": "eyJ.token.akses", "refresh": "rahasia-refresh"}
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("sesi.sqlite3*"))
    assert b"eyJ.token" not in raw and b"rahasia-refresh" not in raw and sid.encode() not in raw
    assert Sessions(backend, "kunci-lain", idle_seconds=5).get(sid) is None  # another key reads nothing
    time.sleep(0.3)
    store.put(sid, store.get(sid))  # touched: the idle clock starts again
    time.sleep(0.3)
    assert store.get(sid) is not None
    time.sleep(0.6)
    assert store.get(sid) is None
    with store.locked(sid):  # a refresh's lock is the machine's: another open() waits for it
        pass


def test_a_shared_store_that_does_not_answer_is_a_503_not_a_failure(tmp_path):
    """WEB_SESSION_STORAGE_URI's Valkey away: the console says 'sedang gangguan', as when the gateway is."""
    from services.stack import free_port
    from web.gateway import Unavailable
    from web.session import Sessions, ValkeyBackend

    store = Sessions(ValkeyBackend(f"valkey://127.0.0.1:{free_port()}/1"), "kunci-rahasia-uji", idle_seconds=5)
    for attempt in (lambda: store.get("sesi-apa-saja"), lambda: store.new({"access": "a"}),
                    lambda: store.delete("sesi-apa-saja"), lambda: store.locked("sesi-apa-saja").__enter__()):
        with pytest.raises(Unavailable):
            attempt()
