"""The citizens' portal through the gateway, without a token: activities of an area with
nothing about anyone, and the figures by area with the averages of small samples withheld; and
the survey's comments for the area's recorders, masked."""
import pytest

from tests.support import assert_problem, form_units

TERNATE, SELATAN = "82.71", "82.71.02"
JAMBULA = "82.71.01.1001"
PERIOD = {"dari": "2027-02-01", "sampai": "2027-02-28"}
COMMENT = "Mohon dihubungi di 0812 3456 7890 atau warga.ternate@contoh.id"


@pytest.fixture(scope="module")
def ternate(api, national_unit):
    return form_units(api, "82", TERNATE)[TERNATE]


def held(api, unit, place, answers, comment=None):
    """A dialog at `place` in February 2027, finished, whose participants gave the survey
    `answers` (kepercayaan, kepuasan); the first answer carries `comment`."""
    body = {"unit_id": unit["id"], "jenis": "dialog", "judul": "Dialog kamtibmas", "mulai": "2027-02-10T09:00:00+07:00",
            "selesai": "2027-02-10T12:00:00+07:00", "lokasi": {"kode_wilayah": place, "alamat": "Balai Kelurahan"}}
    kegiatan = api.post("/kegiatan", json=body).json()
    api.post(f"/kegiatan/{kegiatan['id']}/mulai")
    done = api.post(f"/kegiatan/{kegiatan['id']}/selesai",
                    json={"laporan": {"jumlah_peserta": len(answers), "ringkasan": "Rahasia laporan."}})
    assert done.status_code == 200, done.text
    codes = api.get(f"/kegiatan/{kegiatan['id']}/survei").json()["kode"]
    for index, (kode, (kepercayaan, kepuasan)) in enumerate(zip(codes, answers, strict=True)):
        answer = {"kode": kode, "kepercayaan": kepercayaan, "kepuasan": kepuasan,
                  **({"komentar": comment} if comment and index == 0 else {})}
        answered = api.post(f"/kegiatan/{kegiatan['id']}/survei", role=None, json=answer)
        assert answered.status_code == 201, answered.text
    return kegiatan


@pytest.fixture(scope="module")
def recorded(api, ternate):
    """Six answers in Pulau Ternate (one with a comment), three in Ternate Selatan."""
    return (held(api, ternate, JAMBULA, [(4, 4)] * 6, comment=COMMENT),
            held(api, ternate, SELATAN, [(2, 3)] * 3))


def test_the_portal_lists_an_areas_activities_without_a_token(api, recorded):
    response = api.get("/publik/kegiatan", role=None, params={"kode_wilayah": TERNATE, **PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "public, max-age=300"
    page = response.json()
    assert page["total"] == 2
    assert {tuple(sorted(item)) for item in page["items"]} == {
        ("id", "jenis", "judul", "lokasi", "mulai", "selesai", "status")}
    assert {item["lokasi"]["kode_wilayah"] for item in page["items"]} == {JAMBULA, SELATAN}
    assert "Rahasia" not in response.text and "dihubungi" not in response.text
    assert_problem(api.get("/publik/kegiatan", role=None, params=PERIOD), 400)


def test_the_index_withholds_what_fewer_than_five_answers_would_give_away(api, recorded):
    response = api.get("/publik/indeks", role=None, params={"kode_wilayah": TERNATE, **PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = response.json()
    assert body["ringkasan"]["jumlah_kegiatan"] == 2
    assert body["ringkasan"]["survei"] == {"jumlah_jawaban": 9, "rata_kepercayaan": 3.33, "rata_kepuasan": 3.67,
                                           "ditahan": None}
    withheld = {area["kode_wilayah"]: area["survei"] for area in body["per_wilayah"]}
    assert withheld == {
        "82.71.01": {"jumlah_jawaban": 6, "rata_kepercayaan": None, "rata_kepuasan": None,
                     "ditahan": "dapat dihitung dari wilayah lain"},
        SELATAN: {"jumlah_jawaban": 3, "rata_kepercayaan": None, "rata_kepuasan": None,
                  "ditahan": "kurang dari 5 jawaban"}}
    assert_problem(api.get("/publik/indeks", role=None, params={"kode_wilayah": TERNATE}), 400)


def test_survey_comments_are_masked_and_only_for_recorders(api, recorded):
    path = f"/kegiatan/{recorded[0]['id']}/survei/komentar"
    response = api.get(path, role="petugas", wilayah=TERNATE)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [{"komentar": "Mohon dihubungi di 0812********90 atau w***@contoh.id"}]
    assert_problem(api.get(path, role="pemantau", wilayah=TERNATE), 403)
    assert_problem(api.get(path, role="petugas", wilayah="82.72"), 403)
    assert_problem(api.get(path, role=None), 401)
