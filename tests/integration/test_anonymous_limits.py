"""Anonymous submissions to a gateway whose workers share a rate-limit storage (limits' MongoDB
storage, on this run's SecantusDB): they count a client together, and a solved ALTCHA challenge
(the real work, solved as a script would) is accepted once, whichever worker sees it again.
(tests/unit/test_gateway_anonymous_limits.py has the rest, in-process.)"""
import json
from concurrent.futures import ThreadPoolExecutor

import altcha
import pytest
import requests
from prometheus_client.mmap_dict import MmapedDict

from services.stack import free_port, ready, wait_for
from tests.support import Process, by_entrypoint, form_units

AREA = "65.71.01.1001"
LIMIT = 4  # submissions an hour per client address without ALTCHA, in the gateway sharing its storage


@pytest.fixture(scope="module")
def tarakan(api, national_unit):
    return form_units(api, "65", "65.71")


def aspiration(isi):
    return {"kode_wilayah": AREA, "kategori": "masukan", "isi": isi}


@pytest.fixture(scope="module")
def shared_gateway(env, gateway, logs, tmp_path_factory):
    """A second gateway of two workers beside the platform's, counting in the database's
    storage; yields its address and the folder its workers keep their metrics in."""
    port, metrics = free_port(), tmp_path_factory.mktemp("metrics")
    process = Process("gateway-shared-limits", None, {
        **env, "GATEWAY_PORT": str(port), "GATEWAY_WORKERS": "2", "RATE_LIMIT_STORAGE_URI": env["MONGO_URI"],
        "ASPIRASI_RATE_LIMIT_TANPA_ALTCHA": f"{LIMIT} per hour", "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        logs, argv=by_entrypoint("gateway"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(f"{base}/ready"), "the second gateway's /ready", 60)
    except Exception:
        print(process.log()[-3000:])
        raise
    yield base, metrics
    process.stop()


def workers_that_answered(metrics, route):
    """The gateway workers (by their metrics files) that counted an answer on `route`."""
    return {path.name for path in metrics.glob("counter_*.db")
            for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path))
            if json.loads(key)[1] == "bkpm_http_requests_total" and json.loads(key)[2]["route"] == route and value}


def test_workers_sharing_a_storage_count_a_client_together(shared_gateway, tarakan):
    base, metrics = shared_gateway
    client = {"X-Forwarded-For": "203.0.113.62"}

    def submit(n):  # each on a connection of its own, which either worker may take
        return requests.post(f"{base}/api/v1/aspirasi", json=aspiration(f"Aspirasi ke-{n}"), headers=client,
                             timeout=15).status_code

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(submit, range(6 * LIMIT)))
    assert len(workers_that_answered(metrics, "/api/v1/aspirasi")) == 2
    assert (answers.count(201), answers.count(429)) == (LIMIT, 5 * LIMIT), answers


def test_a_solved_challenge_is_accepted_once_by_all_the_workers(shared_gateway, tarakan):
    base, metrics = shared_gateway
    client = {"X-Forwarded-For": "203.0.113.61"}
    challenge = altcha.Challenge.from_dict(requests.get(f"{base}/api/v1/altcha", headers=client, timeout=15).json())
    payload = altcha.Payload(challenge, altcha.solve_challenge(challenge, timeout=30)).to_base64()

    def submit(n):
        return requests.post(f"{base}/api/v1/aspirasi", json=aspiration(f"Jalan berlubang ({n})."),
                             headers={**client, "X-Altcha": payload}, timeout=15)

    assert submit(0).status_code == 201
    with ThreadPoolExecutor(4) as pool:
        again = list(pool.map(submit, range(1, 9)))
    assert all(response.status_code == 400 and "sudah dipakai" in response.json()["errors"]["altcha"][0]
               for response in again), [response.text for response in again]
