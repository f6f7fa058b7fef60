"""The console end to end (issue 20, "What it must show"), in Debian's Chromium, in Kabupaten
Purbalingga (33.03): the main flow in one story with the keyboard alone — an admin logs in with
a one-time code and opens a petugas account; the petugas logs in, replaces the password given,
schedules a joint patrol, starts it, adds a photo, finishes it with its report and prints the
survey sheet, whose QR codes decode (OpenCV) to the portal's survey address; a citizen answers
one through that address, and the admin's dashboard counts the answer. Then a pemantau follows
every link of the console from its menu, through every section to each record's page, and finds
nothing that changes a record, and gets the refusal page when it opens a form by its address.
Every page passes axe-core and makes no request to another host (tests/web/conftest.py)."""
import re
import time
import uuid
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.nik import make_nik
from tests.web.conftest import GIVEN, OWN, enrolled, opened, tab_to, type_into, with_own_password
from tests.web.test_konsol_aspirasi import unit_of
from tests.web.test_konsol_dasbor import aspiration, shown_period, stat, text, values
from tests.web.test_konsol_kegiatan import WIB, a_photo, decoded_qr_codes, local, schedule

AREA = "33.03"  # Kabupaten Purbalingga
DISTRICT, VILLAGE = "33.03.02", "33.03.02.2001"  # Bukateja, Tidu


@pytest.fixture(scope="module")
def purbalingga(api, national_unit):
    unit_of(api, "provinsi", "33")
    return unit_of(api, "kabupaten_kota", AREA)


# The keyboard's ways through a page.

def enter(page):
    """Enter on the focused link, button or field, and the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page, selector):
    tab_to(page, selector, limit=80)
    enter(page)


def pick(page, selector, label):
    """A <select> chosen by typing the start of its option's text, as a keyboard does."""
    tab_to(page, selector, limit=80)
    page.keyboard.type(label)
    chosen = page.locator(selector).evaluate("select => select.selectedOptions[0].text")
    assert chosen.startswith(label), f"{selector}: typing {label!r} chose {chosen!r}"


def check_radio(page, name, value):
    """Into the radio group with Tab, along it with the arrow keys, checked with Space."""
    tab_to(page, f"input[name={name}]")
    for _ in range(10):
        if page.evaluate("() => document.activeElement.value") == value:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.is_checked(f"input[name={name}][value='{value}']")


def type_moment(page, selector, moment):
    """A datetime-local field, segment by segment in the layout of Chromium's own language
    (en-US here, whatever the page's locale): month, day, year, hour, minute, AM/PM."""
    tab_to(page, selector)
    page.keyboard.type(f"{moment:%m%d%Y}")
    page.keyboard.press("ArrowRight")  # the year takes up to six digits: it does not move on alone
    page.keyboard.type(f"{moment:%I%M}" + ("P" if moment.hour >= 12 else "A"))
    assert page.input_value(selector) == local(moment), "the browser's date layout is not en-US's"


def pick_area(page, *labels):
    """The cascading area picker (pilih-wilayah.js): each level's list arrives once the level
    above is chosen."""
    for level, label in enumerate(labels):
        select = f"#kode_wilayah-{level}"
        page.wait_for_function("(s) => document.querySelector(s)?.matches(':enabled:has(option + option)')",
                               arg=select)
        pick(page, select, label)


def month_row(page):
    """The dashboard's survey figures of this month (the table's last row): answers, trust, satisfaction."""
    return values(page, "#tren-indeks")[-1]


