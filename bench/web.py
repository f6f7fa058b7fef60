"""The web front-end beside its budgets: Lighthouse (tools/lighthouse, pinned; Debian's Chromium,
headless, the mobile profile with its simulated slow 4G and slowed CPU) on `/`, `/aspirasi` and
the tracking page of a ticket sent through the API: Performance >= 90, Accessibility >= 95, Best
Practices >= 95; the bytes `/aspirasi` transfers (Lighthouse's total-byte-weight, compressed as
sent) at most 150 kB; and the req/s of `/aspirasi` at 32 connections beside a bare Flask app
rendering the same template (bench/flask_bare.py), both under gunicorn with the web app's settings.
The officers' console behind a login, its dashboard (`/konsol`) and the activity form
(`/konsol/kegiatan/baru`), as a pengurus of the bench's unit who logged in through the login page:
Performance >= 80 and Accessibility >= 95 (best practices shown, no budget of their own).

A budget is not a baseline: the baseline column says the budget, and the ratio is left empty."""
import json
import logging
import os
import re
import statistics
import subprocess
import uuid
from dataclasses import dataclass

import requests

from bench import wrk
from bench.report import Row, compare
from bench.runs import alternate, median
from bench.stack import ROOT
from services.stack import free_port, ready, stop, wait_for

log = logging.getLogger("bench")

LIGHTHOUSE = ROOT / "tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
# Headless, and quiet: the browser asks no host but the web app's (no updates, no sync).
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run")
BUDGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
CONSOLE_BUDGETS = {"performance": 80, "accessibility": 95}
CONSOLE_PATHS = ("/konsol", "/konsol/kegiatan/baru")
# The console's person: the password an admin gives, then the one they choose (the first login
# asks for it).
GIVEN_PASSWORD, OWN_PASSWORD = "kuda-lumping-di-pasar", "sapi-perah-di-padang-rumput"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
TRANSFER_BUDGET_KB = 150  # kB of 1,000 bytes
WEB_ARGS = ["-m", "gunicorn", "-c", "python:web.gunicorn_conf"]
ASPIRASI = {"kode_wilayah": "35.78.01.1001", "kategori": "keluhan",
            "isi": "Lampu jalan di gang RT 02 padam sejak seminggu; warga khawatir pencurian."}


@dataclass
class Audit:
    scores: dict  # {category: score out of 100}
    transferred: int  # bytes, as sent (compressed)
    uncompressed: int  # bytes, as the browser had them


def lighthouse(url, report_path, attempts=3, headers=None):
    """A Lighthouse run of `url`, mobile profile, sending `headers` with every request (a login's
    cookie): its category scores and bytes. A run whose trace came out unreadable (on a busy
    machine Chromium now and then records none: NO_NAVSTART, NO_FCP) is taken again, as
    Lighthouse itself advises."""
    if not LIGHTHOUSE.exists():
        raise RuntimeError(f"{LIGHTHOUSE} is missing: `npm ci --prefix tools/lighthouse` (`make bench` does)")
    extra = [f"--extra-headers={json.dumps(headers)}"] if headers else []
    for attempt in range(1, attempts + 1):
        done = subprocess.run(
            [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report_path}",
             f"--only-categories={','.join(BUDGETS)}", f"--chrome-flags={CHROME_FLAGS}", *extra],
            env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            report = json.loads(report_path.read_text())
            if "runtimeError" not in report:
                break
            failure = report["runtimeError"]["code"]
        else:
            failure = f"exit {done.returncode}: {done.stderr.strip()[-2000:]}"
        log.warning("Lighthouse on %s, attempt %d of %d: %s", url, attempt, attempts, failure)
    else:
        raise RuntimeError(f"Lighthouse failed {attempts} times on {url}: {failure}")
    requests = report["audits"]["network-requests"]["details"]["items"]
    return Audit(scores={name: report["categories"][name]["score"] * 100 for name in BUDGETS},
                 transferred=report["audits"]["total-byte-weight"]["numericValue"],
                 uncompressed=sum(item.get("resourceSize", 0) for item in requests))


def ticket(platform):
    """The number of a ticket sent through the API, in the area of the bench's unit."""
    platform.unit()
    return platform.api("POST", "/aspirasi", json=ASPIRASI)["nomor_tiket"]


