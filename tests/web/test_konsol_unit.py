"""The console's unit section (issue 20) in Debian's Chromium: a pengurus of Kota Surakarta finds
its unit first among those it may open, appoints a Ketua, is told on the form that the position is
held when appointing a second one, ends the first one's term (kept in the history) and appoints
the second; adds a member, corrects its phone (shown the record as it is now when someone else
corrected it meanwhile) and removes it. A pemantau reads the board of a unit below and has no
button to change it. Every page passes axe-core and makes no request to another host."""
import pytest

from tests.support import TINGKAT_OF_DEPTH

STALE = "sudah diubah orang lain"


def formed(api, kode):
    """The unit of `kode`, formed here or, for the province other modules share, by whichever came first."""
    made = api.post("/units", json={"tingkat": TINGKAT_OF_DEPTH[kode.count(".") + 1], "kode_wilayah": kode})
    if made.status_code == 409 and made.json().get("unit_id"):
        return api.get(f"/units/{made.json()['unit_id']}").json()
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture(scope="module")
def surakarta(api, national_unit):
    """Jawa Tengah, and this module's own Kota Surakarta and its district Laweyan."""
    return {kode: formed(api, kode) for kode in ("33", "33.72", "33.72.01")}


def submit(page):
    page.click("main .form button[type=submit]")


def appoint_ketua(page, nama, nrp):
    page.click("text=Angkat pengurus")
    page.wait_for_url("**/pengurus/baru")
    page.select_option("#jabatan", "ketua")
    page.fill("#nama", nama)
    page.fill("#nrp", nrp)
    page.fill("#pangkat", "Kombes Pol")
    page.fill("#jabatan_polri", "Kapolresta Surakarta")
    page.fill("#telepon", "081234567890")


def section(page, name):
    return page.locator(f"section[aria-labelledby={name}-judul]")


def test_a_pengurus_keeps_the_board_and_members_of_its_unit(officer, api, axe, screenshot, surakarta):
    kota = surakarta["33.72"]
    one, _ = officer("pengurus", "33.72", nama="Sari Pengurus Surakarta")
    page = one.page

    # The picker: its own unit first, then the units right below it.
    one.go("/konsol/unit")
    choices = page.locator("main .choices a").all_inner_texts()
    assert choices[0].startswith("BKPM Kota Surakarta") and choices[1].startswith("BKPM Laweyan")
    axe(page)
    page.click("text=BKPM Kota Surakarta")
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "Belum ada pengurus aktif" in page.inner_text("main")
    axe(page)

    # A Ketua appointed through the form.
    appoint_ketua(page, "Ade Safri Simanjuntak", "12345678")
    axe(page)
    screenshot(page, "konsol-unit-pengurus-baru")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "Ade Safri Simanjuntak diangkat sebagai ketua" in page.inner_text(".pesan")
    board = section(page, "pengurus").inner_text()
    assert "Ade Safri Simanjuntak" in board and "0812-3456-7890" in board and "Kapolresta Surakarta" in board

    # A second Ketua: the API's refusal on the form, with what was typed.
    appoint_ketua(page, "Iwan Saktiadi", "87654321")
    submit(page)
    assert "masih dipegang oleh Ade Safri Simanjuntak" in page.inner_text("[role=alert]")
    assert page.input_value("#nama") == "Iwan Saktiadi"
    axe(page)

    # The first one's term ended: in the history, and the second appointed.
    page.click("text=Batal, kembali ke BKPM Kota Surakarta")
    section(page, "pengurus").locator("a", has_text="Berhentikan").click()
    page.wait_for_url("**/akhiri")
    axe(page)
    page.fill("#alasan", "Mutasi jabatan")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "Ade Safri Simanjuntak sudah diberhentikan" in page.inner_text(".pesan")
    assert "Belum ada pengurus aktif" in section(page, "pengurus").inner_text()
    history = section(page, "riwayat").inner_text()
    assert "Ade Safri Simanjuntak" in history and "Mutasi jabatan" in history
    appoint_ketua(page, "Iwan Saktiadi", "87654321")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "Iwan Saktiadi" in section(page, "pengurus").inner_text()

    # A member added, then its phone corrected.
    page.click("text=Tambah anggota")
    page.fill("#nama", "Siti Rahayu")
    page.select_option("#kategori", "tokoh_agama")
    page.fill("#telepon", "081298765432")
    axe(page)
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    members = section(page, "anggota").inner_text()
    assert "Siti Rahayu" in members and "Tokoh agama" in members and "0812-9876-5432" in members
    axe(page)
    screenshot(page, "konsol-unit")
    section(page, "anggota").locator("a", has_text="Ubah kontak").click()
    page.wait_for_url("**/kontak")
    assert page.input_value("#telepon") == "0812-9876-5432"
    axe(page)
    page.fill("#telepon", "081311112222")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "0813-1111-2222" in section(page, "anggota").inner_text()

    # Someone else corrects it while the form is open: the form shows it as it is now.
    section(page, "anggota").locator("a", has_text="Ubah kontak").click()
    page.wait_for_url("**/kontak")
    path = page.url.split("/konsol/unit", 1)[1].removesuffix("/kontak")
    meanwhile = api.request("PATCH", f"/units{path}", json={"telepon": "081355556666"}, headers={"If-Match": "*"})
    assert meanwhile.status_code == 200, meanwhile.text
    page.fill("#telepon", "081377778888")
    submit(page)
    assert STALE in page.inner_text("[role=alert]")
    assert page.input_value("#telepon") == "0813-5555-6666"
    axe(page)
    page.fill("#telepon", "081377778888")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "0813-7777-8888" in section(page, "anggota").inner_text()

    # The member removed.
    section(page, "anggota").locator("a", has_text="Keluarkan").click()
    page.wait_for_url("**/akhiri")
    page.fill("#alasan", "Pindah domisili")
    submit(page)
    page.wait_for_url(f"**/konsol/unit/{kota['id']}")
    assert "Siti Rahayu sudah dikeluarkan" in page.inner_text(".pesan")
    assert "Belum ada anggota" in section(page, "anggota").inner_text()


def test_a_pemantau_reads_the_board_and_changes_nothing(officer, api, axe, surakarta):
    laweyan = surakarta["33.72.01"]
    appointed = api.post(f"/units/{laweyan['id']}/pengurus", json={
        "jabatan": "wakil_ketua", "nama": "Haji Mulyono", "telepon": "081211112222", "mulai": "2026-01-05"})
    assert appointed.status_code == 201, appointed.text
    one, _ = officer("pemantau", "33.72")
    page = one.page
    one.go("/konsol/unit")
    page.click("text=BKPM Laweyan")
    page.wait_for_url(f"**/konsol/unit/{laweyan['id']}")
    board = section(page, "pengurus").inner_text()
    assert "Haji Mulyono" in board and "Wakil ketua" in board and "5 Januari 2026" in board
    assert "0812-1111-2222" not in board  # contacts masked for a pemantau
    main = page.inner_text("main")
    assert not any(button in main for button in ("Angkat pengurus", "Tambah anggota", "Ubah kontak", "Berhentikan"))
    axe(page)
    # Nor the form itself, by its address.
    answer = one.go(f"/konsol/unit/{laweyan['id']}/pengurus/baru")
    assert answer.status == 403 and "Tidak berwenang" in page.inner_text("main")
    axe(page)
