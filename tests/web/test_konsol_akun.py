"""The console's accounts section (issue 20) in Debian's Chromium: an admin of Kota Surakarta,
logged in with its one-time code, opens a petugas account through the page (a common password
refused by its field first), and the petugas logs in with the password given, made to replace it,
and finds no accounts section; the admin changes the account's role, emails its holder a reset
link and disables it after a confirm step, and the disabled account is refused at login. Every
page passes axe-core and makes no request to another host."""
import uuid

from tests.support import wait_until
from tests.web.conftest import OWN, log_in

GIVEN = "gamelan-di-pendapa-solo"


def test_an_admin_opens_changes_resets_and_disables_an_account(officer, visit, mailbox, axe, screenshot):
    one, _ = officer("admin", "33.72", nama="Rudi Admin Surakarta")
    page = one.page
    page.click("nav >> text=Akun")
    page.wait_for_url("**/konsol/akun")
    axe(page)

    # A petugas account opened through the form: the API's password rules said by the field.
    page.click("text=Buat akun")
    page.wait_for_url("**/konsol/akun/baru")
    axe(page)
    username = f"dewi-{uuid.uuid4().hex[:8]}"
    email = f"{username}@contoh.go.id"
    page.fill("#nama", "Dewi Petugas Surakarta")
    page.fill("#username", username)
    page.fill("#email", email)
    page.fill("#telepon", "081234567890")
    page.select_option("#role", "petugas")
    page.select_option("#wilayah", "33.72")
    page.fill("#password", GIVEN)
    screenshot(page, "konsol-akun-baru")
    page.fill("#password", "indonesia123")
    page.click("main .form button[type=submit]")
    assert "terlalu umum" in page.inner_text("#password-galat")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    assert page.input_value("#username") == username and page.input_value("#password") == ""
    axe(page)
    page.fill("#password", GIVEN)
    page.click("main .form button[type=submit]")
    page.wait_for_url("**/konsol/akun/*")
    assert f"Akun {username} sudah dibuat" in page.inner_text(".pesan")
    account_page = page.url
    axe(page)
    page.click("text=Kembali ke daftar akun")
    row = page.locator("tr", has_text="Dewi Petugas Surakarta").inner_text()
    assert "Petugas" in row and "Kota Surakarta" in row and "Belum pernah" in row
    screenshot(page, "konsol-akun-daftar")

    # The petugas logs in with the password given, replaces it, and has no accounts section.
    two = visit()
    two.go("/konsol/masuk")
    log_in(two.page, username, GIVEN)
    two.page.wait_for_url("**/konsol/ganti-sandi")
    two.page.fill("#password_lama", GIVEN)
    two.page.fill("#password_baru", OWN)
    two.page.fill("#password_ulang", OWN)
    two.page.click("main .form button[type=submit]")
    two.page.wait_for_url("**/konsol")
    assert "Akun" not in two.page.inner_text("nav")
    refused = two.go("/konsol/akun")
    assert refused.status == 403 and "Tidak berwenang" in two.page.inner_text("main")
    axe(two.page)

    # Its role changed.
    page.goto(account_page)
    page.select_option("#role", "pemantau")
    page.click("text=Simpan peran")
    assert "Peran Dewi Petugas Surakarta sekarang Pemantau" in page.inner_text(".pesan")
    assert "Pemantau" in page.inner_text(".facts")

    # A reset link emailed to the holder.
    page.click("text=Kirim tautan atur ulang kata sandi")
    assert f"Tautan atur ulang sudah dikirim ke email {email}" in page.inner_text(".pesan")
    wait_until(lambda: [m for rcpts, m in mailbox.about("Atur ulang kata sandi") if rcpts == [email]],
               "the reset email", timeout=20)

    # Disabled after a confirm step: refused at login.
    page.click("text=Nonaktifkan akun")
    page.wait_for_url("**/nonaktifkan")
    axe(page)
    page.click("text=Ya, nonaktifkan akun")
    page.wait_for_url(account_page)
    assert "dinonaktifkan" in page.inner_text(".pesan") and "Nonaktif" in page.inner_text(".facts")
    axe(page)
    three = visit()
    three.go("/konsol/masuk")
    log_in(three.page, username, OWN)
    three.page.wait_for_selector("#password-galat")
    assert "Nama pengguna atau kata sandi salah." in three.page.inner_text("#password-galat")
