"""The console's Social aid section (issue 20) in Debian's Chromium, in Kota Tegal (33.76): a
petugas imports a CSV of recipients and watches its progress reach 100 % with the refused rows
listed, registers and corrects a recipient, finds one by NIK, and records distributions with a
photo until the program's quota is used up and the page says so; a pengurus creates, activates,
corrects and closes a program through its pages; a pemantau reads the programs and is offered
no button to change them. Every page passes axe-core (tests/web/conftest.py)."""
import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.nik import make_nik
from tests.support import TINGKAT_OF_DEPTH

KOTA = "33.76"
VILLAGE = "33.76.01.1001"  # Pesurungan Kidul, Tegal Barat
OTHER_VILLAGE = "33.74.01.1001"  # Kota Semarang: outside the officers' area
COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")
TODAY = date.today()


def unit(api, kode):
    """The unit of `kode`, formed now or already by another test of the session."""
    formed = api.post("/units", json={"tingkat": TINGKAT_OF_DEPTH[kode.count(".") + 1], "kode_wilayah": kode})
    assert formed.status_code in (201, 409), formed.text
    return formed.json()["id"] if formed.status_code == 201 else formed.json()["unit_id"]


@pytest.fixture(scope="module")
def kota(api, national_unit):
    unit(api, "33")
    return unit(api, KOTA)


def person(n, **fields):
    """A recipient of Kota Tegal, their NIK issued there (33.76.01) by the rules of tests/nik.py."""
    born = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    female = n % 2 == 1
    return {"nik": make_nik(born, female, region="337601", sequence=1 + n), "no_kk": f"3376{n:012d}",
            "nama": f"Warga Tegal {n}", "jenis_kelamin": "P" if female else "L", "tanggal_lahir": born.isoformat(),
            "kode_wilayah": VILLAGE, "alamat": f"Jl. Kapten Sudibyo No. {n}", **fields}


def program(api, kota, kuota, **fields):
    body = {"nama": f"Sembako Tegal {uuid.uuid4().hex[:6]}", "jenis": "sembako", "unit_id": kota,
            "mulai": TODAY.isoformat(), "selesai": (TODAY + timedelta(days=60)).isoformat(), "kuota": kuota,
            "wilayah_sasaran": [KOTA], **fields}
    made = api.post("/bantuan/program", json=body, role="pengurus", wilayah=KOTA)
    assert made.status_code == 201, made.text
    activated = api.post(f"/bantuan/program/{made.json()['id']}/aktifkan", role="pengurus", wilayah=KOTA)
    assert activated.status_code == 200, activated.text
    return activated.json()


def registered(api, n):
    made = api.post("/bantuan/penerima", json=person(n), role="petugas", wilayah=KOTA)
    assert made.status_code == 201, made.text
    return made.json()


def photo():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return {"name": "penyaluran.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def csv_file(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {"name": "penerima.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode()}


def test_a_recorder_imports_finds_and_distributes_until_the_quota_is_used_up(officer, api, kota, axe, screenshot):
    one, _ = officer("petugas", KOTA)
    page = one.page

    # A CSV of 300 rows: one NIK that is no date, one village outside Kota Tegal, one NIK twice.
    rows = [person(n) for n in range(1000, 1300)]
    rows[10] = {**rows[10], "nik": rows[10]["nik"][:6] + "999999" + rows[10]["nik"][12:]}
    rows[20] = {**rows[20], "kode_wilayah": OTHER_VILLAGE}
    rows[30] = rows[31]
    one.go("/konsol/bantuan/impor")
    axe(page)
    page.set_input_files("#berkas", csv_file(rows))
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/konsol/bantuan/impor/*")
    job_page = page.url
    expect(page.locator(".persen")).to_have_text("100 %", timeout=60_000)  # htmx polls the job each second
    assert page.url == job_page
    assert page.get_attribute("#kemajuan-batang", "value") == "100"
    refused = page.locator("table.ditolak tbody tr")
    expect(refused).to_have_count(3)
    table = page.inner_text("table.ditolak")
    assert refused.locator("td:first-child").all_inner_texts() == ["12", "22", "33"]
    assert "tanggal lahir" in table and "di luar wilayah Anda" in table and "muncul lebih dari sekali" in table
    assert "297" in page.inner_text(".ringkasan")
    axe(page)
    screenshot(page, "konsol-bantuan-impor")
    with page.expect_download() as download:
        page.click("text=Unduh baris yang ditolak")
    lines = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert lines[0] == "baris,kolom,alasan" and len(lines) == 4 and lines[1].startswith("12,nik,")

    # Registering one by the page, then correcting it: a NIK is answered with what to do instead.
    one.go("/konsol/bantuan/penerima/baru")
    newcomer = person(1500)
    for name in ("nik", "no_kk", "nama", "tanggal_lahir", "kode_wilayah", "alamat"):
        page.fill(f"#{name}", newcomer[name])
    page.check(f"input[name=jenis_kelamin][value={newcomer['jenis_kelamin']}]")
    axe(page)
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Penerima sudah terdaftar.")
    assert newcomer["nik"] in page.inner_text(".facts")
    page.click("text=Koreksi data")
    page.fill("#nik", person(1501)["nik"])
    page.fill("#alamat", "Jl. Gajah Mada No. 9")
    page.click("form.form button[type=submit]")
    assert "NIK tidak dapat diubah" in page.inner_text("#nik-galat")
    axe(page)
    page.fill("#nik", newcomer["nik"])
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Data penerima sudah dikoreksi.")
    assert "Jl. Gajah Mada No. 9" in page.inner_text(".facts")

    # A program of two: reached from its page, its recipients found by NIK.
    aid = program(api, kota, kuota=2)
    one.go(f"/konsol/bantuan/program/{aid['id']}")
    page.click("text=Catat penyaluran")
    page.wait_for_url("**/konsol/bantuan/penerima?program_id=*")
    first = rows[100]
    page.fill("#nomor", first["nik"])
    page.click("form[role=search] button[type=submit]")
    assert first["nik"] not in page.url
    expect(page.locator("#hasil-judul")).to_contain_text("1 penerima")
    assert first["nama"] in page.inner_text(".hasil")
    axe(page)
    screenshot(page, "konsol-bantuan-cari")

    page.click(".hasil >> text=Catat penyaluran")
    page.wait_for_url("**/konsol/bantuan/penyaluran/baru?*")
    assert page.input_value("#program_id") == aid["id"]
    page.fill("#bukti", "VCR-TGL-001")
    page.set_input_files("#foto", photo())
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Penyaluran sudah dicatat dengan fotonya.")
    assert "penyaluran.jpg" in page.inner_text(".penyaluran-daftar")

    def distribute(nik, bukti):
        found = api.post("/bantuan/penerima/cari", json={"nik": nik}, role="petugas", wilayah=KOTA).json()
        one.go(f"/konsol/bantuan/penyaluran/baru?penerima_id={found['items'][0]['id']}&program_id={aid['id']}")
        page.fill("#bukti", bukti)
        page.set_input_files("#foto", photo())
        page.click("form.form button[type=submit]")

    distribute(first["nik"], "VCR-TGL-002")  # the same household again
    assert "sudah menerima bantuan dari program ini" in page.inner_text(".alert")
    distribute(rows[101]["nik"], "VCR-TGL-003")
    page.wait_for_selector("text=Penyaluran sudah dicatat dengan fotonya.")
    distribute(rows[102]["nik"], "VCR-TGL-004")
    alert = page.locator(".alert[role=alert]")
    expect(alert).to_contain_text("Kuota program sudah habis.")
    assert page.input_value("#bukti") == "VCR-TGL-004"  # what was typed stays
    axe(page)
    screenshot(page, "konsol-bantuan-penyaluran")
    one.go(f"/konsol/bantuan/program/{aid['id']}")
    assert "Kuota program sudah habis" in page.inner_text("main")
    assert "Ubah kuota" not in page.inner_text("main")  # a petugas records; a pengurus manages


