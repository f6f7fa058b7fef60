"""akun's rules in plain Python: passwords, who may grant what where, the lockout's arithmetic,
refresh tokens kept as hashes, one-time codes."""
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from argon2 import PasswordHasher

from services.akun import domain
from services.common.config import Settings
from services.common.errors import Forbidden, InvalidInput, TooManyAttempts
from tests.unit.fakes import actor

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
POLICY = domain.LoginPolicy(max_failures=5, lock_minutes=15)


# Passwords

def test_the_common_passwords_list_is_shipped_lowercase_and_holds_the_usual_and_indonesian_ones():
    common = domain.common_passwords()
    assert len(common) >= 1000
    assert all(password == password.lower() for password in common)
    assert {"123456", "password", "qwerty", "indonesia123", "bismillah", "sayang", "rahasia",
            "polri12345"} <= common


@pytest.mark.parametrize("password, username, problems", [
    ("pendek", "budi", ["Kata sandi minimal 12 karakter."]),
    ("Budi.Santoso1", "budi.santoso1", ["Kata sandi tidak boleh sama dengan nama pengguna."]),
    ("Indonesia12345", "budi", ["Kata sandi ini terlalu umum dan mudah ditebak; pilih yang lain."]),
    ("POLRI12345", "budi", ["Kata sandi minimal 12 karakter.",
                            "Kata sandi ini terlalu umum dan mudah ditebak; pilih yang lain."]),
    ("kuda-lumping-di-pasar", "budi", []),
])
def test_a_password_has_12_characters_is_not_the_username_nor_common(password, username, problems):
    assert domain.password_problems(password, username) == problems


def test_a_bad_password_is_a_field_error_under_the_field_it_came_in():
    with pytest.raises(InvalidInput) as caught:
        domain.check_password("rahasia", "budi", "password_baru")
    assert list(caught.value.payload["errors"]) == ["password_baru"]


def test_passwords_are_argon2id_hashes_and_an_unknown_user_is_checked_at_the_same_cost():
    passwords = domain.Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    hashed = passwords.hash("kuda-lumping-di-pasar")
    assert hashed.startswith("$argon2id$") and "kuda" not in hashed
    assert passwords.matches(hashed, "kuda-lumping-di-pasar")
    assert not passwords.matches(hashed, "kuda-lumping-di-pasaR")
    assert not passwords.matches("bukan-hash", "kuda-lumping-di-pasar")
    assert passwords.matches_nobody("kuda-lumping-di-pasar") is False
    assert passwords.dummy_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert not passwords.outdated(hashed)
    assert domain.Passwords().outdated(hashed)  # the defaults are dearer: hashed again at the next login


# Who grants what where

def test_roles_rank_admin_over_pengurus_over_petugas_over_pemantau():
    assert domain.RANK["admin"] > domain.RANK["pengurus"] > domain.RANK["petugas"] > domain.RANK["pemantau"]
    assert domain.rank(("pemantau", "petugas")) == domain.RANK["petugas"] and domain.rank(()) == 0


def test_only_admins_manage_accounts():
    domain.require_manager(actor("admin", "31"))
    with pytest.raises(Forbidden):
        domain.require_manager(actor("pengurus", "31"))


@pytest.mark.parametrize("who, role, wilayah, allowed", [
    (actor("admin", "31"), "admin", "31.71", True),
    (actor("admin", "31"), "pemantau", "31", True),
    (actor("admin", "31"), "petugas", "32", False),        # another province
    (actor("admin", "31"), "petugas", None, False),        # national, above the province
    (actor("admin", None), "admin", None, True),
    (actor("pengurus", "31"), "admin", "31", False),       # above its own role
    (actor("pengurus", "31"), "petugas", "31", True),      # (only admins get this far: require_manager)
])
def test_a_role_is_granted_no_higher_than_the_grantors_in_an_area_within_its_own(who, role, wilayah, allowed):
    if allowed:
        domain.require_grant(who, role, wilayah)
    else:
        with pytest.raises(Forbidden):
            domain.require_grant(who, role, wilayah)


# Lockout

def failures(*minutes_ago):
    return sorted(NOW - timedelta(minutes=minutes) for minutes in minutes_ago)


def test_fewer_failures_than_the_maximum_lock_nothing():
    domain.require_not_locked(failures(1, 2, 3, 4), NOW, POLICY)


def test_the_fifth_failure_locks_until_the_first_of_them_leaves_the_window():
    with pytest.raises(TooManyAttempts) as caught:
        domain.require_not_locked(failures(10, 8, 6, 4, 2), NOW, POLICY)
    assert caught.value.payload["retry_after"] == 5 * 60
    assert caught.value.payload["code"] == "terlalu_banyak_percobaan"
    assert "5 menit" in caught.value.payload["detail"]


def test_the_lock_ends_when_the_window_has_passed():
    domain.require_not_locked(failures(15, 8, 6, 4, 2), NOW, POLICY)


def test_the_policy_follows_the_settings():
    config = Settings(access_token_minutes=10, refresh_token_days=7, login_max_failures=3, login_lock_minutes=30,
                      otp_roles=("admin", "pengurus"))
    policy = domain.LoginPolicy.from_settings(config)
    assert policy == domain.LoginPolicy(600, 7, 3, 30, ("admin", "pengurus"))
    assert policy.window == timedelta(minutes=30) and policy.login_lifetime == timedelta(days=7)


# Tokens and codes

def test_a_refresh_token_is_random_and_kept_as_its_sha256():
    token = domain.new_secret()
    assert len(token) >= 40 and token != domain.new_secret()
    assert len(domain.token_hash(token)) == 64 and token not in domain.token_hash(token)


def test_an_otp_role_without_a_code_enrolled_gets_tokens_only_for_enrolling():
    assert domain.restriction({"role": "admin", "otp_aktif": False}, POLICY) == "daftar_otp"
    assert domain.restriction({"role": "admin", "otp_aktif": True}, POLICY) is None
    assert domain.restriction({"role": "petugas", "otp_aktif": False}, POLICY) is None


def test_a_code_is_good_in_its_step_and_the_steps_beside_it_and_once():
    secret = domain.new_otp_secret()
    totp = pyotp.TOTP(secret)
    step = int(NOW.timestamp()) // 30
    assert domain.otp_step(secret, totp.at(NOW), NOW) == step
    assert domain.otp_step(secret, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert domain.otp_step(secret, totp.at(NOW + timedelta(seconds=30)), NOW) == step + 1
    assert domain.otp_step(secret, totp.at(NOW - timedelta(seconds=90)), NOW) is None
    assert domain.otp_step(secret, totp.at(NOW), NOW, after=step) is None       # used already
    assert domain.otp_step(secret, "", NOW) is None


def test_the_enrolment_is_an_otpauth_uri_and_its_qr_code_as_svg():
    enrolment = domain.otp_enrolment("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "budi")
    assert enrolment["otpauth_uri"] == "otpauth://totp/BKPM:budi?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=BKPM"
    assert enrolment["qr_svg"].startswith("<svg")
