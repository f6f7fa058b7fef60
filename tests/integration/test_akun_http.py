"""Accounts and logins end to end: HTTP through gunicorn, RPC over the real broker, the real
database, tokens checked by the gateway and by the services with the platform's public key,
akun's events on its own exchange and never on the public feed."""
import subprocess
import sys
import time
import uuid

import jwt
import pyotp
import pytest
import requests

from tests.support import ROOT, assert_problem, events_fixture, wait_until

PASSWORD = "kuda-lumping-di-pasar"

events = events_fixture("akun.events")


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def account(username=None, role="petugas", wilayah="31.71", **extra):
    return {"username": username or unique("uji"), "nama": "Budi Santoso", "email": "budi@contoh.go.id",
            "telepon": "081234567890", "role": role, "wilayah": wilayah, "password": PASSWORD, **extra}


@pytest.fixture
def client():
    """A client address of its own (behind the trusted proxy), so the per-address limit on
    logins of one test does not reach another's."""
    return {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}


def opened(api, role="petugas", wilayah="31.71", **extra):
    response = api.post("/akun", json=account(role=role, wilayah=wilayah, **extra))
    assert response.status_code == 201, response.text
    return response.json()


def login(api, client, username, password=PASSWORD, **extra):
    return api.post("/auth/login", role=None, headers=client, json={"username": username, "password": password,
                                                                    **extra})


def logged_in(api, client, username, **extra):
    response = login(api, client, username, **extra)
    assert response.status_code == 200, response.text
    return response.json()


def own_password(api, pair, new_password="sapi-perah-di-padang"):
    """What the holder of an account an admin opened does first: replace the password."""
    changed = api.post("/akun/saya/password", role=None, headers=bearer(pair),
                       json={"password_lama": PASSWORD, "password_baru": new_password})
    assert changed.status_code == 200, changed.text
    return changed.json()


def bearer(pair):
    return {"Authorization": f"Bearer {pair['access_token']}"}


def refresh(api, pair):
    return api.post("/auth/refresh", role=None, json={"refresh_token": pair["refresh_token"]})


def claims_of(pair):
    return jwt.decode(pair["access_token"], options={"verify_signature": False})


# Accounts, managed by admins

def test_an_admin_opens_sees_lists_and_changes_accounts_in_its_area(api, events):
    created = opened(api, wilayah="31.71", role="pemantau")
    assert created["wilayah"] == "31.71" and created["ganti_password_wajib"] and created["aktif"]
    assert not {"password", "password_hash"} & set(created)
    province = {"role": "admin", "wilayah": "31"}
    assert api.get(f"/akun/{created['id']}", **province).json() == created
    listed = api.get("/akun", params={"kode_prefix": "31.71", "per_page": 200}, **province).json()
    assert created["id"] in [a["id"] for a in listed["items"]]
    assert all(a["wilayah"].startswith("31.71") for a in listed["items"])
    changed = api.request("PATCH", f"/akun/{created['id']}", json={"role": "petugas", "wilayah": "31.71.01"},
                          **province)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["wilayah"]) == ("petugas", "31.71.01")
    found = events.wait_for(lambda e: e["type"] == "akun.diubah" and e["data"]["id"] == created["id"])
    assert found[0]["data"]["berubah"] == ["role", "wilayah"] and found[0]["wilayah"] == "31.71.01"
    assert "email" not in str(found[0]["data"]) and PASSWORD not in str(events.events())


def test_outside_its_area_or_its_rank_an_admin_is_refused(api):
    created = opened(api, wilayah="31.71")
    elsewhere = {"role": "admin", "wilayah": "32"}
    assert_problem(api.get(f"/akun/{created['id']}", **elsewhere), 403, "akses_ditolak")
    assert_problem(api.request("PATCH", f"/akun/{created['id']}", json={"nama": "Lain"}, **elsewhere), 403)
    province = {"role": "admin", "wilayah": "31"}
    assert_problem(api.request("PATCH", f"/akun/{created['id']}", json={"wilayah": "32.01"}, **province), 403)
    assert_problem(api.post("/akun", json=account(wilayah="32.01"), **province), 403)
    assert_problem(api.post("/akun", json=account(wilayah=None), **province), 403)  # national: above it
    assert_problem(api.post("/akun", json=account(), role="pengurus", wilayah="31"), 403)
    assert_problem(api.get("/akun", role="petugas", wilayah="31"), 403)
    assert_problem(api.get("/akun", params={"kode_prefix": "32"}, **province), 403)
    assert_problem(api.get(f"/akun/{uuid.uuid4()}", **province), 404)


