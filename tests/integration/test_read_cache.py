"""The gateway's read cache (services/common/cache.py) end to end, through gunicorn's workers, the real
broker and database: a client reads its own write at once over its keep-alive connection, a
change made past the gateway reaches every worker through its event within moments, and the
reads really are answered from memory (the gateway's metrics count hits, and a change no event announces
staying unseen)."""
import concurrent.futures
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import events_fixture, form_units, rpc_client, token_for

# Community figures: a wakil_ketua needs neither NRP nor a Polri post.
WAKIL = {"jabatan": "wakil_ketua", "nama": "H. Abdul Gani", "mulai": "2026-01-05"}

events = events_fixture("organisasi.events")


@pytest.fixture(scope="module")
def units(gateway, gateway_metrics, api, national_unit, events, token):
    """Units of Kalimantan Selatan (63), which no other module uses: one per test, each waited
    for until its event went out, so no late event of the setup forgets a test's reads. And
    the cache in use in every worker: until its listener hears the events (a moment after the
    worker starts, and /ready does not wait for it) a worker answers every read by the service."""
    formed = form_units(api, "63", "63.71", "63.72", "63.01")
    for unit in formed.values():
        events.wait_for(lambda e, u=unit: e["type"] == "unit.dibentuk" and e["data"]["id"] == u["id"])
    url, headers = f"{gateway}/api/v1/units/{national_unit['id']}", {"Authorization": f"Bearer {token()}"}
    quiet, deadline = 0, time.monotonic() + 10
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while quiet < 3:  # bursts of fresh connections, spread over the workers, none bypassing
            before = cache_counts(gateway_metrics)["bypass"]
            assert all(answer.status_code == 200 for answer in pool.map(
                lambda _: requests.get(url, headers=headers, timeout=10), range(8)))
            quiet = quiet + 1 if cache_counts(gateway_metrics)["bypass"] == before else 0
            assert time.monotonic() < deadline, "the gateway's workers never heard the events"
    return formed


@pytest.fixture
def auth(token):
    return {"Authorization": f"Bearer {token()}"}


@pytest.fixture
def session(auth):
    """One keep-alive connection, which gunicorn keeps with one worker."""
    with requests.Session() as connection:
        connection.headers.update(auth)
        yield connection


def cache_counts(metrics_url):
    """organisasi's cacheable reads so far, summed over the workers: {outcome: count}."""
    response = requests.get(metrics_url, timeout=5)
    assert response.status_code == 200
    counts = {"hit": 0, "miss": 0, "bypass": 0}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "bkpm_gateway_cache_total" and sample.labels.get("service") == "organisasi":
                counts[sample.labels["outcome"]] = sample.value
    return counts


def grown(before, after):
    return {outcome: after[outcome] - before[outcome] for outcome in before}


def board(response):
    assert response.status_code == 200, response.text
    return [(p["jabatan"], p["nama"]) for p in response.json()["pengurus"]]


def burst(pool, url, auth, size=4):
    """The boards `size` fresh connections at once answer (spread over the workers)."""
    return list(pool.map(lambda _: board(requests.get(url, headers=auth, timeout=10)), range(size)))


def test_a_client_reads_its_own_write_at_once_over_its_connection(gateway, gateway_metrics, session, units,
                                                                   events):
    url = f"{gateway}/api/v1/units/{units['63.71']['id']}"
    before = cache_counts(gateway_metrics)
    assert board(session.get(f"{url}/struktur", timeout=10)) == []
    assert board(session.get(f"{url}/struktur", timeout=10)) == []
    assert grown(before, cache_counts(gateway_metrics))["hit"] >= 1  # the empty board is held in that worker

    posted = session.post(f"{url}/pengurus", json=WAKIL, timeout=10)
    assert posted.status_code == 201, posted.text
    # At once, on the same connection: the worker forgot on its own write, not waiting for the event.
    assert board(session.get(f"{url}/struktur", timeout=10)) == [("wakil_ketua", WAKIL["nama"])]

    # Leave no event of this test in flight to forget another test's reads.
    events.wait_for(lambda e: e["type"] == "pengurus.diangkat" and e["data"]["id"] == posted.json()["id"])


