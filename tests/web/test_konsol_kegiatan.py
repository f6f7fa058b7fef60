"""The console's Activities (issue 20), in Debian's Chromium at phone width: a petugas of Kota
Salatiga schedules a joint patrol through the form (a mistake said by its field), finds it in the
calendar and the list, reschedules it (and is told when someone changed it meanwhile), starts it,
records a participant and a photo, finishes it with its report and prints its survey codes: every
QR code on the print page decodes (OpenCV) to the portal's survey address with the code printed
under it, and a citizen answers the survey through one. Another activity is cancelled with a
reason; a pemantau reads the activities and sees no button to change them. Every page passes
axe-core and makes no request to another host (tests/web/conftest.py)."""
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import cv2
import numpy
import pytest
from PIL import Image

WIB = timezone(timedelta(hours=7))  # Kota Salatiga's clock


@pytest.fixture(scope="module")
def salatiga(api, national_unit):
    """Kota Salatiga's unit, below Jawa Tengah's (which other modules may have formed already)."""
    province = api.post("/units", json={"tingkat": "provinsi", "kode_wilayah": "33"})
    assert province.status_code in (201, 409), province.text
    made = api.post("/units", json={"tingkat": "kabupaten_kota", "kode_wilayah": "33.73"})
    assert made.status_code == 201, made.text
    return made.json()


