"""Rules of the akun domain, in plain Python: who may manage which accounts, what a password
must be, how a failed login locks a username for a while, refresh tokens, and one-time codes.

Passwords are hashed with Argon2id (argon2-cffi's defaults); the plain password is never
stored, logged, returned nor put in an event. A refresh token is kept as its SHA-256 only."""
import functools
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.common.access import ROLES
from services.common.errors import Forbidden, InvalidInput, TooManyAttempts, Unauthorized
from services.common.identity import OTP_ENROLMENT, PASSWORD_CHANGE

USERNAME_PATTERN = r"^[a-z0-9._-]{3,50}$"
USERNAME_MESSAGE = "Nama pengguna 3–50 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung."
MIN_PASSWORD_LENGTH = 12
# Longer passwords are fine, but hashing megabytes on request is not.
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("passwords.txt")

# Roles by rank: an admin may grant its own role and those below, never one above.
RANK = {role: len(ROLES) - place for place, role in enumerate(ROLES)}
# Only admins manage accounts at all.
MANAGERS = ("admin",)

# The one answer to a failed login, whatever failed (unknown user, wrong password, disabled).
WRONG_CREDENTIALS = "Nama pengguna atau kata sandi salah."
OTP_ISSUER = "BKPM"
# How long a password reset link sent by email is good for (once).
RESET_LIFETIME = timedelta(minutes=30)
OTP_STEP_SECONDS = 30


# Who manages whom

def rank(roles):
    """The highest rank among `roles` (0: none of the platform's)."""
    return max((RANK.get(role, 0) for role in roles), default=0)


def require_manager(actor):
    if not actor.has_role(MANAGERS):
        raise Forbidden("Hanya admin yang dapat mengelola akun.")


def require_grant(actor, role, wilayah):
    """An admin gives an account a role no higher than its own, in an area within its own."""
    if RANK[role] > rank(actor.roles):
        raise Forbidden(f"Anda tidak dapat memberikan peran {role}, yang lebih tinggi dari peran Anda.")
    actor.require_covers(wilayah)


# Passwords

@functools.cache
def common_passwords():
    """The list shipped with the project (services/akun/passwords.txt), lowercase."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password, username):
    """What is wrong with `password` for the account `username`, in words people read."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter.")
    if username and password.casefold() == username.casefold():
        problems.append("Kata sandi tidak boleh sama dengan nama pengguna.")
    if password.lower() in common_passwords():
        problems.append("Kata sandi ini terlalu umum dan mudah ditebak; pilih yang lain.")
    return problems


def check_password(password, username, field="password"):
    problems = password_problems(password, username)
    if problems:
        raise InvalidInput({field: problems})


class Passwords:
    """Argon2id hashes of passwords. A login for an unknown username is checked against a
    hash of the same cost, so it takes as long as one for a known username."""

    def __init__(self, hasher=None, offload=None):
        self.hasher = hasher or PasswordHasher()
        # Hashing takes tens of milliseconds of CPU: a service runs it off its event loop
        # (`offload`: eventlet's thread pool; argon2 releases the GIL), not blocking every other
        # request of the process meanwhile.
        self.offload = offload or (lambda function, *args: function(*args))
        # Made at once, so that not even the first unknown username takes longer.
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password):
        return self.offload(self.hasher.hash, password)

    def matches(self, password_hash, password):
        try:
            return self.offload(self.hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def matches_nobody(self, password):
        """As long as `matches`, for a username that has no account: always False."""
        self.matches(self.dummy_hash, password)
        return False

    def outdated(self, password_hash):
        """Hashed with other parameters than today's: hash again at the next login."""
        return self.hasher.check_needs_rehash(password_hash)


# Logins

@dataclass(frozen=True)
class LoginPolicy:
    """How long an access token and a login live, when failures lock a username, and the roles
    that log in with a one-time code too (services.common.config: ACCESS_TOKEN_MINUTES,
    REFRESH_TOKEN_DAYS, LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES, OTP_ROLES)."""
    access_seconds: int = 15 * 60
    login_days: int = 14
    max_failures: int = 5
    lock_minutes: int = 15
    otp_roles: tuple = ("admin",)

    @classmethod
    def from_settings(cls, config):
        return cls(config.access_token_seconds, config.refresh_token_days, config.login_max_failures,
                   config.login_lock_minutes, tuple(config.otp_roles))

    @property
    def window(self):
        return timedelta(minutes=self.lock_minutes)

    @property
    def login_lifetime(self):
        return timedelta(days=self.login_days)


def require_not_locked(failures, now, policy):
    """`failures`: the times of a username's failed logins within the window, oldest first.
    After `max_failures` of them the username is locked, whatever the password, until the
    first of those leaves the window (attempts while locked are not counted, so they do not
    prolong it)."""
    if len(failures) < policy.max_failures:
        return
    until = failures[-policy.max_failures] + policy.window
    seconds = math.ceil((until - now).total_seconds())
    if seconds > 0:
        minutes = math.ceil(seconds / 60)
        raise TooManyAttempts(f"Terlalu banyak percobaan masuk yang gagal untuk nama pengguna ini; coba lagi "
                              f"dalam {minutes} menit.", retry_after=seconds)


def wrong_credentials():
    return Unauthorized(WRONG_CREDENTIALS, code="kredensial_salah")


def login_over():
    return Unauthorized("Sesi masuk ini sudah berakhir atau dicabut; masuk kembali.", code="sesi_tidak_berlaku")


def new_secret():
    """A refresh token, a machine account's secret, a reset link's token: 256 random bits, so
    their SHA-256 (token_hash) is as safe to keep as a slow password hash, and checking one
    costs nothing."""
    return secrets.token_urlsafe(32)


def wrong_client():
    # RFC 6749 §5.2's error member, which OAuth client libraries look for.
    return Unauthorized("Klien tidak dikenal, dinonaktifkan, atau rahasianya salah.", code="invalid_client",
                        error="invalid_client")


def token_hash(token):
    """How a secret of new_secret is stored and looked up: its SHA-256, never the secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def restriction(account, policy):
    """What an access token of `account` is limited to: an account whose role needs a one-time
    code and has none enrolled may only enrol one; then, one whose password someone else set
    may only replace it."""
    if account["role"] in policy.otp_roles and not account.get("otp_aktif"):
        return OTP_ENROLMENT
    if account.get("ganti_password_wajib"):
        return PASSWORD_CHANGE
    return None


# One-time codes (TOTP, RFC 6238)

def new_otp_secret():
    return pyotp.random_base32()


def otp_enrolment(secret, username):
    """The otpauth URI an authenticator app takes, and the same as a QR code (SVG)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=OTP_ISSUER)
    return {"otpauth_uri": uri, "qr_svg": segno.make(uri, error="m").svg_inline(scale=4)}


def otp_step(secret, code, now, after=None):
    """The time step `code` belongs to, if it is the code of `secret` at `now` (or one step
    before or after, for clocks apart) and later than step `after` (a code is good once);
    None otherwise."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // OTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code or ""):
            return step
    return None