def test_a_pengurus_creates_activates_raises_the_quota_of_and_closes_a_program(officer, api, kota, axe, screenshot):
    one, _ = officer("pengurus", KOTA)
    page = one.page
    one.go("/konsol/bantuan")
    page.click("text=Program baru")
    nama = f"Pengobatan Gratis Tegal {uuid.uuid4().hex[:6]}"
    page.fill("#nama", nama)
    page.select_option("#jenis", "pengobatan_gratis")
    page.fill("#selesai", (TODAY + timedelta(days=30)).isoformat())
    page.fill("#kuota", "2")
    assert page.input_value("#wilayah_sasaran") == KOTA
    axe(page)
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Program dibuat sebagai draf.")
    assert "Draf" in page.inner_text(".event-kind")
    page.click("text=Aktifkan program")
    page.wait_for_selector("text=Program sudah aktif")
    program_id = page.url.rsplit("/", 1)[1]
    for n in (2000, 2001):
        given = api.post("/bantuan/penyaluran", role="petugas", wilayah=KOTA, json={
            "program_id": program_id, "penerima_id": registered(api, n)["id"], "tanggal": TODAY.isoformat(),
            "jenis_bukti": "tanda_tangan", "bukti": f"TTD-{n}"})
        assert given.status_code == 201, given.text
    page.reload()
    assert "Kuota program sudah habis" in page.inner_text("main")
    axe(page)
    screenshot(page, "konsol-bantuan-program")

    # Lowered below what was given: the API's refusal by the quota; raised: distributions open again.
    page.click("text=Ubah kuota atau tanggal")
    page.fill("#kuota", "1")
    page.click("form.form button[type=submit]")
    assert "tidak boleh kurang dari yang sudah tersalur (2)" in page.inner_text("#kuota-galat")
    assert page.get_attribute("#kuota", "aria-invalid") == "true"
    axe(page)
    page.fill("#kuota", "5")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Program sudah dikoreksi.")
    assert [line.strip() for line in page.locator(".ringkasan .stat-value").all_inner_texts()] == ["5", "2", "3"]

    page.click("text=Tutup program")
    page.wait_for_url("**/tutup")
    axe(page)
    page.click("text=Ya, tutup program")
    page.wait_for_selector("text=Program sudah ditutup.")
    assert "Ditutup" in page.inner_text(".event-kind") and "Ubah kuota" not in page.inner_text("main")


def test_a_pemantau_sees_the_programs_and_no_button_to_change_them(officer, api, kota, axe):
    aid = program(api, kota, kuota=3)
    one, _ = officer("pemantau", KOTA)
    page = one.page
    one.go("/konsol/bantuan")
    assert aid["nama"] in page.inner_text("main") and "Program baru" not in page.inner_text("main")
    axe(page)
    page.click(f"text={aid['nama']}")
    page.wait_for_url(f"**/konsol/bantuan/program/{aid['id']}")
    buttons = page.inner_text(".tombol-baris")
    for action in ("Aktifkan", "Ubah kuota", "Tutup program", "Catat penyaluran"):
        assert action not in buttons
    axe(page)
    one.go("/konsol/bantuan/penerima")
    assert page.locator("form[role=search]").count() == 0 and "Impor" not in page.inner_text(".bantuan-menu")
    axe(page)
