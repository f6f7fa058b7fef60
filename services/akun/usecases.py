"""The use cases of akun, as plain functions: accounts managed by admins in their area, the
holder's own account and password, logging in and out, refresh-token rotation, and one-time
codes for the roles that need them.

Each takes the caller (an Actor) where there is one, the validated input, `store` (the
repository, with its unit of work), what logging in needs (an `Issuer`) and the time; no
Nameko, Mongo or Flask here (docs/architecture.md, "Layers")."""
import logging
from dataclasses import dataclass

from services.akun import domain
from services.akun.schemas import AkunSchema, OtpPendaftaranSchema, TokenSchema
from services.common.access import Actor
from services.common.errors import Conflict, InvalidInput, NotFound, Unauthorized
from services.common.schema import instance
from services.common.unit_of_work import DuplicateKey
from services.common.usecase import page_in_area, visible

log = logging.getLogger(__name__)

SUBJECT = "akun/{}"
# What an admin's change may touch of its own account: nothing that could lock it out.
OWN_ACCOUNT_LOCKED = ("role", "wilayah", "aktif")


@dataclass(frozen=True)
class Issuer:
    """What logging people in needs: password hashes, the key access tokens are signed with
    (services.common.tokens.SigningKey) and the login policy."""
    passwords: domain.Passwords
    signing_key: object
    policy: domain.LoginPolicy


def akun_view(record):
    return instance(AkunSchema).dump(record)


# Accounts, managed by admins

def buat_akun(actor, data, store, passwords, now):
    """An admin opens an account in its area, with a role no higher than its own; the password
    it sets is the holder's to change (`ganti_password_wajib`)."""
    actor = manager(actor, store)
    domain.require_grant(actor, data["role"], data.get("wilayah"))
    return akun_view(create_account(data, store, passwords, now, must_change=True, by=actor.sub))


def create_account(data, store, passwords, now, must_change, by):
    """Store a new account (its password hashed) and announce it; 409 for a username taken."""
    domain.check_password(data["password"], data["username"])
    fields = {name: value for name, value in data.items() if name != "password"}
    record = {"aktif": True, **fields, "password_hash": passwords.hash(data["password"]),
              "ganti_password_wajib": must_change, "dibuat": now, "dibuat_oleh": by}

    def create(tx):
        created = store.insert_akun(tx, record)
        tx.emit("akun.dibuat", SUBJECT.format(created["id"]), created, created["wilayah"])
        return created

    try:
        return store.uow.commit(create)
    except DuplicateKey:
        raise Conflict(f"Nama pengguna {data['username']} sudah dipakai.", code="username_terpakai") from None


def manager(actor, store):
    """The caller as its account stands now, not as its token says, if it manages accounts: an
    admin demoted, moved or disabled a moment ago manages none with the token it still holds. A
    token of no account (`bkpm token`, made by whoever holds the signing key) is taken as it is."""
    account = store.akun(actor.sub)
    if account is not None:
        if not account["aktif"]:
            raise Unauthorized("Akun ini sudah dinonaktifkan.", code="akun_nonaktif")
        actor = Actor(actor.sub, (account["role"],), account["wilayah"])
    domain.require_manager(actor)
    return actor


def managed_account(actor, akun_id, store):
    return visible(actor, store.akun(akun_id), "Akun", akun_id, area="wilayah")


def get_akun(actor, akun_id, store):
    return akun_view(managed_account(manager(actor, store), akun_id, store))


def list_akun(actor, query, store):
    """Accounts in the admin's area, narrowed by area, role and whether they are active."""
    actor = manager(actor, store)
    return page_in_area(actor, query, store.find_akun, AkunSchema(many=True).dump, ("role", "aktif"))