def schedule(api, unit, judul, days, kode_wilayah="33.73.02"):
    start = (datetime.now(WIB) + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    body = {"unit_id": unit["id"], "jenis": "dialog", "judul": judul, "mulai": start.isoformat(),
            "selesai": (start + timedelta(hours=2)).isoformat(),
            "lokasi": {"kode_wilayah": kode_wilayah, "alamat": "Balai Kelurahan"}}
    made = api.post("/kegiatan", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def local(moment):
    """As a `datetime-local` field takes it."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def a_photo():
    """A JPEG larger than any other form the web app takes (64 KiB): noise does not compress."""
    picture = io.BytesIO()
    noise = numpy.random.default_rng(7).integers(0, 256, (300, 400, 3), dtype=numpy.uint8)
    Image.fromarray(noise).save(picture, "JPEG", quality=95)
    assert picture.tell() > 64 * 1024
    return {"name": "patroli-pasar.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}


def decoded_qr_codes(png):
    """What every QR code in a screenshot says. OpenCV's ArUco-based detector: on a sheet of a
    dozen codes the classic one misses a code or two in some runs (it pairs the finder patterns
    of neighbouring codes), as a phone's camera, reading one card at a time, does not."""
    image = cv2.imdecode(numpy.frombuffer(png, numpy.uint8), cv2.IMREAD_GRAYSCALE)
    found, texts, _, _ = cv2.QRCodeDetectorAruco().detectAndDecodeMulti(image)
    assert found, "no QR code found on the print page"
    return sorted(texts)


def test_a_patrol_is_scheduled_held_finished_and_its_survey_answered_through_a_printed_qr_code(
        officer, visit, api, env, salatiga, axe, screenshot):
    one, _ = officer("petugas", "33.73", nama="Sari Petugas Salatiga")
    page = one.page
    start = (datetime.now(WIB) + timedelta(days=2)).replace(hour=19, minute=0, second=0, microsecond=0)

    # The form: the patrol's own fields show once the kind is chosen; a finish before the start
    # is refused by its field, with what was typed kept.
    one.go("/konsol/kegiatan")
    page.get_by_role("link", name="Jadwalkan kegiatan").click()
    page.wait_for_url("**/konsol/kegiatan/baru")
    assert page.locator("[data-jenis]").evaluate_all("sets => sets.every(set => set.hidden)")
    page.get_by_label("Patroli bersama").check()
    assert page.locator("[data-jenis=patroli_bersama]").is_visible()
    assert page.locator("[data-jenis=penyuluhan]").is_hidden()
    page.fill("#judul", "Patroli bersama Pasar Raya")
    page.fill("#mulai", local(start))
    page.fill("#selesai", local(start - timedelta(hours=1)))
    page.select_option("#kode_wilayah-0", "33")
    page.select_option("#kode_wilayah-1", "33.73")
    page.select_option("#kode_wilayah-2", "33.73.01")
    page.fill("#alamat", "Pasar Raya, Jl. Jenderal Sudirman")
    page.fill("#rute", "33.73.01\n-7.3305, 110.5084")
    axe(page)
    screenshot(page, "konsol-kegiatan-baru")
    page.get_by_role("button", name="Jadwalkan").click()
    page.wait_for_selector("#selesai-galat")
    assert "setelah waktu mulai" in page.inner_text("#selesai-galat")
    assert page.get_attribute("#selesai", "aria-invalid") == "true"
    assert page.input_value("#judul") == "Patroli bersama Pasar Raya"
    assert page.locator("[data-jenis=patroli_bersama]").is_visible()
    axe(page)
    page.fill("#selesai", local(start + timedelta(hours=3)))
    page.get_by_role("button", name="Jadwalkan").click()
    page.wait_for_selector(".pesan")
    assert "sudah dijadwalkan" in page.inner_text(".pesan")
    kegiatan_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    main = page.inner_text("main")
    assert "Direncanakan" in main and "pukul 19.00 WIB" in main and "Sidorejo" in main and "-7.3305" in main
    axe(page)

    # In the calendar of its month, on its day, and in the list of planned patrols.
    one.go(f"/konsol/kegiatan?bulan={start:%Y-%m}")
    day = page.locator(".hari", has=page.get_by_role("link", name="Patroli bersama Pasar Raya"))
    assert "19.00 WIB" in day.inner_text() and f"{start.day}" in day.locator("h3").inner_text()
    axe(page)
    page.set_viewport_size({"width": 1024, "height": 900})  # the grid of weeks
    axe(page)
    screenshot(page, "konsol-kegiatan-kalender")
    page.set_viewport_size({"width": 360, "height": 740})
    page.get_by_role("link", name="Daftar").click()
    page.select_option("#jenis", "patroli_bersama")
    page.select_option("#status", "direncanakan")
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_url("**/daftar?*")
    assert page.get_by_role("link", name="Patroli bersama Pasar Raya").is_visible()
    axe(page)

    # Rescheduled an hour later; a change someone made meanwhile is said, and shown.
    page.get_by_role("link", name="Patroli bersama Pasar Raya").click()
    page.get_by_role("link", name="Jadwalkan ulang").click()
    assert page.input_value("#mulai") == local(start)
    axe(page)
    changed = api.request("PATCH", f"/kegiatan/{kegiatan_id}", json={"judul": "Patroli bersama Pasar Raya Salatiga"},
                        headers={"If-Match": "*"})
    assert changed.status_code == 200, changed.text
    page.fill("#mulai", local(start + timedelta(hours=1)))
    page.fill("#selesai", local(start + timedelta(hours=4)))
    page.get_by_role("button", name="Simpan jadwal").click()
    assert "sudah diubah orang lain" in page.inner_text(".alert")
    assert page.input_value("#judul") == "Patroli bersama Pasar Raya Salatiga"
    page.fill("#mulai", local(start + timedelta(hours=1)))
    page.fill("#selesai", local(start + timedelta(hours=4)))
    page.get_by_role("button", name="Simpan jadwal").click()
    page.wait_for_selector(".pesan")
    assert "pukul 20.00 WIB" in page.inner_text(".facts")

    # Started: it can no longer be rescheduled; a participant and a photo are recorded.
    page.get_by_role("button", name="Mulai kegiatan").click()
    page.wait_for_selector(".lencana.status-berlangsung")
    assert page.get_by_role("link", name="Jadwalkan ulang").count() == 0
    page.fill("#nama", "Wahyu Santoso")
    page.select_option("#unsur", "tokoh_agama")
    page.get_by_role("button", name="Catat peserta").click()
    page.wait_for_selector(".pesan")
    assert "Wahyu Santoso" in page.inner_text("table") and "Tokoh agama" in page.inner_text("table")
    page.set_input_files("#berkas", a_photo())
    page.get_by_role("button", name="Unggah").click()
    page.wait_for_selector(".galeri img")
    page.wait_for_function("() => document.querySelector('.galeri img').naturalWidth === 400")
    axe(page)

    # Finished with its report: a survey code for each of the four who came.
    page.get_by_role("link", name="Selesaikan dengan laporan").click()
    assert page.input_value("#jumlah_peserta") == "1"  # the participants recorded, to start from
    page.fill("#jumlah_peserta", "4")
    page.fill("#ringkasan", "Patroli malam di sekitar pasar bersama linmas dan pedagang.")
    page.fill("#temuan-0-kategori", "Penerangan jalan")
    page.fill("#temuan-0-tindak_lanjut", "Diusulkan kepada kelurahan untuk dipasang lampu.")
    axe(page)
    screenshot(page, "konsol-kegiatan-selesai")
    page.get_by_role("button", name="Selesaikan kegiatan").click()
    page.wait_for_selector(".lencana.status-selesai")
    assert "Penerangan jalan" in page.inner_text("main")

    # The survey sheet: every QR code leads to the portal's address of the code printed under it.
    page.get_by_role("link", name="Cetak kode survei").click()
    page.wait_for_url("**/survei")
    printed = page.locator(".kartu-kode strong").all_inner_texts()
    assert len(printed) == 4 and all(page.locator(".kartu-kegiatan").all_inner_texts()[0].endswith(kegiatan_id)
                                     for _ in printed)
    axe(page)
    screenshot(page, "konsol-kegiatan-survei")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 800, "height": 1100})
    portal = env.get("PORTAL_URL") or env["PUBLIC_URL"]
    expected = sorted(f"{portal}/survei/{kode}?kegiatan={kegiatan_id}" for kode in printed)
    assert decoded_qr_codes(page.screenshot(full_page=True)) == expected

    # A citizen answers through one of them, and is thanked.
    citizen = visit()
    address = urlsplit(expected[0])
    assert citizen.go(f"{address.path}?{address.query}").status == 200
    trust, satisfaction = citizen.page.locator("fieldset.scale").all()
    trust.get_by_role("radio", name="4 Tinggi", exact=True).check()
    satisfaction.get_by_role("radio", name="3 Cukup", exact=True).check()
    citizen.page.wait_for_function("() => document.querySelector('input[name=altcha]')?.value", timeout=30_000)
    citizen.page.get_by_role("button", name="Kirim jawaban").click()
    assert citizen.page.get_by_role("heading", name="Terima kasih").is_visible()
    page.emulate_media(media="screen")
    page.reload()
    assert page.locator(".kartu-survei").count() == 3 and "1 sudah dipakai" in page.inner_text("main")


