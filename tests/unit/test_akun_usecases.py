"""akun's use cases over an in-memory store: who manages which accounts where, passwords,
logging in (the same answer for every failure, the lockout and its end), refresh-token
rotation and reuse, logging out, disabling an account, one-time codes; and the events, which
never carry a contact or a password. No broker, no database."""
from datetime import datetime, timedelta, timezone

import jwt
import pyotp
import pytest
from argon2 import PasswordHasher

from services.akun import domain, usecases
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from services.common.tokens import Audience, KeySet, SigningKey, new_private_pem, public_pem
from tests.unit.fake_akun import FakeAkunRepository
from tests.unit.fakes import ADMIN, actor

# Near the real time: the access tokens issued are verified as a service would.
NOW = datetime.now(timezone.utc).replace(microsecond=0)
PAGE = {"page": 1, "per_page": 20}
PASSWORD = "kuda-lumping-di-pasar"
AUDIENCE = Audience("bkpm", "bkpm-api")
PRIVATE = new_private_pem()
KEYS = KeySet([public_pem(PRIVATE)], AUDIENCE)
PASSWORDS = domain.Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
ISSUER = usecases.Issuer(PASSWORDS, SigningKey(PRIVATE, AUDIENCE), domain.LoginPolicy())


def new_account(username="budi", role="petugas", wilayah="31.71", **extra):
    return {"username": username, "nama": "Budi Santoso", "email": "budi@contoh.go.id", "telepon": "081234567890",
            "role": role, "wilayah": wilayah, "password": PASSWORD, **extra}


@pytest.fixture(autouse=True)
def near_the_real_time():
    """NOW is the time each test starts: the suite may run long after this module is imported,
    and the tokens a test issues are verified against the real clock."""
    global NOW
    NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def store():
    return FakeAkunRepository()


@pytest.fixture
def budi(store):
    return usecases.buat_akun(actor("admin", "31"), new_account(), store, PASSWORDS, NOW)


def refused(error_class, func, *args, **kwargs):
    with pytest.raises(error_class) as caught:
        func(*args, **kwargs)
    return caught.value.payload


def login(store, username="budi", password=PASSWORD, now=None, **extra):
    return usecases.buat_sesi({"username": username, "password": password, **extra}, store, ISSUER, now or NOW)


def refresh(store, token, now=None):
    return usecases.perbarui_sesi({"refresh_token": token}, store, ISSUER, now or NOW)


def unverified(token):
    """The claims of a token issued at a clock ahead of the real one (not valid yet)."""
    return jwt.decode(token, options={"verify_signature": False})


def holder(account):
    return actor(account["role"], account["wilayah"], sub=account["id"])


# Accounts, managed by admins

def test_an_admin_opens_an_account_in_its_area_and_it_is_announced_without_personal_data(store, budi):
    assert budi["username"] == "budi" and budi["aktif"] and budi["ganti_password_wajib"]
    assert budi["email"] == "budi@contoh.go.id" and budi["login_terakhir"] is None and not budi["otp_aktif"]
    assert not {"password", "password_hash", "otp_rahasia"} & set(budi)
    assert PASSWORDS.matches(store.akun(budi["id"])["password_hash"], PASSWORD)
    assert store.akun(budi["id"])["dibuat_oleh"] == "admin-31"
    event = store.uow.events[-1]
    assert (event["type"], event["subject"], event["wilayah"]) == ("akun.dibuat", f"akun/{budi['id']}", "31.71")
    assert event["data"] == {"id": budi["id"], "role": "petugas", "wilayah": "31.71",
                             "aktif": True, "pengurus_id": None}
    assert event["public"] is None  # internal: never on the public feed


@pytest.mark.parametrize("who, data", [
    (actor("admin", "31"), new_account(wilayah="32.01")),          # another province
    (actor("admin", "31.71"), new_account(wilayah="31")),          # above its own area
    (actor("admin", "31"), new_account(wilayah=None)),             # national
    (actor("pengurus", "31"), new_account()),                      # only admins manage accounts
    (actor("petugas", None), new_account()),
])
def test_accounts_are_opened_only_by_admins_within_their_area(store, who, data):
    refused(Forbidden, usecases.buat_akun, who, data, store, PASSWORDS, NOW)
    assert store.uow.events == []


def test_a_national_admin_opens_national_accounts(store):
    created = usecases.buat_akun(ADMIN, new_account(role="admin", wilayah=None), store, PASSWORDS, NOW)
    assert created["wilayah"] is None and created["role"] == "admin"