def test_the_main_flow_with_the_keyboard_alone(visit, api, env, purbalingga, axe):
    # An admin whose one-time code is enrolled, logging in with its password and then a code.
    admin = opened(api, "admin", AREA, nama="Sri Admin Purbalingga")
    totp = enrolled(api, admin, GIVEN)
    with_own_password(api, admin, totp)
    one = visit()
    page = one.page
    one.go("/konsol/masuk")
    axe(page)
    type_into(page, "#username", admin["username"])
    type_into(page, "#password", OWN)
    enter(page)
    assert page.url.endswith("/konsol/masuk/kode")
    axe(page)
    type_into(page, "#kode_otp", totp.at(time.time() + 30))  # the next one: now's was used
    enter(page)
    assert page.url.endswith("/konsol")
    assert page.get_by_role("heading", level=1).inner_text() == f"Dasbor Kabupaten Purbalingga {AREA}"
    answers_before, stat_before = int(month_row(page)[0]), int(stat(page, "Jawaban survei"))
    axe(page)

    # It opens a petugas account through the accounts section.
    follow(page, ".konsol-nav a[href$='/konsol/akun']")
    axe(page)
    follow(page, "main a[href$='/konsol/akun/baru']")
    axe(page)
    username = f"alur-{uuid.uuid4().hex[:8]}"
    type_into(page, "#nama", "Dwi Petugas Purbalingga")
    type_into(page, "#username", username)
    type_into(page, "#email", f"{username}@contoh.go.id")
    pick(page, "#role", "Petugas")
    pick(page, "#wilayah", "Kabupaten Purbalingga")
    type_into(page, "#password", GIVEN)
    enter(page)
    assert f"Akun {username} sudah dibuat" in page.inner_text(".pesan")
    axe(page)

    # The petugas logs in with the password given and is made to replace it first.
    petugas = visit()
    work = petugas.page
    petugas.go("/konsol/masuk")
    type_into(work, "#username", username)
    type_into(work, "#password", GIVEN)
    enter(work)
    assert work.url.endswith("/konsol/ganti-sandi")
    axe(work)
    type_into(work, "#password_lama", GIVEN)
    type_into(work, "#password_baru", OWN)
    type_into(work, "#password_ulang", OWN)
    enter(work)
    assert work.url.endswith("/konsol") and "Dwi Petugas Purbalingga" in work.inner_text(".akun-baris")
    axe(work)

    # A joint patrol scheduled for today, in Kemangkon.
    follow(work, ".konsol-nav a[href$='/konsol/kegiatan']")
    axe(work)
    follow(work, "main a[href$='/konsol/kegiatan/baru']")
    pick(work, "#unit_id", "BKPM Kabupaten Purbalingga")
    check_radio(work, "jenis", "patroli_bersama")
    assert work.locator("[data-jenis=patroli_bersama]").is_visible()
    type_into(work, "#judul", "Patroli bersama Alun-alun Purbalingga")
    start = datetime.now(WIB).replace(hour=8, minute=30, second=0, microsecond=0)
    type_moment(work, "#mulai", start)
    type_moment(work, "#selesai", start + timedelta(hours=3))
    pick_area(work, "Jawa Tengah", "Kabupaten Purbalingga", "Kemangkon")
    assert work.input_value("#kode_wilayah") == "33.03.01"
    type_into(work, "#alamat", "Balai Desa Kedungbenda")
    type_into(work, "#rute", "33.03.01\n-7.4402, 109.3012")
    axe(work)
    tab_to(work, "form[data-jenis-form] button[type=submit]")
    enter(work)
    assert "sudah dijadwalkan" in work.inner_text(".pesan")
    kegiatan_id = urlsplit(work.url).path.rsplit("/", 1)[1]
    assert "pukul 08.30 WIB" in work.inner_text(".facts") and "Kemangkon" in work.inner_text(".facts")
    axe(work)

    # Started, a photo added, finished with its report.
    follow(work, "form[action$='/mulai'] button")
    assert work.locator(".lencana.status-berlangsung").is_visible()
    axe(work)
    tab_to(work, "#berkas", limit=80)
    # Choosing the file is the operating system's dialog's work, which Playwright stands in for.
    work.set_input_files("#berkas", a_photo())
    follow(work, "form[action$='/foto'] button[type=submit]")
    work.wait_for_function("() => document.querySelector('.galeri img')?.naturalWidth === 400")
    follow(work, "a[href$='/selesai']")
    axe(work)
    type_into(work, "#jumlah_peserta", "4")
    type_into(work, "#ringkasan", "Patroli pagi di sekitar alun-alun bersama linmas dan pedagang.")
    tab_to(work, "main form.form button[type=submit]")
    enter(work)
    assert work.locator(".lencana.status-selesai").is_visible()
    assert "Patroli pagi di sekitar alun-alun" in work.inner_text("main")
    axe(work)

    # The survey sheet: its QR codes lead to the portal's survey address of the codes printed.
    follow(work, "a[href$='/survei']")
    printed = work.locator(".kartu-kode strong").all_inner_texts()
    assert len(printed) == 4
    axe(work)
    work.emulate_media(media="print")
    work.set_viewport_size({"width": 800, "height": 1100})
    portal = env.get("PORTAL_URL") or env["PUBLIC_URL"]
    expected = sorted(f"{portal}/survei/{kode}?kegiatan={kegiatan_id}" for kode in printed)
    assert decoded_qr_codes(work.screenshot(full_page=True)) == expected

    # A citizen answers through one of them, with the keyboard too.
    citizen = visit()
    address = urlsplit(expected[0])
    assert citizen.go(f"{address.path}?{address.query}").status == 200
    form = citizen.page
    axe(form)
    check_radio(form, "kepercayaan", "4")
    check_radio(form, "kepuasan", "3")
    form.wait_for_function("() => document.querySelector('input[name=altcha]')?.value", timeout=30_000)
    tab_to(form, "form[data-altcha-form] button[type=submit]")
    form.keyboard.press("Enter")
    form.get_by_role("heading", name="Terima kasih").wait_for()
    axe(form)

    # The admin's dashboard counts it in this month, as the API's summary does.
    follow(page, ".konsol-nav a[href$='/konsol']")
    summary = api.get("/rekap/kegiatan", params={**shown_period(page), "kode_wilayah": AREA, "rinci": "bulan"},
                      role="pemantau", wilayah=AREA)
    assert summary.status_code == 200, summary.text
    survei = summary.json()["rincian"][-1]["survei"]
    assert survei["jumlah_jawaban"] == answers_before + 1
    assert month_row(page) == [text(survei[name]) for name in ("jumlah_jawaban", "rata_kepercayaan", "rata_kepuasan")]
    assert int(stat(page, "Jawaban survei")) == stat_before + 1
    axe(page)