def ubah_akun(actor, akun_id, data, store, now):
    """Change an account's contacts, role, area or state, within the admin's area and rank.
    Disabling it ends all its logins at once (its next refresh fails) and is announced as
    `akun.dinonaktifkan`, so the services refuse its access tokens too."""
    actor = manager(actor, store)
    current = managed_account(actor, akun_id, store)
    changes = {name: value for name, value in data.items() if current.get(name) != value}
    if not changes:
        return akun_view(current)
    if akun_id == actor.sub and set(changes) & set(OWN_ACCOUNT_LOCKED):
        raise Conflict("Anda tidak dapat mengubah peran, wilayah atau status akun Anda sendiri; minta admin lain.",
                       code="akun_sendiri")
    domain.require_grant(actor, changes.get("role", current["role"]), changes.get("wilayah", current["wilayah"]))

    def change(tx):
        changed = store.update_akun(tx, akun_id, {**changes, "diubah": now})
        tx.emit("akun.diubah", SUBJECT.format(akun_id), {**changed, "berubah": sorted(changes)}, changed["wilayah"])
        if changes.get("aktif") is False:
            store.revoke_sesi_of_akun(tx, akun_id, "akun_dinonaktifkan", now)
            tx.emit("akun.dinonaktifkan", SUBJECT.format(akun_id), changed, changed["wilayah"])
        return changed

    return akun_view(store.uow.commit(change))


# The account holder

def own_account(actor, store):
    account = store.akun(actor.sub)
    if account is None:
        raise NotFound("Token ini bukan milik akun yang terdaftar.")
    return account


def get_akun_saya(actor, store):
    return akun_view(own_account(actor, store))


def ganti_password(actor, data, store, issuer, now):
    """The holder replaces its password, giving the old one (a wrong one counts as a failed
    login). Every login of the account ends; the answer is a new one for this client."""
    account = own_account(actor, store)
    policy = issuer.policy
    domain.require_not_locked(store.failures_since(account["username"], now - policy.window), now, policy)
    if not issuer.passwords.matches(account["password_hash"], data["password_lama"]):
        record_failure(account["username"], store, now)
        raise InvalidInput({"password_lama": ["Kata sandi lama salah."]})
    domain.check_password(data["password_baru"], account["username"], "password_baru")
    if data["password_baru"] == data["password_lama"]:
        raise InvalidInput({"password_baru": ["Kata sandi baru harus berbeda dari yang lama."]})
    new_hash = issuer.passwords.hash(data["password_baru"])

    def change(tx):
        changed = store.update_akun(tx, account["id"], {"password_hash": new_hash, "ganti_password_wajib": False,
                                                        "diubah": now})
        store.revoke_sesi_of_akun(tx, account["id"], "password_diganti", now)
        tx.emit("akun.diubah", SUBJECT.format(account["id"]), {**changed, "berubah": ["password"]},
                changed["wilayah"])
        return changed

    return start_login(store.uow.commit(change), store, issuer, now)


# Logging in and out

def buat_sesi(data, store, issuer, now):
    """Log in with username and password (and a one-time code for the roles that need one).
    An unknown username, a wrong password and a disabled account get the same answer after
    the same work; too many failures for one username lock it for a while, whatever the
    password."""
    username = data["username"].strip().lower()
    policy = issuer.policy
    domain.require_not_locked(store.failures_since(username, now - policy.window), now, policy)
    account = store.akun_by_username(username)
    known = (issuer.passwords.matches(account["password_hash"], data["password"]) if account
             else issuer.passwords.matches_nobody(data["password"]))
    if not (known and account["aktif"]):
        record_failure(username, store, now)
        raise domain.wrong_credentials()
    step = None
    if account["role"] in policy.otp_roles and account["otp_aktif"]:
        if not data.get("kode_otp"):
            raise Unauthorized("Masukkan kode sekali pakai dari aplikasi autentikator Anda.", code="otp_diperlukan")
        step = domain.otp_step(account["otp_rahasia"], data["kode_otp"], now, account["otp_langkah"])
        if step is None:
            record_failure(username, store, now)
            raise wrong_otp()
    changes = {"login_terakhir": now}
    if issuer.passwords.outdated(account["password_hash"]):
        changes["password_hash"] = issuer.passwords.hash(data["password"])
    return start_login(account, store, issuer, now, changes, step)


def start_login(account, store, issuer, now, changes=None, otp_step=None):
    """A new login of `account` and its first token pair; `changes` to the account are made
    with it, and the one-time code of `otp_step` is used up by it."""
    refresh = domain.new_refresh_token()

    def login(tx):
        if otp_step is not None and store.use_otp_step(tx, account["id"], otp_step) is None:
            raise wrong_otp()  # the same code, used by a login a moment earlier
        store.clear_failures(tx, account["username"])
        if changes:
            store.update_akun(tx, account["id"], changes)
        return store.insert_sesi(tx, {"akun_id": account["id"], "dibuat": now,
                                      "berakhir": now + issuer.policy.login_lifetime,
                                      "token_hash": domain.token_hash(refresh)})

    return token_pair(account, store.uow.commit(login), refresh, issuer, now)