def test_a_username_is_taken_once(store, budi):
    payload = refused(Conflict, usecases.buat_akun, ADMIN, new_account(nama="Budi Lain"), store, PASSWORDS, NOW)
    assert payload["code"] == "username_terpakai"
    assert store.uow.types() == ["akun.dibuat"]


@pytest.mark.parametrize("password, message", [
    ("pendek", "Kata sandi minimal 12 karakter."),
    ("BUDI", "Kata sandi minimal 12 karakter."),
    ("bismillah123", "Kata sandi ini terlalu umum dan mudah ditebak; pilih yang lain."),
])
def test_a_weak_initial_password_is_a_field_error(store, password, message):
    payload = refused(InvalidInput, usecases.buat_akun, ADMIN, new_account(password=password), store, PASSWORDS, NOW)
    assert message in payload["errors"]["password"]


def test_a_password_equal_to_the_username_is_refused(store):
    payload = refused(InvalidInput, usecases.buat_akun, ADMIN,
                      new_account(username="budi.santoso.1", password="Budi.Santoso.1"), store, PASSWORDS, NOW)
    assert payload["errors"] == {"password": ["Kata sandi tidak boleh sama dengan nama pengguna."]}


def test_accounts_are_seen_and_listed_within_the_admins_area(store, budi):
    usecases.buat_akun(ADMIN, new_account("siti", wilayah="32.01"), store, PASSWORDS, NOW)
    usecases.buat_akun(ADMIN, new_account("andi", role="pemantau", wilayah="31"), store, PASSWORDS, NOW)
    province = actor("admin", "31")
    assert usecases.get_akun(province, budi["id"], store)["username"] == "budi"
    assert [a["username"] for a in usecases.list_akun(province, PAGE, store)["items"]] == ["andi", "budi"]
    assert [a["username"] for a in usecases.list_akun(ADMIN, {**PAGE, "role": "petugas"}, store)["items"]] == [
        "budi", "siti"]
    assert usecases.list_akun(province, {**PAGE, "kode_prefix": "31.71"}, store)["total"] == 1
    refused(Forbidden, usecases.list_akun, province, {**PAGE, "kode_prefix": "32"}, store)
    refused(Forbidden, usecases.get_akun, actor("admin", "32"), budi["id"], store)
    refused(Forbidden, usecases.get_akun, actor("pengurus", "31"), budi["id"], store)
    refused(Forbidden, usecases.list_akun, actor("pemantau", None), PAGE, store)
    refused(NotFound, usecases.get_akun, province, "akun-tidak-ada", store)


def test_an_admin_changes_an_account_within_its_area_and_the_change_is_named_not_shown(store, budi):
    changed = usecases.ubah_akun(actor("admin", "31"), budi["id"], {"role": "pengurus", "wilayah": "31",
                                                                    "email": "budi@baru.go.id"}, store, NOW)
    assert (changed["role"], changed["wilayah"], changed["email"]) == ("pengurus", "31", "budi@baru.go.id")
    event = store.uow.events[-1]
    assert (event["type"], event["wilayah"]) == ("akun.diubah", "31")
    assert event["data"]["berubah"] == ["email", "role", "wilayah"] and "email" not in event["data"]
    assert event["public"] is None


def test_nothing_changed_is_no_event(store, budi):
    usecases.ubah_akun(ADMIN, budi["id"], {"role": "petugas", "nama": "Budi Santoso"}, store, NOW)
    assert store.uow.types() == ["akun.dibuat"]


@pytest.mark.parametrize("who, data", [
    (actor("admin", "31"), {"wilayah": "32"}),           # moved outside the admin's area
    (actor("admin", "31"), {"wilayah": None}),           # made national
    (actor("admin", "31.72"), {"nama": "Budi"}),         # an account outside its area
    (actor("pengurus", "31"), {"nama": "Budi"}),
])
def test_changes_stay_within_the_admins_area(store, budi, who, data):
    refused(Forbidden, usecases.ubah_akun, who, budi["id"], data, store, NOW)


def test_an_admin_does_not_change_its_own_role_area_or_state(store):
    own = usecases.buat_akun(ADMIN, new_account("admin31", role="admin", wilayah="31"), store, PASSWORDS, NOW)
    me = actor("admin", "31", sub=own["id"])
    for change in ({"aktif": False}, {"role": "petugas"}, {"wilayah": "31.71"}):
        assert refused(Conflict, usecases.ubah_akun, me, own["id"], change, store, NOW)["code"] == "akun_sendiri"
    assert usecases.ubah_akun(me, own["id"], {"telepon": None}, store, NOW)["telepon"] is None