# What the pemantau must not find: a link or button to create or change a record.
EDITING = re.compile(r"\b(Jadwalkan|Angkat|Tambah|Ubah|Koreksi|Catat|Impor|Program baru|Akun|Buat|Daftarkan|Aktifkan|"
                     r"Tutup|Berhentikan|Keluarkan|Batalkan|Mulai|Selesaikan|Unggah|Lampirkan|Simpan|Tindak lanjut)\b")
EDITING_PATH = re.compile(r"/(baru|ubah|kontak|akhiri|tutup|batal|selesai|impor|nonaktifkan)$|^/konsol/akun")
# Not pages: downloads and an activity's photos.
FILES = re.compile(r"/unduh|/lampiran/")
# The person's own settings, theirs to change whatever their role: their password, their channels.
OWN_SETTINGS = {"/konsol/ganti-sandi", "/konsol/notifikasi/preferensi"}


def one_of_each(api, unit):
    """A ketua and a member of the unit, an activity, an aspiration, and a program with a
    recipient who received it; (activity, program, recipient)."""
    ketua = {"jabatan": "ketua", "nama": "Agus Ketua Purbalingga", "nrp": "76030512", "pangkat": "AKBP",
             "jabatan_polri": "Kapolres Purbalingga", "mulai": "2026-01-05"}
    for path, body in ((f"/units/{unit['id']}/pengurus", ketua),
                       (f"/units/{unit['id']}/anggota", {"nama": "Siti Anggota Bukateja", "kategori": "tokoh_agama"})):
        made = api.post(path, json=body)
        assert made.status_code == 201, made.text
    kegiatan = schedule(api, unit, "Dialog warga Bukateja", 0, kode_wilayah=DISTRICT)
    aspiration(api, DISTRICT)
    program = api.post("/bantuan/program", role="pengurus", wilayah=AREA, json={
        "nama": f"Sembako Purbalingga {uuid.uuid4().hex[:6]}", "jenis": "sembako", "unit_id": unit["id"],
        "mulai": date.today().isoformat(), "selesai": (date.today() + timedelta(days=60)).isoformat(), "kuota": 5,
        "wilayah_sasaran": [AREA]})
    assert program.status_code == 201, program.text
    program = program.json()
    assert api.post(f"/bantuan/program/{program['id']}/aktifkan", role="pengurus", wilayah=AREA).status_code == 200
    penerima = api.post("/bantuan/penerima", role="petugas", wilayah=AREA, json={
        "nik": make_nik(date(1975, 3, 14), True, region="330302", sequence=17), "no_kk": "3303020000000017",
        "nama": "Warga Tidu", "jenis_kelamin": "P", "tanggal_lahir": "1975-03-14", "kode_wilayah": VILLAGE,
        "alamat": "Dusun Tidu RT 02"})
    assert penerima.status_code == 201, penerima.text
    penerima = penerima.json()
    given = api.post("/bantuan/penyaluran", role="petugas", wilayah=AREA, json={
        "program_id": program["id"], "penerima_id": penerima["id"], "tanggal": date.today().isoformat(),
        "jenis_bukti": "tanda_tangan", "bukti": "TTD-ALUR-1"})
    assert given.status_code == 201, given.text
    return kegiatan, program, penerima


