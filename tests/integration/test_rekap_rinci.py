"""Both summaries broken down (`rinci=wilayah`, `rinci=bulan`, both) through the gateway, checked
against small fixtures counted by hand in Kota Bengkulu (17.71): Selebar (17.71.01) and Gading
Cempaka (17.71.02)."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.nik import recipient
from tests.support import assert_problem, form_units

WIB = ZoneInfo("Asia/Jakarta")
SELEBAR, GADING = "17.71.01", "17.71.02"
SELEBAR_VILLAGE, GADING_VILLAGE = "17.71.01.1001", "17.71.02.1001"


def month_before(month, n):
    """'2026-12', 2 -> '2026-10'."""
    index = int(month[:4]) * 12 + int(month[5:]) - 1 - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# The months the kegiatan fixture spans: the current one in WIB and the two before it.
NOW_MONTH = datetime.now(WIB).strftime("%Y-%m")
FIRST, SECOND, THIRD = month_before(NOW_MONTH, 2), month_before(NOW_MONTH, 1), NOW_MONTH
LAST_DAY = (date.fromisoformat(f"{month_before(NOW_MONTH, -1)}-01") - timedelta(days=1)).isoformat()
PERIOD = {"kode_wilayah": "17.71", "dari": f"{FIRST}-01", "sampai": LAST_DAY}


@pytest.fixture(scope="module")
def bengkulu(api, national_unit):
    return form_units(api, "17", "17.71")["17.71"]


def schedule(api, unit, village, start):
    body = {"unit_id": unit["id"], "jenis": "dialog", "judul": f"Dialog {start}",
            "lokasi": {"kode_wilayah": village, "alamat": "Balai kelurahan"},
            "mulai": start.isoformat(), "selesai": (start + timedelta(hours=2)).isoformat()}
    response = api.post("/kegiatan", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def kegiatan(api, bengkulu):
    """- Selebar, FIRST month, day 10: a dialog, finished, with 2 participants (masyarakat and
      polri) and one survey answer (trust 4, satisfaction 5);
    - Selebar, the SECOND month's first day at 01:00 WIB (still the FIRST month in UTC): a dialog;
    - Gading Cempaka, SECOND month, day 15: a dialog, cancelled;
    - Gading Cempaka, this month (THIRD): an aspiration received now."""
    first = schedule(api, bengkulu, SELEBAR_VILLAGE, datetime.fromisoformat(f"{FIRST}-10T09:00:00+07:00"))
    for nama, unsur in (("Warga A", "masyarakat"), ("Bripka B", "polri")):
        assert api.post(f"/kegiatan/{first['id']}/peserta", json={"nama": nama, "unsur": unsur}).status_code == 201
    assert api.post(f"/kegiatan/{first['id']}/mulai").status_code == 200
    done = api.post(f"/kegiatan/{first['id']}/selesai",
                    json={"laporan": {"jumlah_peserta": 2, "ringkasan": "Dialog kamtibmas."}})
    assert done.status_code == 200, done.text
    kode = api.get(f"/kegiatan/{first['id']}/survei").json()["kode"][0]
    answered = api.post(f"/kegiatan/{first['id']}/survei", role=None,
                        json={"kode": kode, "kepercayaan": 4, "kepuasan": 5})
    assert answered.status_code == 201, answered.text
    schedule(api, bengkulu, SELEBAR_VILLAGE, datetime.fromisoformat(f"{SECOND}-01T01:00:00+07:00"))
    cancelled = schedule(api, bengkulu, GADING_VILLAGE, datetime.fromisoformat(f"{SECOND}-15T09:00:00+07:00"))
    assert api.post(f"/kegiatan/{cancelled['id']}/batal", json={"alasan": "Hujan"}).status_code == 200
    sent = api.post("/aspirasi", role=None, json={"kode_wilayah": GADING, "kategori": "masukan",
                                                  "isi": "Mohon patroli malam ditambah."})
    assert sent.status_code == 201, sent.text


def rekap(api, *rinci, **query):
    response = api.get("/rekap/kegiatan", params={**PERIOD, **query, "rinci": list(rinci)}, role="pemantau",
                       wilayah="17.71")
    assert response.status_code == 200, response.text
    return response.json()


def figures(row):
    return (row["kode_wilayah"], row["bulan"], row["kegiatan"]["jumlah"], row["kegiatan"]["per_status"]["dibatalkan"],
            row["peserta"]["jumlah"], row["aspirasi"]["diterima"], row["survei"]["jumlah_jawaban"])


def test_the_activity_summary_by_month_in_wib(api, kegiatan):
    answer = rekap(api, "bulan")
    assert answer["kegiatan"]["jumlah"] == 3 and answer["aspirasi"]["diterima"] == 1   # the totals as before
    assert [figures(row) for row in answer["rincian"]] == [
        ("17.71", FIRST, 1, 0, 2, 0, 1), ("17.71", SECOND, 2, 1, 0, 0, 0), ("17.71", THIRD, 0, 0, 0, 1, 0)]
    assert answer["rincian"][0]["survei"] == {"jumlah_jawaban": 1, "rata_kepercayaan": 4.0, "rata_kepuasan": 5.0}
    assert answer["rincian"][0]["peserta"]["per_unsur"]["polri"] == 1


def test_the_activity_summary_by_district_and_by_both(api, kegiatan):
    by_area = rekap(api, "wilayah")
    assert [figures(row) for row in by_area["rincian"]] == [
        (SELEBAR, None, 2, 0, 2, 0, 1), (GADING, None, 1, 1, 0, 1, 0)]
    # Repeated: the same breakdown; given together, a row per district and month, none missing.
    both = rekap(api, "wilayah", "bulan", "wilayah")
    assert [figures(row) for row in both["rincian"]] == [
        (SELEBAR, FIRST, 1, 0, 2, 0, 1), (SELEBAR, SECOND, 1, 0, 0, 0, 0), (SELEBAR, THIRD, 0, 0, 0, 0, 0),
        (GADING, FIRST, 0, 0, 0, 0, 0), (GADING, SECOND, 1, 1, 0, 0, 0), (GADING, THIRD, 0, 0, 0, 1, 0)]
    assert both["kegiatan"] == by_area["kegiatan"] == rekap(api)["kegiatan"]
    assert rekap(api)["rincian"] == []
    # A province's officer sees its regencies: one row here, for Kota Bengkulu.
    province = api.get("/rekap/kegiatan", params={**PERIOD, "kode_wilayah": "17", "rinci": "wilayah"},
                       role="pemantau", wilayah="17").json()
    assert [figures(row) for row in province["rincian"]] == [("17.71", None, 3, 1, 2, 1, 1)]


def test_the_activity_breakdown_is_validated(api, kegiatan):
    invalid = assert_problem(api.get("/rekap/kegiatan", params={**PERIOD, "rinci": "kecamatan"}), 400,
                             "input_tidak_valid")
    assert "rinci" in invalid["errors"]
    long = assert_problem(api.get("/rekap/kegiatan", params={**PERIOD, "dari": "2000-01-01", "rinci": "bulan"}),
                          400, "input_tidak_valid")
    assert "120 bulan" in long["errors"]["rinci"][0]
    assert_problem(api.get("/rekap/kegiatan", params={**PERIOD, "rinci": "wilayah"}, role="pemantau",
                           wilayah=SELEBAR), 403)


@pytest.fixture(scope="module")
def program(api, bengkulu):
    """A 2026 program of Kota Bengkulu: two households of Selebar on 10 February (voucher,
    photo), one of Gading Cempaka on 5 April (voucher), and one more of Gading Cempaka in
    May, cancelled."""
    created = api.post("/bantuan/program", json={
        "nama": "Sembako Bengkulu", "jenis": "sembako", "unit_id": bengkulu["id"], "mulai": "2026-01-01",
        "selesai": "2026-12-31", "kuota": 50, "wilayah_sasaran": ["17.71"]})
    assert created.status_code == 201, created.text
    program = api.post(f"/bantuan/program/{created.json()['id']}/aktifkan").json()
    given = []
    for n, village, tanggal, bukti in ((47101, SELEBAR_VILLAGE, "2026-02-10", "voucher"),
                                       (47102, SELEBAR_VILLAGE, "2026-02-10", "foto"),
                                       (47103, GADING_VILLAGE, "2026-04-05", "voucher"),
                                       (47104, GADING_VILLAGE, "2026-05-20", "voucher")):
        penerima = api.post("/bantuan/penerima", json=recipient(n, village=village))
        assert penerima.status_code == 201, penerima.text
        response = api.post("/bantuan/penyaluran", json={
            "program_id": program["id"], "penerima_id": penerima.json()["id"], "tanggal": tanggal,
            "jenis_bukti": bukti, "bukti": f"BKT-{n}"})
        assert response.status_code == 201, response.text
        given.append(response.json())
    assert api.post(f"/bantuan/penyaluran/{given[-1]['id']}/batal", json={"alasan": "Ganda"}).status_code == 200
    return program


def program_rekap(api, program, *rinci, **caller):
    return api.get(f"/bantuan/program/{program['id']}/rekap", params={"rinci": list(rinci)},
                   **(caller or {"role": "pemantau", "wilayah": "17.71"}))


def row(kode, bulan, voucher=0, foto=0):
    return {"kode_wilayah": kode, "bulan": bulan, "tersalur": voucher + foto,
            "per_bukti": {"tanda_tangan": 0, "foto": foto, "voucher": voucher}}


def test_the_program_summary_by_district_and_month(api, program):
    plain = program_rekap(api, program).json()
    assert (plain["tersalur"], plain["per_bukti"], plain["rincian"]) == (3, {"voucher": 2, "foto": 1}, [])
    assert program_rekap(api, program, "wilayah").json()["rincian"] == [
        row(SELEBAR, None, voucher=1, foto=1), row(GADING, None, voucher=1)]
    # From the program's first month to its latest distribution's; the cancelled one is not counted.
    assert program_rekap(api, program, "bulan").json()["rincian"] == [
        row("17.71", "2026-01"), row("17.71", "2026-02", voucher=1, foto=1), row("17.71", "2026-03"),
        row("17.71", "2026-04", voucher=1)]
    both = program_rekap(api, program, "bulan", "wilayah").json()
    assert both["rincian"] == [
        row(SELEBAR, "2026-01"), row(SELEBAR, "2026-02", voucher=1, foto=1), row(SELEBAR, "2026-03"),
        row(SELEBAR, "2026-04"),
        row(GADING, "2026-01"), row(GADING, "2026-02"), row(GADING, "2026-03"), row(GADING, "2026-04", voucher=1)]
    assert {name: both[name] for name in ("kuota", "tersalur", "sisa")} == {"kuota": 50, "tersalur": 3, "sisa": 47}


def test_the_program_breakdown_is_validated_and_scoped(api, program):
    assert "rinci" in assert_problem(program_rekap(api, program, "desa"), 400, "input_tidak_valid")["errors"]
    assert_problem(program_rekap(api, program, "wilayah", role="pemantau", wilayah="32"), 403)
    assert_problem(api.get("/bantuan/program/program-tidak-ada/rekap", params={"rinci": "bulan"}), 404)