def test_disabling_an_account_ends_its_logins_and_is_announced(store, budi):
    pair = login(store)
    other = login(store)
    usecases.ubah_akun(actor("admin", "31"), budi["id"], {"aktif": False}, store, NOW)
    assert store.uow.types()[-2:] == ["akun.diubah", "akun.dinonaktifkan"]
    event = store.uow.events[-1]
    assert event["data"] == {"id": budi["id"], "wilayah": "31.71"} and event["public"] is None
    for tokens in (pair, other):
        assert refused(Unauthorized, refresh, store, tokens["refresh_token"])["code"] == "sesi_tidak_berlaku"
    assert refused(Unauthorized, login, store)["code"] == "kredensial_salah"


# The account holder

def test_the_holder_sees_its_own_account(store, budi):
    assert usecases.get_akun_saya(holder(budi), store)["id"] == budi["id"]
    refused(NotFound, usecases.get_akun_saya, actor("petugas", "31.71", sub="bkpm-cli"), store)


def test_changing_the_password_needs_the_old_one_ends_every_login_and_answers_a_new_one(store, budi):
    before = login(store)
    change = {"password_lama": PASSWORD, "password_baru": "sapi-perah-di-padang"}
    pair = usecases.ganti_password(holder(budi), change, store, ISSUER, NOW)
    assert pair["token_type"] == "Bearer" and not pair["ganti_password_wajib"]
    assert not store.akun(budi["id"])["ganti_password_wajib"]
    refused(Unauthorized, refresh, store, before["refresh_token"])
    refresh(store, pair["refresh_token"])
    refused(Unauthorized, login, store)
    login(store, password="sapi-perah-di-padang")
    event = store.uow.events[-1]
    assert event["type"] == "akun.diubah" and event["data"]["berubah"] == ["password"]
    assert PASSWORD not in str(store.uow.events) and "sapi-perah" not in str(store.uow.events)


@pytest.mark.parametrize("change, field, message", [
    ({"password_lama": "salah-sekali-ini", "password_baru": "sapi-perah-di-padang"}, "password_lama",
     "Kata sandi lama salah."),
    ({"password_lama": PASSWORD, "password_baru": "rahasia"}, "password_baru", "Kata sandi minimal 12 karakter."),
    ({"password_lama": PASSWORD, "password_baru": PASSWORD}, "password_baru",
     "Kata sandi baru harus berbeda dari yang lama."),
])
def test_a_password_change_is_refused_field_by_field(store, budi, change, field, message):
    payload = refused(InvalidInput, usecases.ganti_password, holder(budi), change, store, ISSUER, NOW)
    assert message in payload["errors"][field]
    assert PASSWORDS.matches(store.akun(budi["id"])["password_hash"], PASSWORD)


def test_wrong_old_passwords_count_towards_the_lockout(store, budi):
    wrong = {"password_lama": "salah-sekali-ini", "password_baru": "sapi-perah-di-padang"}
    for _ in range(5):
        refused(InvalidInput, usecases.ganti_password, holder(budi), wrong, store, ISSUER, NOW)
    refused(TooManyAttempts, usecases.ganti_password, holder(budi), {**wrong, "password_lama": PASSWORD}, store,
            ISSUER, NOW)


# Logging in

def test_a_login_answers_a_signed_access_token_for_the_account_and_a_refresh_token(store, budi):
    pair = login(store, username=" Budi ")
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    claims = KEYS.verify(pair["access_token"])
    assert claims["sub"] == budi["id"] and claims["roles"] == ["petugas"] and claims["wilayah"] == "31.71"
    assert claims["exp"] - claims["iat"] == 900 and claims["iss"] == "bkpm" and claims["aud"] == "bkpm-api"
    sesi = store.sesi_of_token(domain.token_hash(pair["refresh_token"]))
    assert claims["sid"] == sesi["id"] and sesi["akun_id"] == budi["id"]
    assert sesi["berakhir"] == NOW + timedelta(days=14)
    assert pair["refresh_token"] not in str(store.tables)  # only its hash is kept
    assert store.akun(budi["id"])["login_terakhir"] == NOW