def links(page, origin):
    """The console's pages this page links to (no downloads, no other months or filters)."""
    found = set()
    for href in page.locator("a[href]").evaluate_all("links => links.map(link => link.href)"):
        address = urlsplit(href)
        if (f"{address.scheme}://{address.netloc}" == origin and address.path.startswith("/konsol")
                and not address.query and not FILES.search(address.path)):
            found.add(address.path)
    return found


def test_a_pemantau_reads_every_section_and_finds_no_edit_button(officer, api, purbalingga, axe):
    kegiatan, program, penerima = one_of_each(api, purbalingga)
    one, _ = officer("pemantau", AREA)
    page = one.page
    logout = page.locator("form.nav-form").evaluate("form => form.action")

    # Every page reached from the menu, link by link.
    waiting, seen = ["/konsol"], set()
    while waiting:
        path = waiting.pop(0)
        if path in seen:
            continue
        seen.add(path)
        assert one.go(path).status == 200, path
        axe(page)
        onward = links(page, one.origin)
        waiting += sorted(onward - seen)
        if path in OWN_SETTINGS:
            continue
        changing = page.locator("form").evaluate_all(
            "forms => forms.filter(form => form.method === 'post').map(form => form.action)")
        assert changing == [logout], f"{path}: forms that change something: {changing}"
        controls = [name.strip() for name in page.locator("a, button").all_inner_texts()]
        assert not [name for name in controls if EDITING.search(name)], f"{path}: {controls}"
        assert not [link for link in onward if EDITING_PATH.search(link)], f"{path}: {sorted(onward)}"

    # Each section, and the page of each kind of record, among them.
    records = {f"/konsol/unit/{purbalingga['id']}", f"/konsol/kegiatan/{kegiatan['id']}",
               f"/konsol/bantuan/program/{program['id']}", f"/konsol/bantuan/penerima/{penerima['id']}"}
    sections = {"/konsol", "/konsol/unit", "/konsol/kegiatan", "/konsol/aspirasi", "/konsol/bantuan",
                "/konsol/bantuan/penerima", "/konsol/notifikasi"}
    assert records | sections <= seen, sorted(seen)
    assert [path for path in seen if re.fullmatch(r"/konsol/aspirasi/[0-9a-f-]{36}", path)], sorted(seen)


def test_a_pemantau_opening_a_form_by_its_address_gets_the_refusal_page(officer, purbalingga, axe):
    one, _ = officer("pemantau", AREA)
    forms = ("/konsol/kegiatan/baru", f"/konsol/unit/{purbalingga['id']}/pengurus/baru", "/konsol/bantuan/program/baru",
             "/konsol/bantuan/penerima/baru", "/konsol/bantuan/impor", "/konsol/akun/baru")
    answers = {path: (one.go(path).status, "Tidak berwenang" in one.page.inner_text("main")) for path in forms}
    assert answers == {path: (403, True) for path in forms}
    axe(one.page)