def test_an_activity_is_cancelled_with_a_reason_and_a_pemantau_changes_nothing(officer, api, salatiga, axe):
    cancelled = schedule(api, salatiga, "Dialog warga Tingkir", 4)
    planned = schedule(api, salatiga, "Dialog warga Argomulyo", 5)
    one, _ = officer("petugas", "33.73")
    page = one.page
    one.go(f"/konsol/kegiatan/{cancelled['id']}")
    page.get_by_role("link", name="Batalkan kegiatan").click()
    axe(page)
    page.fill("#alasan", "Balai kelurahan dipakai untuk posko banjir.")
    page.get_by_role("button", name="Batalkan kegiatan").click()
    page.wait_for_selector(".lencana.status-dibatalkan")
    assert "posko banjir" in page.inner_text(".facts")
    assert page.get_by_role("button", name="Mulai kegiatan").count() == 0
    assert page.locator("form[action$='/peserta']").count() == 0
    axe(page)

    watcher, _ = officer("pemantau", "33.73")
    page = watcher.page
    watcher.go("/konsol/kegiatan/daftar")
    assert page.get_by_role("link", name="Dialog warga Argomulyo").is_visible()
    assert page.get_by_role("link", name="Dialog warga Tingkir").is_visible()
    assert page.get_by_role("link", name="Jadwalkan kegiatan").count() == 0
    axe(page)
    watcher.go(f"/konsol/kegiatan/{planned['id']}")
    assert "Dialog warga Argomulyo" in page.inner_text("h1")
    assert page.locator(".tombol-baris").count() == 0 and page.locator("main form").count() == 0
    axe(page)
    assert watcher.go("/konsol/kegiatan/baru").status == 403