def test_a_password_someone_else_set_gives_a_token_only_for_replacing_it(store, budi):
    pair = login(store)
    assert pair["ganti_password_wajib"] and pair["hanya"] == "ganti_password"
    assert KEYS.verify(refresh(store, pair["refresh_token"])["access_token"])["hanya"] == "ganti_password"
    change = {"password_lama": PASSWORD, "password_baru": "sapi-perah-di-padang"}
    replaced = usecases.ganti_password(holder(budi), change, store, ISSUER, NOW)
    assert replaced["hanya"] is None and "hanya" not in KEYS.verify(replaced["access_token"])
    assert login(store, password="sapi-perah-di-padang")["hanya"] is None


def test_a_national_account_has_no_area_claim(store):
    usecases.buat_akun(ADMIN, new_account("pusat", role="pemantau", wilayah=None), store, PASSWORDS, NOW)
    assert "wilayah" not in KEYS.verify(login(store, "pusat")["access_token"])


def test_an_unknown_user_a_wrong_password_and_a_disabled_account_get_one_answer(store, budi):
    usecases.buat_akun(ADMIN, new_account("mati", aktif=False), store, PASSWORDS, NOW)
    answers = [refused(Unauthorized, login, store, "budi", "salah-sekali-ini"),
               refused(Unauthorized, login, store, "tidak.ada", PASSWORD),
               refused(Unauthorized, login, store, "mati", PASSWORD)]
    assert answers == [{"code": "kredensial_salah", "detail": "Nama pengguna atau kata sandi salah."}] * 3


def test_an_unknown_user_is_checked_against_a_hash_as_dear_as_a_real_one(store, monkeypatch):
    checked = []
    monkeypatch.setattr(PASSWORDS, "matches", lambda hashed, password: checked.append(hashed) or False)
    refused(Unauthorized, login, store, "tidak.ada", PASSWORD)
    assert checked == [PASSWORDS.dummy_hash]


def test_five_failures_lock_the_username_whatever_the_password_until_the_window_passes(store, budi):
    for minute in range(5):
        refused(Unauthorized, login, store, password="salah-sekali-ini", now=NOW + timedelta(minutes=minute))
    locked = refused(TooManyAttempts, login, store, now=NOW + timedelta(minutes=5))
    assert locked["code"] == "terlalu_banyak_percobaan" and locked["retry_after"] == 10 * 60
    # Attempts while locked do not prolong it.
    refused(TooManyAttempts, login, store, password="salah-lagi-sekali", now=NOW + timedelta(minutes=14))
    assert login(store, now=NOW + timedelta(minutes=15))["token_type"] == "Bearer"
    assert store.failures_since("budi", NOW) == []  # a login clears the count


def test_a_burst_of_simultaneous_attempts_gets_no_more_than_the_limit(store, budi, monkeypatch):
    """Each attempt is counted before its password is checked: here every check lets the next
    attempt in, as ten requests arriving at once would, and only five are checked at all."""
    started, checked, answers = [], [], []
    real_matches = PASSWORDS.matches

    def slow_check(hashed, password):
        checked.append(password)
        while len(started) < 10:
            attempt()
        return real_matches(hashed, password)

    def attempt():
        started.append(1)
        try:
            login(store, password="salah-sekali-ini")
        except (Unauthorized, TooManyAttempts) as refusal:
            answers.append(type(refusal))

    monkeypatch.setattr(PASSWORDS, "matches", slow_check)
    attempt()
    assert len(checked) == 5 and answers.count(Unauthorized) == 5 and answers.count(TooManyAttempts) == 5
    assert len(store.failures_since("budi", NOW)) == 5  # the refused ones are not counted


def test_unknown_usernames_are_locked_the_same(store):
    for _ in range(5):
        refused(Unauthorized, login, store, "tidak.ada", PASSWORD)
    refused(TooManyAttempts, login, store, "tidak.ada", PASSWORD)


def test_a_lock_is_per_username(store, budi):
    usecases.buat_akun(ADMIN, new_account("siti"), store, PASSWORDS, NOW)
    for _ in range(5):
        refused(Unauthorized, login, store, password="salah-sekali-ini")
    refused(TooManyAttempts, login, store)
    login(store, "siti")


def test_fewer_failures_then_a_login_start_the_count_again(store, budi):
    for _ in range(4):
        refused(Unauthorized, login, store, password="salah-sekali-ini")
    login(store)
    for _ in range(4):
        refused(Unauthorized, login, store, password="salah-sekali-ini")
    login(store)