def console_login(platform, base):
    """The Cookie header of a pengurus of the bench's unit logged in to the console through its
    login page, as a browser does (the form's CSRF token, then the form). The cookie is carried
    by hand: the web app marks it Secure, which requests keeps from plain HTTP."""
    username = f"bench-{uuid.uuid4().hex[:8]}"
    platform.api("POST", "/akun", json={
        "username": username, "nama": "Pengurus Bench", "email": f"{username}@contoh.go.id", "role": "pengurus",
        "wilayah": platform.unit()["kode_wilayah"], "password": GIVEN_PASSWORD})
    pair = platform.api("POST", "/auth/login", json={"username": username, "password": GIVEN_PASSWORD})
    changed = requests.post(f"{platform.base}/api/v1/akun/saya/password", timeout=60,
                            json={"password_lama": GIVEN_PASSWORD, "password_baru": OWN_PASSWORD},
                            headers={"Authorization": f"Bearer {pair['access_token']}"})
    changed.raise_for_status()
    form = requests.get(f"{base}/konsol/masuk", timeout=60)
    cookie = cookie_header(form)
    logged_in = requests.post(f"{base}/konsol/masuk", headers={"Cookie": cookie}, allow_redirects=False, timeout=60,
                              data={"csrf_token": CSRF_FIELD.search(form.text).group(1), "username": username,
                                    "password": OWN_PASSWORD})
    if logged_in.status_code != 303 or not logged_in.headers["Location"].endswith("/konsol"):
        raise RuntimeError(f"the console's login answered {logged_in.status_code} {logged_in.headers.get('Location')}")
    return {"Cookie": cookie_header(logged_in)}


def cookie_header(response):
    return "; ".join(f"{name}={value}" for name, value in response.cookies.items())


def scores_row(path, audits, budgets=BUDGETS):
    scores = {name: statistics.median(audit.scores[name] for audit in audits) for name in BUDGETS}
    words = ", ".join(f"{name.replace('-', ' ')} {score:.0f}" for name, score in scores.items())
    limits = ", ".join(f"{budgets[name]}" if name in budgets else "–" for name in BUDGETS)
    return Row(f"Lighthouse (mobile) `{path}`: performance, accessibility, best practices", words,
               f"budget: {limits}", "", f">= {limits}",
               all(scores[name] >= budget for name, budget in budgets.items()))


def transfer_row(audits):
    kb = statistics.median(audit.transferred for audit in audits) / 1000
    plain = statistics.median(audit.uncompressed for audit in audits) / 1000
    return Row("`/aspirasi`: bytes transferred on first load (Lighthouse total-byte-weight)",
               f"{kb:.1f} kB ({plain:.1f} kB uncompressed)", f"budget: {TRANSFER_BUDGET_KB} kB", "",
               f"<= {TRANSFER_BUDGET_KB} kB", kb <= TRANSFER_BUDGET_KB)


def serve(platform, name, app):
    """gunicorn with the web app's settings serving `app` on a port of its own; (process, base URL)."""
    port = free_port()
    process = platform.launch(name, [*WEB_ARGS, app], WEB_PORT=str(port), WEB_GATEWAY_URL=platform.base)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: ready(f"{base}/aspirasi"), name, 30, [process])
    return process, base


def measure(platform, settings):
    paths = {"/": "/", "/aspirasi": "/aspirasi", "/lacak/{tiket}": f"/lacak/{ticket(platform)}"}
    web, base = serve(platform, "web", "web.wsgi:app")
    try:
        login = console_login(platform, base)
        audits = {shown: [] for shown in (*paths, *CONSOLE_PATHS)}
        for run in range(1, settings.runs + 1):
            log.info("Lighthouse: run %d of %d", run, settings.runs)
            for n, (shown, path) in enumerate(paths.items()):
                audits[shown].append(lighthouse(base + path, platform.workdir / f"lighthouse-{n}-{run}.json"))
            for n, path in enumerate(CONSOLE_PATHS):
                audits[path].append(lighthouse(base + path, platform.workdir / f"lighthouse-konsol-{n}-{run}.json",
                                               headers=login))
        bare, bare_base = serve(platform, "flask-bare", "bench.flask_bare:app")
        try:
            bares, pages = alternate(
                "GET /aspirasi", settings.runs,
                lambda: wrk.run(f"{bare_base}/aspirasi", settings.seconds, settings.connections),
                lambda: wrk.run(f"{base}/aspirasi", settings.seconds, settings.connections))
        finally:
            stop([bare])
    finally:
        stop([web])
    return [
        *(scores_row(shown, audits[shown]) for shown in paths),
        *(scores_row(path, audits[path], CONSOLE_BUDGETS) for path in CONSOLE_PATHS),
        transfer_row(audits["/aspirasi"]),
        compare(f"web `GET /aspirasi`, {settings.connections} connections: throughput", median(pages, "rps"),
                median(bares, "rps"), "req/s", "bare Flask, same template", note=wrk.failures(pages)),
    ]
