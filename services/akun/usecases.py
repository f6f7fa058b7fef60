"""The use cases of akun, as plain functions: accounts managed by admins in their area, the
holder's own account and password, a forgotten password's reset link, logging in and out,
refresh-token rotation, one-time codes, and other systems' machine accounts.

Each takes the caller (an Actor) where there is one, the validated input, `store` (the
repository, with its unit of work), what logging in needs (an `Issuer`) and the time; no
Nameko, Mongo or Flask here (docs/architecture.md, "Layers")."""
import hmac
import logging
from dataclasses import dataclass

from services.akun import domain
from services.akun.schemas import (AkunSchema, ClientTokenSchema, KlienRahasiaSchema, KlienSchema,
                                   OtpPendaftaranSchema, ResetDimintaSchema, TautanResetSchema, TokenSchema)
from services.common.access import Actor
from services.common.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthorized
from services.common.identity import EVENT_LOG
from services.common.schema import instance
from services.common.unit_of_work import DuplicateKey
from services.common.usecase import page_in_area, visible

log = logging.getLogger(__name__)

SUBJECT = "akun/{}"
# What a machine account's token says its holder is: a reader, and only of the event log (its
# `hanya`), whatever the role would allow.
CLIENT_ROLE = "pemantau"
# What an admin's change may touch of its own account: nothing that could lock it out.
OWN_ACCOUNT_LOCKED = ("role", "wilayah", "aktif", "otp_aktif")
# What an admin's reset of someone's second factor (a lost phone) clears.
NO_OTP = {"otp_aktif": False, "otp_rahasia": None, "otp_rahasia_baru": None, "otp_langkah": None}


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
    """Change an account's contacts, role, area or state, or remove its second factor (a lost
    phone: the holder enrols again at the next login), within the admin's area and rank.
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
        second_factor = NO_OTP if "otp_aktif" in changes else {}
        changed = store.update_akun(tx, akun_id, {**changes, **second_factor, "diubah": now})
        tx.emit("akun.diubah", SUBJECT.format(akun_id), {**changed, "berubah": sorted(changes)}, changed["wilayah"])
        if second_factor:
            store.revoke_sesi_of_akun(tx, akun_id, "otp_direset", now)
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
    attempt = begin_attempt(account["username"], store, issuer.policy, now)
    if not issuer.passwords.matches(account["password_hash"], data["password_lama"]):
        raise InvalidInput({"password_lama": ["Kata sandi lama salah."]})  # the attempt stays a failure
    not_a_failure(attempt, store)
    if data["password_baru"] == data["password_lama"]:
        raise InvalidInput({"password_baru": ["Kata sandi baru harus berbeda dari yang lama."]})
    return start_login(replace_password(account, data["password_baru"], store, issuer.passwords, now,
                                        "password_diganti"), store, issuer, now)


def replace_password(account, password, store, passwords, now, reason, reset_link=None):
    """Give `account` a password its holder chose, in one transaction: every login of the
    account ends (`reason`), so does a lock of its username, and every reset link of it is
    spent; with `reset_link` (a token's hash), only if that link is still good. The account as
    it is then."""
    domain.check_password(password, account["username"], "password_baru")
    new_hash = passwords.hash(password)

    def change(tx):
        if reset_link is not None and store.use_reset(tx, reset_link, now) is None:
            raise link_over()  # spent a moment ago by another request
        store.spend_resets_of(tx, account["id"], now)
        changed = store.update_akun(tx, account["id"], {"password_hash": new_hash, "ganti_password_wajib": False,
                                                        "diubah": now})
        store.revoke_sesi_of_akun(tx, account["id"], reason, now)
        store.clear_failures(tx, account["username"])
        tx.emit("akun.diubah", SUBJECT.format(account["id"]), {**changed, "berubah": ["password"]},
                changed["wilayah"])
        return changed

    return store.uow.commit(change)


# A forgotten password: a one-time link by email, asked by an admin

def minta_reset(actor, akun_id, store, now):
    """An admin has a one-time link sent to an account's email, good for RESET_LIFETIME, with
    which its holder chooses a new password. The link is made when notifikasi asks for it
    (serahkan_reset), once, so no event, log nor database of akun ever holds it."""
    actor = manager(actor, store)
    account = managed_account(actor, akun_id, store)
    if not account["aktif"]:
        raise Conflict("Akun ini nonaktif; aktifkan dahulu.", code="akun_nonaktif")
    until = now + domain.RESET_LIFETIME

    def ask(tx):
        reset = store.insert_reset(tx, {"akun_id": akun_id, "dibuat": now, "berakhir": until,
                                        "diminta_oleh": actor.sub})
        tx.emit("akun.reset_diminta", SUBJECT.format(akun_id),
                {"id": akun_id, "reset_id": reset["id"], "wilayah": account["wilayah"]}, account["wilayah"])

    store.uow.commit(ask)
    return instance(ResetDimintaSchema).dump({"berlaku_sampai": until})


def serahkan_reset(reset_id, store, now):
    """For notifikasi: the token of the reset's link and whom to send it to; a link handed over
    before stops working (notifikasi asks again only when the first never reached its log).
    None when the reset has expired or was used, or its account is gone or disabled."""
    token = domain.new_secret()
    reset = store.uow.commit(lambda tx: store.hand_over_reset(tx, reset_id, domain.token_hash(token), now))
    account = reset and store.akun(reset["akun_id"])
    if not (account and account["aktif"]):
        return None
    return instance(TautanResetSchema).dump({**account, "token": token, "berlaku_sampai": reset["berakhir"]})


def atur_sandi(data, store, passwords, now):
    """The holder of a reset link chooses a new password; the link is spent (not by a password
    refused as too weak: the holder tries a better one), every login of the account ends, and
    the holder logs in with the new password (and its code, if it has one)."""
    presented = domain.token_hash(data["token"])
    reset = store.live_reset(presented, now)
    account = reset and store.akun(reset["akun_id"])
    if not (account and account["aktif"]):
        raise link_over()
    replace_password(account, data["password_baru"], store, passwords, now, "password_diatur_ulang",
                     reset_link=presented)


def link_over():
    return Unauthorized("Tautan ini tidak berlaku: sudah dipakai, kedaluwarsa, atau salah. Minta admin mengirim "
                        "tautan baru.", code="tautan_tidak_berlaku")


# Logging in and out

def buat_sesi(data, store, issuer, now):
    """Log in with username and password (and a one-time code for the roles that need one).
    An unknown username, a wrong password and a disabled account get the same answer after
    the same work; too many failures for one username lock it for a while, whatever the
    password."""
    username = data["username"].strip().lower()
    attempt = begin_attempt(username, store, issuer.policy, now)
    account = store.akun_by_username(username)
    known = (issuer.passwords.matches(account["password_hash"], data["password"]) if account
             else issuer.passwords.matches_nobody(data["password"]))
    if not (known and account["aktif"]):
        raise domain.wrong_credentials()  # the attempt stays a failure
    step = None
    if account["otp_aktif"]:  # whatever the role: who enrolled a code expects to be asked for it
        if not data.get("kode_otp"):
            not_a_failure(attempt, store)
            raise Unauthorized("Masukkan kode sekali pakai dari aplikasi autentikator Anda.", code="otp_diperlukan")
        step = domain.otp_step(account["otp_rahasia"], data["kode_otp"], now, account["otp_langkah"])
        if step is None:
            raise wrong_otp()
    changes = {"login_terakhir": now}
    if issuer.passwords.outdated(account["password_hash"]):
        changes["password_hash"] = issuer.passwords.hash(data["password"])
    return start_login(account, store, issuer, now, changes, step)


def start_login(account, store, issuer, now, changes=None, otp_step=None):
    """A new login of `account` and its first token pair; `changes` to the account are made
    with it, and the one-time code of `otp_step` is used up by it."""
    refresh = domain.new_secret()

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
    refresh = domain.new_secret()

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


def begin_attempt(username, store, policy, now):
    """Count an attempt to prove who one is (a password, a code) as a failure before checking
    anything, and refuse it if the failures before it lock the username; its id, to take it back
    if it turns out not to be one. Counted first, not after the check, so that a burst of
    simultaneous attempts cannot get past the limit: each sees at least those stored before
    it. An attempt refused for the lock is not counted, so it does not prolong the lock."""
    attempt = store.uow.commit(lambda tx: store.record_failure(tx, username, now))["id"]
    earlier = [failure["waktu"] for failure in store.failures_since(username, now - policy.window)
               if failure["id"] != attempt]
    try:
        domain.require_not_locked(earlier, now, policy)
    except TooManyAttempts:
        not_a_failure(attempt, store)
        raise
    return attempt


def not_a_failure(attempt, store):
    store.uow.commit(lambda tx: store.forget_failure(tx, attempt))


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


def aktifkan_otp(actor, data, store, issuer, now):
    """Confirm the enrolment with a first code; from then on the account logs in with one. Every
    login of the account, started with the password alone, ends; the answer is a new one for
    this client, which has just shown both."""
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
        store.revoke_sesi_of_akun(tx, account["id"], "otp_didaftarkan", now)
        tx.emit("akun.diubah", SUBJECT.format(account["id"]), {**changed, "berubah": ["otp"]}, changed["wilayah"])
        return changed

    return start_login(store.uow.commit(enable), store, issuer, now)


def require_no_otp(account):
    if account["otp_aktif"]:
        raise Conflict("Kode sekali pakai sudah terdaftar untuk akun ini.", code="otp_sudah_aktif")


# Machine accounts of other systems (OAuth 2.0 client credentials, RFC 6749 §4.4)

def klien_view(record, secret=None):
    if secret is None:
        return instance(KlienSchema).dump(record)
    return instance(KlienRahasiaSchema).dump({**record, "client_secret": secret})


def buat_klien(actor, data, store, now):
    """An admin lets another system of its area read the area's event log: a client id and a
    secret, shown this once (only its hash is kept)."""
    actor = manager(actor, store)
    actor.require_covers(data["wilayah"])
    secret = domain.new_secret()
    record = {**data, "aktif": True, "rahasia_hash": domain.token_hash(secret), "dibuat": now, "dibuat_oleh": actor.sub}
    return klien_view(store.uow.commit(lambda tx: store.insert_klien(tx, record)), secret)


def managed_klien(actor, klien_id, store):
    return visible(actor, store.klien(klien_id), "Klien", klien_id, area="wilayah")


def list_klien(actor, query, store):
    actor = manager(actor, store)
    return page_in_area(actor, query, store.find_klien, KlienSchema(many=True).dump, ("aktif",))


def ubah_klien(actor, klien_id, data, store, now):
    """Rename a machine account, or disable it: its tokens are refused at once, as a disabled
    person's are (`akun.dinonaktifkan`), and it gets no new one."""
    actor = manager(actor, store)
    current = managed_klien(actor, klien_id, store)
    changes = {name: value for name, value in data.items() if current.get(name) != value}
    if not changes:
        return klien_view(current)

    def change(tx):
        changed = store.update_klien(tx, klien_id, {**changes, "diubah": now})
        if changes.get("aktif") is False:
            tx.emit("akun.dinonaktifkan", SUBJECT.format(klien_id), changed, changed["wilayah"])
        return changed

    return klien_view(store.uow.commit(change))


def ganti_rahasia_klien(actor, klien_id, store, now):
    """A new secret for a machine account (the old one leaked, or is due): the old one stops
    working at once; tokens it already got live out their few minutes."""
    actor = manager(actor, store)
    managed_klien(actor, klien_id, store)
    secret = domain.new_secret()
    changed = store.uow.commit(lambda tx: store.update_klien(
        tx, klien_id, {"rahasia_hash": domain.token_hash(secret), "diubah": now}))
    return klien_view(changed, secret)


def buat_token_klien(data, store, issuer, now):
    """An access token for a machine account that shows its secret, good only for reading the
    event log of its area. An unknown client, a wrong secret and a disabled client get one answer."""
    klien = store.klien(data.get("client_id") or "")
    presented = domain.token_hash(data.get("client_secret") or "")
    if klien is None or not hmac.compare_digest(klien["rahasia_hash"], presented) or not klien["aktif"]:
        raise domain.wrong_client()
    store.uow.commit(lambda tx: store.update_klien(tx, klien["id"], {"terakhir_dipakai": now}))
    access = issuer.signing_key.issue(klien["id"], [CLIENT_ROLE], wilayah=klien["wilayah"],
                                      ttl_seconds=issuer.policy.access_seconds, now=now.timestamp(), hanya=EVENT_LOG)
    return instance(ClientTokenSchema).dump({"access_token": access, "token_type": "Bearer",
                                             "expires_in": issuer.policy.access_seconds})