# Refresh rotation, reuse, logout

def test_a_refresh_token_gives_a_new_pair_once(store, budi):
    first = login(store)
    second = refresh(store, first["refresh_token"], NOW + timedelta(minutes=10))
    assert second["refresh_token"] != first["refresh_token"]
    assert unverified(second["access_token"])["sid"] == KEYS.verify(first["access_token"])["sid"]
    third = refresh(store, second["refresh_token"], NOW + timedelta(minutes=20))
    assert third["token_type"] == "Bearer"


def test_a_used_refresh_token_presented_again_revokes_the_whole_login(store, budi):
    first = login(store)
    second = refresh(store, first["refresh_token"])
    assert refused(Unauthorized, refresh, store, first["refresh_token"])["code"] == "sesi_tidak_berlaku"
    refused(Unauthorized, refresh, store, second["refresh_token"])  # the thief's copy and the holder's alike
    sesi = store.sesi_of_token(domain.token_hash(second["refresh_token"]))
    assert sesi["alasan_cabut"] == "token_dipakai_ulang"
    login(store)  # the account itself is fine


def test_a_login_lives_refresh_token_days(store, budi):
    pair = login(store)
    refused(Unauthorized, refresh, store, pair["refresh_token"], NOW + timedelta(days=14, seconds=1))
    refused(Unauthorized, refresh, store, "bukan-token-kami")


def test_a_changed_role_reaches_the_next_access_token(store, budi):
    pair = login(store)
    usecases.ubah_akun(ADMIN, budi["id"], {"role": "pemantau", "wilayah": "31.71.01"}, store, NOW)
    claims = KEYS.verify(refresh(store, pair["refresh_token"])["access_token"])
    assert (claims["roles"], claims["wilayah"]) == (["pemantau"], "31.71.01")


def test_logging_out_ends_the_callers_login_only(store, budi):
    siti = usecases.buat_akun(ADMIN, new_account("siti"), store, PASSWORDS, NOW)
    mine, other = login(store), login(store)
    sitis = login(store, "siti")
    usecases.akhiri_sesi(holder(budi), {"refresh_token": mine["refresh_token"]}, store, NOW)
    usecases.akhiri_sesi(holder(budi), {"refresh_token": sitis["refresh_token"]}, store, NOW)  # not budi's
    usecases.akhiri_sesi(holder(budi), {"refresh_token": "tidak-dikenal"}, store, NOW)
    refused(Unauthorized, refresh, store, mine["refresh_token"])
    refresh(store, other["refresh_token"])
    refresh(store, sitis["refresh_token"])
    assert siti["id"] != budi["id"]


# One-time codes

@pytest.fixture
def admin(store):
    return usecases.buat_akun(ADMIN, new_account("admin.jkt", role="admin", wilayah="31"), store, PASSWORDS, NOW)


def enrol(store, account):
    enrolment = usecases.daftarkan_otp(holder(account), store, NOW)
    secret = pyotp.parse_uri(enrolment["otpauth_uri"]).secret
    usecases.aktifkan_otp(holder(account), {"kode_otp": pyotp.TOTP(secret).at(NOW)}, store, ISSUER, NOW)
    return pyotp.TOTP(secret)


def test_an_admin_without_a_code_enrolled_gets_a_token_only_for_enrolling(store, admin):
    pair = login(store, "admin.jkt")
    assert pair["hanya"] == "daftar_otp" and KEYS.verify(pair["access_token"])["hanya"] == "daftar_otp"
    assert KEYS.verify(refresh(store, pair["refresh_token"])["access_token"])["hanya"] == "daftar_otp"


def test_enrolling_gives_an_otpauth_uri_and_qr_and_counts_once_confirmed(store, admin):
    enrolment = usecases.daftarkan_otp(holder(admin), store, NOW)
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/BKPM:admin.jkt?secret=")
    assert enrolment["qr_svg"].startswith("<svg")
    assert not store.akun(admin["id"])["otp_aktif"]
    refused(InvalidInput, usecases.aktifkan_otp, holder(admin), {"kode_otp": "000000"}, store, ISSUER, NOW)
    secret = pyotp.parse_uri(enrolment["otpauth_uri"]).secret
    pair = usecases.aktifkan_otp(holder(admin), {"kode_otp": pyotp.TOTP(secret).at(NOW)}, store, ISSUER, NOW)
    assert pair["hanya"] == "ganti_password"  # next: the password its admin set
    assert store.akun(admin["id"])["otp_aktif"] and store.uow.events[-1]["data"]["berubah"] == ["otp"]
    assert secret not in str(store.uow.events)
    assert refused(Conflict, usecases.daftarkan_otp, holder(admin), store, NOW)["code"] == "otp_sudah_aktif"


