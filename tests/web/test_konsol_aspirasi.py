"""The console's aspirations (issue 20) in Debian's Chromium: a petugas of Kabupaten Banyumas sees
the regency's cases with the nearest deadline first and a late one marked, opens it, verifies it
with an internal note and answers it publicly; the portal's tracking page then shows the answer
and never the note. A pemantau of a district sees the case, not its confidential reporter, and no
follow-up form. Every page passes axe-core (tests/web/conftest.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.mongo import connect
from tests.support import wait_until
from tests.web.conftest import a_visitor

CATATAN_INTERNAL = "Catatan kerja: cek lokasi bersama Bhabinkamtibmas Wangon."
JAWABAN_PUBLIK = "Jembatan sudah kami laporkan ke DPU Banyumas; perbaikan dijadwalkan bulan ini."


def unit_of(api, tingkat, kode):
    """The unit of `kode`, formed here or by another module of the run before."""
    made = api.post("/units", json={"tingkat": tingkat, "kode_wilayah": kode})
    if made.status_code == 409 and made.json().get("code") == "unit_sudah_ada":
        return api.get(f"/units/{made.json()['unit_id']}").json()
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture(scope="module")
def banyumas(api, national_unit):
    unit_of(api, "provinsi", "33")
    return unit_of(api, "kabupaten_kota", "33.02")


def send(api, kode_wilayah, kategori, isi, **extra):
    """An aspiration as a citizen sends it (a visitor of its own: the anonymous rate limit
    counts per address), as the API lists it."""
    receipt = api.post("/aspirasi", role=None, headers=a_visitor(),
                       json={"kode_wilayah": kode_wilayah, "kategori": kategori, "isi": isi, **extra})
    assert receipt.status_code == 201, receipt.text
    listed = api.get("/aspirasi", params={"kode_prefix": "33.02", "per_page": 200}).json()["items"]
    return next(item for item in listed if item["nomor_tiket"] == receipt.json()["nomor_tiket"])


@pytest.fixture(scope="module")
def cases(api, banyumas, env):
    """Two cases handled by Banyumas: the older one, kept confidential, missed its verification
    deadline (moved an hour back with the inbox's stored order, not the clock three working days
    on); the newer one did not."""
    late = send(api, "33.02.02", "keluhan", "Jembatan gantung di Desa Klapagading rusak; anak sekolah terpaksa "
                "menyeberang sungai.", rahasia=True, pelapor={"nama": "Bu Ratna", "telepon": "081355556666"})
    fresh = send(api, "33.02.05", "masukan", "Usul ronda malam bergilir di Kebasen menjelang hari raya.",
                 pelapor={"nama": "Pak Darso"})
    client = connect(env["MONGO_URI"])
    try:
        an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
        client[f"{env['BKPM_DB_PREFIX']}_kegiatan"].aspirasi.update_one(
            {"_id": late["id"]}, {"$set": {"batas_verifikasi": an_hour_ago, "tenggat_berikut": an_hour_ago}})
    finally:
        client.close()
    wait_until(lambda: api.get(f"/aspirasi/{late['id']}").json()["terlambat"] == ["verifikasi"], "the late flag")
    return {"late": late, "fresh": fresh}


def tickets(page):
    return [text.strip() for text in page.locator(".kasus h2").all_inner_texts()]


def follow_up(page, status, catatan, reader):
    page.get_by_label(status, exact=True).check()
    page.fill("#catatan", catatan)
    page.get_by_label(reader).check()
    page.get_by_role("button", name="Simpan tindak lanjut").click()
    page.wait_for_selector(".pesan:has-text('Tindak lanjut tersimpan')")


def test_a_petugas_answers_a_late_case_and_the_reporter_reads_only_the_answer(
        officer, visit, api, cases, axe, screenshot):
    late, fresh = cases["late"], cases["fresh"]
    one, _ = officer("petugas", "33.02", nama="Rudi Petugas Banyumas")
    page = one.page
    one.go("/konsol/aspirasi")
    # The nearest deadline first (the API's order), though the late one is the older: on top, said in words.
    assert "Diurutkan menurut tenggat terdekat" in page.inner_text(".lead")
    assert tickets(page) == [late["nomor_tiket"], fresh["nomor_tiket"]]
    cards = page.locator(".kasus")
    assert "Terlambat" in cards.nth(0).inner_text() and "(terlewati)" in cards.nth(0).inner_text()
    assert "Terlambat" not in cards.nth(1).inner_text()
    assert "Wangon" in cards.nth(0).inner_text() and "Kebasen" in cards.nth(1).inner_text()
    axe(page)
    screenshot(page, "konsol-aspirasi")

    page.get_by_label("Hanya yang terlambat").check()
    page.get_by_role("button", name="Saring").click()
    page.wait_for_url("**/konsol/aspirasi?*terlambat=ya*")
    assert tickets(page) == [late["nomor_tiket"]]

    page.get_by_role("link", name=late["nomor_tiket"]).click()
    page.wait_for_url(f"**/konsol/aspirasi/{late['id']}")
    main = page.inner_text("main")
    assert "Jembatan gantung" in main and "Wangon" in main and "terlewati" in main
    assert "Bu Ratna" in main  # confidential, and this is the handling unit
    # Only the steps the workflow allows from "diterima".
    assert page.locator("input[name=status]").evaluate_all("inputs => inputs.map(i => i.value)") == [
        "diverifikasi", "ditolak"]
    axe(page)

    # A note nobody said who may read: refused by its field, what was typed kept.
    page.get_by_label("Diverifikasi", exact=True).check()
    page.fill("#catatan", CATATAN_INTERNAL)
    page.get_by_role("button", name="Simpan tindak lanjut").click()
    page.wait_for_selector("#publik-galat")
    assert page.input_value("#catatan") == CATATAN_INTERNAL
    axe(page)
    follow_up(page, "Diverifikasi", CATATAN_INTERNAL, "Catatan internal")
    follow_up(page, "Sedang diproses", JAWABAN_PUBLIK, "Jawaban publik untuk pelapor")
    steps = page.locator(".timeline .step")
    assert steps.locator(".step-title").all_inner_texts() == ["Diterima", "Diverifikasi", "Sedang diproses"]
    assert "Catatan internal" in steps.nth(1).inner_text() and CATATAN_INTERNAL in steps.nth(1).inner_text()
    assert "Jawaban publik" in steps.nth(2).inner_text() and JAWABAN_PUBLIK in steps.nth(2).inner_text()
    assert page.locator("input[name=status]").evaluate_all("inputs => inputs.map(i => i.value)") == [
        "selesai", "ditolak"]
    axe(page)
    screenshot(page, "konsol-aspirasi-kasus")

    # The citizen's tracking page: the public answer, never the internal note.
    citizen = visit()
    citizen.go(f"/lacak/{late['nomor_tiket']}")
    assert JAWABAN_PUBLIK in citizen.page.inner_text("#hasil")
    assert "Catatan kerja" not in citizen.page.content()


def test_a_pemantau_of_a_district_sees_the_case_without_its_reporter_nor_a_follow_up_form(officer, cases, axe):
    late = cases["late"]
    one, _ = officer("pemantau", "33.02.02", nama="Sigit Pemantau Wangon")
    page = one.page
    one.go("/konsol/aspirasi")
    assert tickets(page) == [late["nomor_tiket"]]  # Kebasen's is outside Wangon
    axe(page)
    page.get_by_role("link", name=late["nomor_tiket"]).click()
    page.wait_for_url(f"**/konsol/aspirasi/{late['id']}")
    assert "Identitas pelapor dirahasiakan" in page.inner_text("main")
    assert "Ratna" not in page.content() and "081355556666" not in page.content()
    assert page.locator("form[action$='/tindak-lanjut']").count() == 0
    assert "Tindak lanjut" not in page.inner_text("main")
    axe(page)
