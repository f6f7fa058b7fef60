"""The area reference through the gateway, as an area picker in a browser uses it: no token,
the whole 2025 list behind it, ETag and Cache-Control on every answer, 304 when nothing changed,
and a change of the reference (announced by `wilayah.diperbarui`, as the import does) seen by
every worker within moments, though the answers before it came from memory."""
import time

import pytest
import requests

from gateway.wilayah import PENCARIAN_RATE_LIMIT
from services.common.outbox import emit_after
from services.organisasi.commands import EVENTS
from services.organisasi.repository import IMPORTS, VERSION
from tests.support import assert_problem

# A village no other test uses, retired and listed again by the change test.
VILLAGE = "61.07.10.2007"


@pytest.fixture(scope="module")
def wilayah(gateway):
    """GET /api/v1/wilayah<path> without any token."""
    def get(path="", headers=None, **kwargs):
        kwargs.setdefault("timeout", 15)
        # An address of this module's own: other modules' searches do not count against it.
        headers = {"X-Forwarded-For": "198.51.100.17", **(headers or {})}
        return requests.get(f"{gateway}/api/v1/wilayah{path}", headers=headers, **kwargs)
    return get


def answered(response):
    assert response.status_code == 200, response.text
    assert "Authorization" not in response.request.headers
    return response.json()


def test_the_provinces_are_listed_without_a_token_and_cacheable(wilayah):
    response = wilayah()
    provinces = answered(response)["items"]
    assert len(provinces) == 38
    assert {"kode": "33", "nama": "Jawa Tengah", "tingkat": "provinsi", "aktif": True} in provinces
    assert response.headers["ETag"].startswith('"')  # strong: no W/
    assert response.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")


def test_the_children_of_jawa_tengah_are_its_regencies_and_cities(wilayah):
    children = answered(wilayah(params={"induk": "33"}))["items"]
    assert len(children) == 35
    assert {"kode": "33.74", "nama": "Kota Semarang", "tingkat": "kabupaten_kota", "aktif": True} in children
    assert [area["kode"] for area in children] == sorted(area["kode"] for area in children)
    assert_problem(wilayah(params={"induk": "99"}), 404)


def test_a_search_for_semarang_ranks_names_starting_with_it_first(wilayah):
    found = answered(wilayah(params={"q": "semarang"}))["items"]
    names = [area["nama"] for area in found]
    assert names[:2] == ["Semarang", "Semarang"] and names[2] == "Semarang Jaya"
    assert names.index("Kota Semarang") > names.index("Semarang Selatan")
    assert names[-1] == "Kabupaten Semarang"  # the longest name containing it
    semarang_barat = next(area for area in found if area["kode"] == "33.74.13")
    assert semarang_barat["induk"] == [{"kode": "33", "nama": "Jawa Tengah"},
                                       {"kode": "33.74", "nama": "Kota Semarang"}]
    assert len(answered(wilayah(params={"q": "sari"}))["items"]) == 20
    assert_problem(wilayah(params={"q": "se"}), 400)


def test_one_area_is_answered_with_the_names_above_it(wilayah):
    assert answered(wilayah("/31.71.01.1001")) == {
        "kode": "31.71.01.1001", "nama": "Gambir", "tingkat": "desa_kelurahan", "aktif": True,
        "induk": [{"kode": "31", "nama": "Daerah Khusus Ibukota Jakarta"},
                  {"kode": "31.71", "nama": "Kota Administrasi Jakarta Pusat"}, {"kode": "31.71.01", "nama": "Gambir"}]}
    assert_problem(wilayah("/31.99"), 404)