def test_confirming_without_enrolling_first_is_refused(store, admin):
    payload = refused(Conflict, usecases.aktifkan_otp, holder(admin), {"kode_otp": "123456"}, store, ISSUER, NOW)
    assert payload["code"] == "otp_belum_didaftarkan"


def test_once_enrolled_a_login_needs_the_code_and_each_code_is_good_once(store, admin):
    totp = enrol(store, admin)
    later = NOW + timedelta(minutes=1)
    assert refused(Unauthorized, login, store, "admin.jkt", now=later)["code"] == "otp_diperlukan"
    assert refused(Unauthorized, login, store, "admin.jkt", kode_otp="000000", now=later)["code"] == "kode_otp_salah"
    pair = login(store, "admin.jkt", kode_otp=totp.at(later), now=later)
    assert pair["hanya"] == unverified(pair["access_token"])["hanya"] == "ganti_password"  # the code is done
    assert refused(Unauthorized, login, store, "admin.jkt", kode_otp=totp.at(later), now=later)["code"] == \
        "kode_otp_salah"


def test_confirming_a_code_ends_the_logins_started_with_the_password_alone(store, admin):
    before = login(store, "admin.jkt")  # someone who knew the password, before the code
    enrol(store, admin)
    assert refused(Unauthorized, refresh, store, before["refresh_token"])["code"] == "sesi_tidak_berlaku"


def test_whoever_enrolled_a_code_is_asked_for_it_whatever_the_role(store, budi):
    enrol(store, budi)
    later = NOW + timedelta(minutes=1)
    assert refused(Unauthorized, login, store, now=later)["code"] == "otp_diperlukan"


def test_an_admin_removes_a_lost_second_factor_and_the_holder_enrols_again(store, admin):
    national = actor("admin", None, sub="admin-pusat")
    totp = enrol(store, admin)
    later = NOW + timedelta(minutes=1)
    pair = login(store, "admin.jkt", kode_otp=totp.at(later), now=later)
    changed = usecases.ubah_akun(national, admin["id"], {"otp_aktif": False}, store, later)
    assert not changed["otp_aktif"] and store.akun(admin["id"])["otp_rahasia"] is None
    assert store.uow.events[-1]["data"]["berubah"] == ["otp_aktif"]
    refused(Unauthorized, refresh, store, pair["refresh_token"], later)
    assert login(store, "admin.jkt", now=later)["hanya"] == "daftar_otp"


def test_an_admin_does_not_remove_its_own_second_factor(store, admin):
    enrol(store, admin)
    payload = refused(Conflict, usecases.ubah_akun, holder(admin), admin["id"], {"otp_aktif": False}, store, NOW)
    assert payload["code"] == "akun_sendiri"


def test_the_code_is_asked_only_after_the_right_password(store, admin):
    enrol(store, admin)
    assert refused(Unauthorized, login, store, "admin.jkt", "salah-sekali-ini")["code"] == "kredensial_salah"


def test_an_admin_demoted_or_moved_a_moment_ago_manages_no_account_with_the_token_it_still_holds(store):
    national = actor("admin", None, sub="admin-pusat")
    jateng = usecases.buat_akun(national, new_account("admin.jateng", role="admin", wilayah="33"), store, PASSWORDS,
                                NOW)
    held = actor("admin", "33", sub=jateng["id"])  # what its token says for up to 15 minutes
    usecases.buat_akun(held, new_account("petugas.semarang", wilayah="33.74"), store, PASSWORDS, NOW)
    usecases.ubah_akun(national, jateng["id"], {"role": "petugas"}, store, NOW)
    refused(Forbidden, usecases.buat_akun, held, new_account("admin.baru", role="admin", wilayah="33"), store,
            PASSWORDS, NOW)
    refused(Forbidden, usecases.list_akun, held, PAGE, store)
    usecases.ubah_akun(national, jateng["id"], {"role": "admin", "wilayah": "33.74"}, store, NOW)
    listed = usecases.list_akun(held, PAGE, store)  # now scoped to 33.74, whatever the token says
    assert {account["wilayah"] for account in listed["items"]} == {"33.74"}
    usecases.ubah_akun(national, jateng["id"], {"aktif": False}, store, NOW)
    assert refused(Unauthorized, usecases.list_akun, held, PAGE, store)["code"] == "akun_nonaktif"