def test_usernames_and_passwords_are_checked(api):
    taken = opened(api)
    assert_problem(api.post("/akun", json=account(taken["username"])), 409, "username_terpakai")
    errors = assert_problem(api.post("/akun", json=account(password="indonesia123")), 400)["errors"]
    assert errors["password"] == ["Kata sandi ini terlalu umum dan mudah ditebak; pilih yang lain."]
    errors = assert_problem(api.post("/akun", json=account(username="Budi Besar", password="pendek")), 400)["errors"]
    assert "username" in errors
    errors = assert_problem(api.post("/akun", json=account(password="pendek")), 400)["errors"]
    assert errors["password"] == ["Kata sandi minimal 12 karakter."]


# Logging in

def test_a_login_gives_tokens_the_services_accept_and_records_it(api, client):
    created = opened(api, role="petugas", wilayah="31.71")
    first = logged_in(api, client, created["username"])
    assert first["token_type"] == "Bearer" and first["expires_in"] == 900
    claims = claims_of(first)
    assert (claims["sub"], claims["roles"], claims["wilayah"]) == (created["id"], ["petugas"], "31.71")
    mine = api.get("/akun/saya", role=None, headers=bearer(first))
    assert mine.status_code == 200 and mine.json()["login_terakhir"] is not None
    # The admin set this password: until its holder replaces it, the token is good for that only.
    assert first["ganti_password_wajib"] and first["hanya"] == "ganti_password"
    units = {"kode_prefix": "31.71"}
    assert_problem(api.get("/units", role=None, headers=bearer(first), params=units), 403, "ganti_password_wajib")
    pair = own_password(api, first)
    assert pair["hanya"] is None and "hanya" not in claims_of(pair)
    # Another service believes it, within its area.
    assert api.get("/units", role=None, headers=bearer(pair), params=units).status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api, client):
    created = opened(api)
    wrong = assert_problem(login(api, client, created["username"], "salah-sekali-ini"), 401, "kredensial_salah")
    unknown = assert_problem(login(api, client, unique("tidak-ada")), 401, "kredensial_salah")
    assert wrong["detail"] == unknown["detail"] == "Nama pengguna atau kata sandi salah."


def test_five_failures_lock_the_username_for_whatever_password_with_retry_after(api, client):
    created = opened(api)
    for _ in range(5):
        assert_problem(login(api, client, created["username"], "salah-sekali-ini"), 401)
    other_client = {"X-Forwarded-For": "203.0.113.99"}
    for who in (client, other_client):  # per username, whatever the address
        locked = login(api, who, created["username"])
        body = assert_problem(locked, 429, "terlalu_banyak_percobaan")
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 and body["retry_after"] == int(
            locked.headers["Retry-After"])
    logged_in(api, client, opened(api)["username"])  # another username is not locked


def test_a_refresh_token_works_once_and_its_reuse_ends_the_login(api, client):
    created = opened(api)
    first = logged_in(api, client, created["username"])
    second = refresh(api, first)
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert claims_of(second)["sid"] == claims_of(first)["sid"]
    assert api.get("/akun/saya", role=None, headers=bearer(second)).status_code == 200
    assert_problem(refresh(api, first), 401, "sesi_tidak_berlaku")   # reused: the login is revoked
    assert_problem(refresh(api, second), 401, "sesi_tidak_berlaku")  # for its holder too
    logged_in(api, client, created["username"])


