"""The console's notifications (issue 20) in Debian's Chromium: a petugas of Kabupaten Banyumas,
appointed wakil ketua with their account and then told of an activity of the unit, sees the
unread count in the menu, reads the inbox, marks a message read and the count drops; a channel
turned off in the preferences stays off after a reload. Every page passes axe-core
(tests/web/conftest.py). When the gateway cannot count, the menu shows no count, not an error."""
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from tests.support import wait_until
from web.gateway import Unavailable
from web.konsol import notifikasi
from tests.web.test_konsol_aspirasi import unit_of

WIB = timezone(timedelta(hours=7))


@pytest.fixture(scope="module")
def banyumas(api, national_unit):
    unit_of(api, "provinsi", "33")
    return unit_of(api, "kabupaten_kota", "33.02")


def told_twice(api, unit, account):
    """Two messages to the account's inbox: its appointment as wakil ketua of `unit` (with the
    account as their login, `akun`) and a dialog the unit schedules."""
    appointed = api.post(f"/units/{unit['id']}/pengurus", json={
        "jabatan": "wakil_ketua", "nama": account["nama"], "mulai": "2025-01-01", "akun": account["id"]})
    assert appointed.status_code == 201, appointed.text
    start = (datetime.now(WIB) + timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)
    scheduled = api.post("/kegiatan", json={
        "unit_id": unit["id"], "jenis": "dialog", "judul": "Dialog kamtibmas Lumbir", "mulai": start.isoformat(),
        "selesai": (start + timedelta(hours=2)).isoformat(),
        "lokasi": {"kode_wilayah": "33.02.01", "alamat": "Pendopo Kecamatan Lumbir"}})
    assert scheduled.status_code == 201, scheduled.text

    def inbox_total():
        return api.get("/notifikasi/inbox", role="petugas", wilayah="33.02", sub=account["id"]).json()["total"]
    wait_until(lambda: inbox_total() == 2, "two messages in the inbox")


def badge(page):
    return page.locator(".konsol-nav .badge").inner_text().strip()


def test_the_inbox_counts_the_unread_and_the_preferences_stay(officer, api, banyumas, axe, screenshot):
    one, account = officer("petugas", "33.02", nama="Wati Wakil Ketua Banyumas")
    page = one.page
    told_twice(api, banyumas, account)
    one.go("/konsol")
    assert badge(page) == "2"

    page.locator(".konsol-nav").get_by_role("link", name="Notifikasi").click()
    page.wait_for_url("**/konsol/notifikasi")
    messages = page.locator(".kotak-masuk > li")
    assert messages.count() == 2
    assert page.locator(".baru-badge").all_inner_texts() == ["Belum dibaca", "Belum dibaca"]
    titles = messages.locator("h2").all_inner_texts()
    assert any(title.startswith("Kegiatan BKPM dijadwalkan") for title in titles)
    assert any(title.startswith("Pengangkatan pengurus BKPM") for title in titles)
    opened = messages.filter(has_text="Kegiatan BKPM dijadwalkan")
    opened.locator("summary").click()
    assert "Pendopo Kecamatan Lumbir" in opened.locator(".teks").inner_text()
    axe(page)
    screenshot(page, "konsol-notifikasi")

    opened.get_by_role("button", name="Tandai sudah dibaca").click()
    page.wait_for_selector(".pesan:has-text('ditandai sudah dibaca')")
    assert badge(page) == "1"
    assert "Sudah dibaca" in messages.filter(has_text="Kegiatan BKPM dijadwalkan").inner_text()
    assert page.locator(".baru-badge").count() == 1
    axe(page)

    page.get_by_role("link", name="Belum dibaca (1)").click()
    page.wait_for_url("**/konsol/notifikasi?belum=ya")
    assert [title.split(":")[0] for title in messages.locator("h2").all_inner_texts()] == [
        "Pengangkatan pengurus BKPM"]

    page.get_by_role("link", name="Atur kanal pemberitahuan").click()
    page.wait_for_url("**/konsol/notifikasi/preferensi")
    assert all(box.is_checked() for box in page.locator("input[type=checkbox]").all())  # nothing turned off yet
    page.get_by_label("WhatsApp").uncheck()
    page.get_by_role("button", name="Simpan preferensi").click()
    page.wait_for_selector(".pesan:has-text('Preferensi notifikasi Anda tersimpan')")
    page.reload()
    assert not page.get_by_label("WhatsApp").is_checked()
    assert page.get_by_label("Email").is_checked() and page.get_by_label("Terima pemberitahuan").is_checked()
    kanal = api.get("/notifikasi/preferensi", role="petugas", wilayah="33.02", sub=account["id"]).json()["kanal"]
    assert kanal["whatsapp"] is False and kanal["email"] is True
    axe(page)
    screenshot(page, "konsol-notifikasi-preferensi")


def test_no_count_rather_than_no_page_when_the_gateway_cannot_say(monkeypatch):
    def down(*args, **kwargs):
        raise Unavailable("the gateway did not answer")
    monkeypatch.setattr(notifikasi, "call", down)
    with Flask(__name__).test_request_context():
        assert notifikasi.unread() == 0