def test_an_unchanged_answer_is_a_304_for_the_etag_the_client_holds(wilayah):
    first = wilayah("/33.74")
    etag = first.headers["ETag"]
    again = wilayah("/33.74", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert wilayah("/33.74", headers={"If-None-Match": '"something-else"'}).status_code == 200
    other = wilayah("/33.22")
    assert other.headers["ETag"] != etag  # a hash of the answer, not of the route


def test_a_change_of_the_reference_is_seen_at_once_and_retired_areas_are_left_out(wilayah, organisasi_db):
    assert [area["kode"] for area in answered(wilayah(params={"q": "suti semarang"}))["items"]] == [
        "61.07.10", VILLAGE]
    before = wilayah(f"/{VILLAGE}")
    try:
        changed(organisasi_db, VILLAGE, aktif=False)
        seen_within(lambda: [area["kode"] for area in answered(wilayah(params={"q": "suti semarang"}))["items"]]
                    == ["61.07.10"])
        retired = wilayah(f"/{VILLAGE}")
        assert answered(retired)["aktif"] is False  # still answered by its code
        assert retired.headers["ETag"] != before.headers["ETag"]
        assert VILLAGE not in [area["kode"] for area in answered(wilayah(params={"induk": "61.07.10"}))["items"]]
    finally:
        changed(organisasi_db, VILLAGE, aktif=True)
    seen_within(lambda: answered(wilayah(f"/{VILLAGE}"))["aktif"] is True)


def test_answers_are_held_in_memory_until_organisasi_announces_a_change(gateway, organisasi_db):
    """Over one keep-alive connection (one worker): a rename written behind the service's back
    (no event) stays unseen while the answer is held; announced, it is seen."""
    url = f"{gateway}/api/v1/wilayah/94.01.02"
    with requests.Session() as client:
        assert answered(client.get(url, timeout=15))["nama"] == "Napan"
        organisasi_db.wilayah.update_one({"_id": "94.01.02"}, {"$set": {"nama": "Napan Baru"}})
        try:
            assert answered(client.get(url, timeout=15))["nama"] == "Napan"
            announce(organisasi_db, diganti_nama=1)
            seen_within(lambda: answered(client.get(url, timeout=15))["nama"] == "Napan Baru")
        finally:
            organisasi_db.wilayah.update_one({"_id": "94.01.02"}, {"$set": {"nama": "Napan"}})
            announce(organisasi_db, diganti_nama=1)


def changed(db, kode, aktif):
    """What `bkpm wilayah import` does for a code it retires or lists again: the write, the
    reference's new version, then its announcement through organisasi's outbox."""
    db.wilayah.update_one({"_id": kode}, {"$set": {"aktif": aktif}})
    db[IMPORTS].replace_one({"_id": VERSION}, {"diperbarui": time.time()}, upsert=True)
    announce(db, dipulihkan=int(aktif), tidak_berlaku=int(not aktif))


def announce(db, ditambahkan=0, diganti_nama=0, dipulihkan=0, tidak_berlaku=0):
    """The event `bkpm wilayah import` puts in organisasi's outbox after its writes."""
    emit_after(db, "organisasi", EVENTS, "wilayah.diperbarui", "wilayah",
               {"ditambahkan": ditambahkan, "diganti_nama": diganti_nama, "dipulihkan": dipulihkan,
                "tidak_berlaku": tidak_berlaku})


def seen_within(check, seconds=15):
    """`check()` holds for several fresh connections in a row (whichever worker they reach);
    a search not held in memory reads the whole reference (about a second on the embedded
    database), once per worker."""
    in_a_row, deadline = 0, time.monotonic() + seconds
    while in_a_row < 4:
        in_a_row = in_a_row + 1 if check() else 0
        assert time.monotonic() < deadline, "the gateway still answers what the reference no longer says"


def test_searches_are_limited_per_address_but_lists_are_not(gateway):
    """Over one keep-alive connection, which one gateway worker serves (the tests' workers each
    count in their own memory)."""
    url = f"{gateway}/api/v1/wilayah"
    allowed = int(PENCARIAN_RATE_LIMIT.split()[0])
    with requests.Session() as client:
        client.headers["X-Forwarded-For"] = "198.51.100.18"
        for _ in range(allowed):
            assert client.get(url, params={"q": "semarang"}, timeout=15).status_code == 200
        assert_problem(client.get(url, params={"q": "semarang"}, timeout=15), 429)
        assert client.get(url, params={"induk": "33"}, timeout=15).status_code == 200
        client.headers["X-Forwarded-For"] = "198.51.100.19"
        assert client.get(url, params={"q": "semarang"}, timeout=15).status_code == 200