# Machine accounts of other systems

def client_token(store, klien, secret=None):
    data = {"grant_type": "client_credentials", "client_id": klien["client_id"],
            "client_secret": secret or klien["client_secret"]}
    return usecases.buat_token_klien(data, store, ISSUER, NOW)


def test_an_admin_makes_a_machine_account_whose_secret_is_shown_once_and_kept_as_a_hash(store):
    klien = usecases.buat_klien(actor("admin", "31"), {"nama": "SIPP Polda Metro", "wilayah": "31.71"}, store, NOW)
    assert klien["aktif"] and klien["wilayah"] == "31.71" and len(klien["client_secret"]) >= 40
    assert klien["client_secret"] not in str(store.tables)
    listed = usecases.list_klien(actor("admin", "31"), PAGE, store)["items"]
    assert [item["client_id"] for item in listed] == [klien["client_id"]] and "client_secret" not in listed[0]
    refused(Forbidden, usecases.buat_klien, actor("admin", "32"), {"nama": "Lain", "wilayah": "31.71"}, store, NOW)
    refused(Forbidden, usecases.buat_klien, actor("pengurus", "31"), {"nama": "Lain", "wilayah": "31.71"}, store,
            NOW)
    refused(Forbidden, usecases.list_klien, actor("petugas", "31"), PAGE, store)


def test_a_machine_account_gets_a_token_only_for_its_areas_event_log(store):
    klien = usecases.buat_klien(ADMIN, {"nama": "SIPP", "wilayah": "33"}, store, NOW)
    answer = client_token(store, klien)
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 900 and "refresh_token" not in answer
    claims = KEYS.verify(answer["access_token"])
    assert (claims["sub"], claims["roles"], claims["wilayah"], claims["hanya"]) == (
        klien["client_id"], ["pemantau"], "33", "log_peristiwa")
    assert store.klien(klien["client_id"])["terakhir_dipakai"] == NOW


def test_an_unknown_client_a_wrong_secret_and_a_disabled_client_get_one_answer(store):
    klien = usecases.buat_klien(ADMIN, {"nama": "SIPP", "wilayah": "33"}, store, NOW)
    answers = [refused(Unauthorized, client_token, store, klien, "bukan-rahasianya"),
               refused(Unauthorized, client_token, store, {**klien, "client_id": "tidak-ada"})]
    usecases.ubah_klien(ADMIN, klien["client_id"], {"aktif": False}, store, NOW)
    answers.append(refused(Unauthorized, client_token, store, klien))
    assert all(answer["code"] == answer["error"] == "invalid_client" for answer in answers)
    assert len({answer["detail"] for answer in answers}) == 1


def test_disabling_a_machine_account_revokes_its_tokens_as_a_persons(store):
    klien = usecases.buat_klien(ADMIN, {"nama": "SIPP", "wilayah": "33"}, store, NOW)
    usecases.ubah_klien(ADMIN, klien["client_id"], {"nama": "SIPP Polda Jateng"}, store, NOW)
    assert not store.uow.events
    usecases.ubah_klien(ADMIN, klien["client_id"], {"aktif": False}, store, NOW)
    event = store.uow.events[-1]
    assert event["type"] == "akun.dinonaktifkan" and event["data"] == {"id": klien["client_id"], "wilayah": "33"}


def test_a_new_secret_replaces_the_old_one_at_once(store):
    klien = usecases.buat_klien(ADMIN, {"nama": "SIPP", "wilayah": "33"}, store, NOW)
    renewed = usecases.ganti_rahasia_klien(ADMIN, klien["client_id"], store, NOW)
    assert renewed["client_secret"] != klien["client_secret"]
    refused(Unauthorized, client_token, store, klien)
    client_token(store, renewed)
    refused(NotFound, usecases.ganti_rahasia_klien, ADMIN, "tidak-ada", store, NOW)


# A forgotten password

def test_a_reset_link_is_asked_by_an_admin_of_the_area_and_announced_without_the_link(store, budi):
    asked = usecases.minta_reset(actor("admin", "31"), budi["id"], store, NOW)
    assert asked["berlaku_sampai"] == (NOW + timedelta(minutes=30)).isoformat()
    event = store.uow.events[-1]
    assert event["type"] == "akun.reset_diminta" and set(event["data"]) == {"id", "reset_id", "wilayah"}
    refused(Forbidden, usecases.minta_reset, actor("admin", "32"), budi["id"], store, NOW)
    refused(Forbidden, usecases.minta_reset, actor("pengurus", "31"), budi["id"], store, NOW)