def perbarui_sesi(data, store, issuer, now):
    """A new token pair for a refresh token, which stops working. Presenting one already used
    means it was copied: the whole login is revoked, for its holder and for the copier."""
    presented = domain.token_hash(data["refresh_token"])
    refresh = domain.new_refresh_token()

    def rotate(tx):
        sesi = store.rotate_token(tx, presented, domain.token_hash(refresh), now)
        if sesi is None:
            return None
        account = store.akun(sesi["akun_id"])
        if account is None or not account["aktif"]:
            store.revoke_sesi(tx, sesi["id"], "akun_dinonaktifkan", now)
            return None
        return sesi, account

    rotated = store.uow.commit(rotate)
    if rotated is None:
        revoke_if_reused(presented, store, now)
        raise domain.login_over()
    sesi, account = rotated
    return token_pair(account, sesi, refresh, issuer, now)


def revoke_if_reused(presented, store, now):
    sesi = store.sesi_of_token(presented)
    if sesi is not None and sesi["dicabut"] is None and presented in sesi["token_hash_lama"]:
        store.uow.commit(lambda tx: store.revoke_sesi(tx, sesi["id"], "token_dipakai_ulang", now))
        log.warning("a used refresh token was presented again: login %s revoked", sesi["id"])


def akhiri_sesi(actor, data, store, now):
    """Log out: the login of this refresh token ends, if it is the caller's."""
    sesi = store.sesi_of_token(domain.token_hash(data["refresh_token"]))
    if sesi is not None and sesi["akun_id"] == actor.sub and sesi["dicabut"] is None:
        store.uow.commit(lambda tx: store.revoke_sesi(tx, sesi["id"], "keluar", now))


def token_pair(account, sesi, refresh, issuer, now):
    only = domain.restriction(account, issuer.policy)
    claims = {"sid": sesi["id"], **({"hanya": only} if only else {})}
    access = issuer.signing_key.issue(account["id"], [account["role"]], wilayah=account["wilayah"],
                                      ttl_seconds=issuer.policy.access_seconds, now=now.timestamp(), **claims)
    return instance(TokenSchema).dump({
        "access_token": access, "token_type": "Bearer", "expires_in": issuer.policy.access_seconds,
        "refresh_token": refresh, "ganti_password_wajib": account["ganti_password_wajib"], "hanya": only})


def record_failure(username, store, now):
    store.uow.commit(lambda tx: store.record_failure(tx, username, now))


def wrong_otp():
    return Unauthorized("Kode sekali pakai salah atau sudah dipakai.", code="kode_otp_salah")


# One-time codes

def daftarkan_otp(actor, store, now):
    """Start enrolling a one-time code: a new secret, as the URI and QR code an authenticator
    app takes; it counts once confirmed by a first code (aktifkan_otp)."""
    account = own_account(actor, store)
    require_no_otp(account)
    secret = domain.new_otp_secret()
    store.uow.commit(lambda tx: store.update_akun(tx, account["id"], {"otp_rahasia_baru": secret, "diubah": now}))
    return instance(OtpPendaftaranSchema).dump(domain.otp_enrolment(secret, account["username"]))


def aktifkan_otp(actor, data, store, now):
    """Confirm the enrolment with a first code; from then on the account logs in with one."""
    account = own_account(actor, store)
    require_no_otp(account)
    secret = account["otp_rahasia_baru"]
    if secret is None:
        raise Conflict("Daftarkan kode sekali pakai dahulu.", code="otp_belum_didaftarkan")
    step = domain.otp_step(secret, data["kode_otp"], now)
    if step is None:
        raise InvalidInput({"kode_otp": ["Kode salah; periksa jam perangkat Anda lalu masukkan kode berikutnya."]})

    def enable(tx):
        changed = store.update_akun(tx, account["id"], {"otp_rahasia": secret, "otp_rahasia_baru": None,
                                                        "otp_aktif": True, "otp_langkah": step, "diubah": now})
        tx.emit("akun.diubah", SUBJECT.format(account["id"]), {**changed, "berubah": ["otp"]}, changed["wilayah"])
        return changed

    return akun_view(store.uow.commit(enable))


def require_no_otp(account):
    if account["otp_aktif"]:
        raise Conflict("Kode sekali pakai sudah terdaftar untuk akun ini.", code="otp_sudah_aktif")