def test_a_change_made_past_the_gateway_reaches_every_worker(env, gateway, gateway_metrics, auth, units, events):
    unit = units["63.72"]
    url = f"{gateway}/api/v1/units/{unit['id']}/struktur"
    workers = int(env.get("GATEWAY_WORKERS", 2))

    # Cached by one worker first; then over separate connections, a few at once so that every
    # worker takes some, until each has read it: a worker holding it only hits, so a burst
    # that adds misses reached a worker that did not (concurrent misses in it count once).
    before = cache_counts(gateway_metrics)
    assert board(requests.get(url, headers=auth, timeout=10)) == []
    counted = grown(before, cache_counts(gateway_metrics))
    holding, misses, deadline = 1, counted["miss"], time.monotonic() + 10
    assert misses == 1
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        while holding < workers:
            assert all(answer == [] for answer in burst(pool, url, auth))
            counted = grown(before, cache_counts(gateway_metrics))
            holding, misses = holding + (counted["miss"] > misses), counted["miss"]
            assert time.monotonic() < deadline, f"the struktur was not cached by {workers} workers: {counted}"
    assert counted["hit"] >= 1, counted

    # The change goes straight to the service: no gateway worker sees the write, only its event.
    appointed = rpc_client(env).call("organisasi", "angkat_pengurus", token_for(env), unit["id"], WAKIL)
    expected = [("wakil_ketua", WAKIL["nama"])]

    # Every fresh connection, whichever worker it reaches, soon sees it: bursts of them in a
    # row must (without the event, a worker holding the old board would answer it for 30 s).
    in_a_row, deadline = 0, time.monotonic() + 5
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        while in_a_row < 3:
            seen = burst(pool, url, auth)
            in_a_row = in_a_row + 1 if all(answer == expected for answer in seen) else 0
            assert time.monotonic() < deadline, f"workers still answer {seen} 5 s after the change"
    events.wait_for(lambda e: e["type"] == "pengurus.diangkat" and e["data"]["id"] == appointed["id"])


def test_repeated_reads_are_answered_from_memory(gateway, gateway_metrics, session, units):
    url = f"{gateway}/api/v1/units/{units['63']['id']}"
    before = cache_counts(gateway_metrics)
    answers = [session.get(url, timeout=10) for _ in range(10)]
    assert all(answer.status_code == 200 for answer in answers)
    assert {answer.json()["id"] for answer in answers} == {units["63"]["id"]}
    counted = grown(before, cache_counts(gateway_metrics))
    # One worker: the first read asks the service, the others are hits (one more miss allowed,
    # should an event of something else happen to arrive meanwhile).
    assert counted["hit"] >= 8, counted
    assert 1 <= counted["miss"] <= 2, counted
    assert counted["bypass"] == 0, counted


def test_a_change_no_event_announces_stays_unseen_while_held(gateway, session, units, organisasi_db):
    """The other side of the coin, and the proof that the answer comes from the worker's memory:
    a change written into the database behind the service's back (no outbox, no event) is not
    seen over a connection whose worker holds the answer, though the database has it."""
    unit = units["63.01"]
    url = f"{gateway}/api/v1/units/{unit['id']}"
    assert session.get(url, timeout=10).json()["nama"] == unit["nama"]
    assert session.get(url, timeout=10).json()["nama"] == unit["nama"]
    organisasi_db.units.update_one({"_id": unit["id"]}, {"$set": {"nama": "BKPM Tanpa Peristiwa"}})
    try:
        assert session.get(url, timeout=10).json()["nama"] == unit["nama"]
    finally:
        organisasi_db.units.update_one({"_id": unit["id"]}, {"$set": {"nama": unit["nama"]}})