def test_logging_out_ends_the_login(api, client):
    created = opened(api)
    pair, other = logged_in(api, client, created["username"]), logged_in(api, client, created["username"])
    response = api.post("/auth/logout", role=None, headers=bearer(pair), json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 204, response.text
    assert_problem(refresh(api, pair), 401)
    assert refresh(api, other).status_code == 200
    assert_problem(api.post("/auth/logout", role=None, json={"refresh_token": "x"}), 401)


def test_disabling_an_account_mid_session_ends_its_logins_and_its_access_tokens(api, client, events):
    created = opened(api)
    pair = logged_in(api, client, created["username"])
    disabled = api.request("PATCH", f"/akun/{created['id']}", json={"aktif": False}, role="admin", wilayah="31")
    assert disabled.status_code == 200 and disabled.json()["aktif"] is False
    assert_problem(refresh(api, pair), 401, "sesi_tidak_berlaku")
    assert_problem(login(api, client, created["username"]), 401, "kredensial_salah")
    found = events.wait_for(lambda e: e["type"] == "akun.dinonaktifkan" and e["data"]["id"] == created["id"])
    assert found[0]["data"] == {"id": created["id"], "wilayah": "31.71"}
    # The services hear it and refuse the access tokens issued before.
    wait_until(lambda: api.get("/akun/saya", role=None, headers=bearer(pair)).status_code == 401,
               "the disabled account's access token to be refused")


def test_changing_the_password_ends_the_other_logins(api, client):
    created = opened(api)
    before = logged_in(api, client, created["username"])
    wrong = api.post("/akun/saya/password", role=None, headers=bearer(before),
                     json={"password_lama": "salah-sekali-ini", "password_baru": "sapi-perah-di-padang"})
    assert assert_problem(wrong, 400)["errors"] == {"password_lama": ["Kata sandi lama salah."]}
    changed = api.post("/akun/saya/password", role=None, headers=bearer(before),
                       json={"password_lama": PASSWORD, "password_baru": "sapi-perah-di-padang"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["ganti_password_wajib"] is False
    assert_problem(refresh(api, before), 401)
    assert refresh(api, changed.json()).status_code == 200
    assert_problem(login(api, client, created["username"]), 401)
    logged_in(api, client, created["username"], password="sapi-perah-di-padang")


def test_an_admin_enrols_a_one_time_code_then_logs_in_with_it(api, client):
    created = opened(api, role="admin", wilayah="31.72")
    restricted = logged_in(api, client, created["username"])
    assert restricted["hanya"] == "daftar_otp"
    assert_problem(api.get("/akun", role=None, headers=bearer(restricted)), 403, "otp_belum_didaftarkan")
    enrolment = api.post("/akun/saya/otp", role=None, headers=bearer(restricted))
    assert enrolment.status_code == 200, enrolment.text
    assert enrolment.json()["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(pyotp.parse_uri(enrolment.json()["otpauth_uri"]).secret)
    confirmed = api.post("/akun/saya/otp/aktifkan", role=None, headers=bearer(restricted),
                         json={"kode_otp": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    # The login started with the password alone is over; the new one's next step: the password.
    assert_problem(refresh(api, restricted), 401, "sesi_tidak_berlaku")
    assert confirmed.json()["hanya"] == "ganti_password"
    assert_problem(login(api, client, created["username"]), 401, "otp_diperlukan")
    assert_problem(login(api, client, created["username"], kode_otp="000000"), 401, "kode_otp_salah")
    # The code that confirmed the enrolment is spent: the next one logs in, once.
    time.sleep(30.5 - time.time() % 30)
    code = totp.now()
    first = logged_in(api, client, created["username"], kode_otp=code)
    assert first["hanya"] == "ganti_password"
    assert_problem(login(api, client, created["username"], kode_otp=code), 401, "kode_otp_salah")
    pair = own_password(api, first)
    assert pair["hanya"] is None and "hanya" not in claims_of(pair)
    assert api.get("/akun", role=None, headers=bearer(pair)).status_code == 200


# The first admin, from the command line

def bkpm(env, *args, stdin=None):
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_first_admin_is_made_on_the_command_line_and_announced(api, env, client, events):
    username = unique("admin")
    made = bkpm(env, "akun", "buat", "--username", username, "--role", "admin", "--wilayah", "33", "--nama",
                "Admin Jateng", "--email", "admin@jateng.go.id", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    pair = logged_in(api, client, username)
    assert claims_of(pair)["wilayah"] == "33" and pair["ganti_password_wajib"] is False
    events.wait_for(lambda e: e["type"] == "akun.dibuat" and e["data"]["id"] == claims_of(pair)["sub"], timeout=15)
    again = bkpm(env, "akun", "buat", "--username", username, "--role", "admin", "--nama", "Lagi", "--email",
                 "a@b.go.id", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode != 0 and "sudah dipakai" in again.stderr


def test_without_a_password_the_command_line_prints_a_one_time_one(api, env, client):
    username = unique("pusat")
    made = bkpm(env, "akun", "buat", "--username", username, "--role", "pemantau", "--nama", "Pemantau Pusat",
                "--email", "pusat@polri.go.id")
    assert made.returncode == 0, made.stderr
    one_time = made.stdout.strip().splitlines()[-1].rsplit(": ", 1)[1]
    pair = logged_in(api, client, username, password=one_time)
    assert pair["ganti_password_wajib"] is True and "wilayah" not in claims_of(pair)
    weak = bkpm(env, "akun", "buat", "--username", unique("lemah"), "--role", "petugas", "--nama", "L", "--email",
                "l@polri.go.id", "--password-stdin", stdin="rahasia\n")
    assert weak.returncode != 0 and "minimal 12 karakter" in weak.stderr


def test_account_events_never_reach_the_public_feed(api, public_feed, events):
    created = opened(api)
    events.wait_for(lambda e: e["type"] == "akun.dibuat" and e["data"]["id"] == created["id"])
    assert not [m for m in public_feed.messages if m["body"]["source"] == "/bkpm/akun"]
    log = api.get("/events", params={"type": "akun.*"}).json()
    assert log["items"] == []
    assert requests.get(f"{api.base}/openapi.json", timeout=10).json()["paths"]["/api/v1/auth/login"]["post"][
        "security"] == []


# Machine accounts of other systems

def client_token(api, klien, client, basic=False):
    form = {"grant_type": "client_credentials"}
    credentials = (klien["client_id"], klien["client_secret"])
    if basic:
        return requests.post(f"{api.base}/api/v1/auth/token", data=form, auth=credentials, headers=client, timeout=15)
    return requests.post(f"{api.base}/api/v1/auth/token", headers=client, timeout=15,
                         data={**form, "client_id": credentials[0], "client_secret": credentials[1]})


def test_another_system_reads_its_areas_event_log_with_client_credentials_and_nothing_else(api, client):
    made = api.post("/klien", json={"nama": "SIPP Polda Metro", "wilayah": "31.71"}, role="admin", wilayah="31")
    assert made.status_code == 201, made.text
    klien = made.json()
    listed = api.get("/klien", role="admin", wilayah="31").json()["items"]
    assert klien["client_id"] in [item["client_id"] for item in listed]
    assert all("client_secret" not in item for item in listed)
    for basic in (False, True):
        answer = client_token(api, klien, client, basic)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Cache-Control"] == "no-store" and answer.json()["token_type"] == "Bearer"
    reader = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    log = api.get("/events", role=None, headers=reader)
    assert log.status_code == 200, log.text
    assert all(event["wilayah"].startswith("31.71") for event in log.json()["items"])
    assert_problem(api.get("/events", role=None, headers=reader, params={"wilayah": "32"}), 403)
    assert_problem(api.get("/units", role=None, headers=reader), 403, "hanya_log_peristiwa")
    assert_problem(api.get("/akun/saya", role=None, headers=reader), 403, "hanya_log_peristiwa")
    wrong = client_token(api, {**klien, "client_secret": "bukan-rahasianya"}, client)
    assert assert_problem(wrong, 401, "invalid_client")["error"] == "invalid_client"
    form = requests.post(f"{api.base}/api/v1/auth/token", data={"grant_type": "password"}, headers=client, timeout=15)
    assert "grant_type" in assert_problem(form, 400)["errors"]
    both_ways = requests.post(f"{api.base}/api/v1/auth/token", auth=(klien["client_id"], klien["client_secret"]),
                              data={"grant_type": "client_credentials", "client_id": klien["client_id"]},
                              headers=client, timeout=15)
    assert "client_id" in assert_problem(both_ways, 400)["errors"]
    nothing = requests.post(f"{api.base}/api/v1/auth/token", data={"grant_type": "client_credentials"},
                            headers=client, timeout=15)
    assert_problem(nothing, 401, "invalid_client")
    # Disabled: no new token, and the one it holds is refused once the services hear of it.
    disabled = api.request("PATCH", f"/klien/{klien['client_id']}", json={"aktif": False}, role="admin", wilayah="31")
    assert disabled.status_code == 200 and disabled.json()["aktif"] is False, disabled.text
    assert_problem(client_token(api, klien, client), 401, "invalid_client")
    wait_until(lambda: api.get("/events", role=None, headers=reader).status_code == 401,
               "the disabled client's access token to be refused")


def test_machine_accounts_are_managed_by_admins_of_their_area(api, client):
    klien = api.post("/klien", json={"nama": "SIPP", "wilayah": "31.71"}, role="admin", wilayah="31").json()
    assert_problem(api.post("/klien", json={"nama": "SIPP", "wilayah": "32"}, role="admin", wilayah="31"), 403)
    assert_problem(api.post("/klien", json={"nama": "SIPP", "wilayah": "31.71"}, role="pengurus", wilayah="31"), 403)
    assert_problem(api.post(f"/klien/{klien['client_id']}/rahasia", role="admin", wilayah="32"), 403)
    renewed = api.post(f"/klien/{klien['client_id']}/rahasia", role="admin", wilayah="31.71")
    assert renewed.status_code == 200, renewed.text
    assert_problem(client_token(api, klien, client), 401, "invalid_client")
    assert client_token(api, renewed.json(), client).status_code == 200