def handed_over(store, account, now=None):
    usecases.minta_reset(ADMIN, account["id"], store, NOW)
    return usecases.serahkan_reset(store.uow.events[-1]["data"]["reset_id"], store, now or NOW)


def test_the_link_sets_a_password_once_and_the_last_one_handed_over_is_the_good_one(store, budi):
    for _ in range(5):
        refused(Unauthorized, login, store, password="salah-sekali-ini")
    reset_id = usecases.minta_reset(ADMIN, budi["id"], store, NOW) and store.uow.events[-1]["data"]["reset_id"]
    voided = usecases.serahkan_reset(reset_id, store, NOW)  # its email never reached notifikasi's log
    handed = usecases.serahkan_reset(reset_id, store, NOW)
    assert (handed["email"], handed["nama"]) == ("budi@contoh.go.id", "Budi Santoso") and len(handed["token"]) >= 40
    assert handed["token"] not in str(store.tables) + str(store.uow.events)  # only its hash is kept
    refused(Unauthorized, usecases.atur_sandi, {"token": voided["token"], "password_baru": "sapi-perah-di-padang"},
            store, PASSWORDS, NOW)
    before = login(store, now=NOW + timedelta(minutes=16))
    usecases.atur_sandi({"token": handed["token"], "password_baru": "sapi-perah-di-padang"}, store, PASSWORDS, NOW)
    refused(Unauthorized, refresh, store, before["refresh_token"])
    pair = login(store, password="sapi-perah-di-padang")  # the lock went with the old password
    assert pair["hanya"] is None and not pair["ganti_password_wajib"]
    again = refused(Unauthorized, usecases.atur_sandi, {"token": handed["token"], "password_baru": "kerbau-di-sawah"},
                    store, PASSWORDS, NOW)
    assert again["code"] == "tautan_tidak_berlaku"


def test_a_link_is_good_for_thirty_minutes_and_for_an_active_account_only(store, budi):
    late = handed_over(store, budi)
    change = {"password_baru": "sapi-perah-di-padang"}
    refused(Unauthorized, usecases.atur_sandi, {**change, "token": late["token"]}, store, PASSWORDS,
            NOW + timedelta(minutes=30, seconds=1))
    assert handed_over(store, budi, NOW + timedelta(minutes=31)) is None
    disabled = handed_over(store, budi)
    usecases.ubah_akun(ADMIN, budi["id"], {"aktif": False}, store, NOW)
    refused(Unauthorized, usecases.atur_sandi, {**change, "token": disabled["token"]}, store, PASSWORDS, NOW)
    refused(Conflict, usecases.minta_reset, ADMIN, budi["id"], store, NOW)
    refused(Unauthorized, usecases.atur_sandi, {**change, "token": "bukan-token"}, store, PASSWORDS, NOW)


def test_a_new_password_spends_every_other_link_of_the_account(store, budi):
    first, second = handed_over(store, budi), handed_over(store, budi)
    usecases.atur_sandi({"token": second["token"], "password_baru": "sapi-perah-di-padang"}, store, PASSWORDS, NOW)
    refused(Unauthorized, usecases.atur_sandi, {"token": first["token"], "password_baru": "kerbau-di-sawah-hijau"},
            store, PASSWORDS, NOW)
    pending = handed_over(store, budi)
    change = {"password_lama": "sapi-perah-di-padang", "password_baru": "kerbau-di-sawah-hijau"}
    usecases.ganti_password(holder(budi), change, store, ISSUER, NOW)
    refused(Unauthorized, usecases.atur_sandi, {"token": pending["token"], "password_baru": "bebek-di-kolam-biru"},
            store, PASSWORDS, NOW)


def test_a_weak_new_password_leaves_the_link_unspent_for_a_better_one(store, budi):
    handed = handed_over(store, budi)
    refused(InvalidInput, usecases.atur_sandi, {"token": handed["token"], "password_baru": "rahasia"}, store,
            PASSWORDS, NOW)
    usecases.atur_sandi({"token": handed["token"], "password_baru": "sapi-perah-di-padang"}, store, PASSWORDS, NOW)
