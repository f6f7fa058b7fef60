"""Storage of the akun service: accounts, logins (each with the SHA-256 of its current refresh
token and of those already used) and failed logins by username."""
from datetime import timedelta

from pymongo import ASCENDING, IndexModel, ReturnDocument

from services.common.mongo import Repository, area_filter, as_record, new_id

AKUN, SESI, GAGAL, KLIEN, RESET = "akun", "sesi", "login_gagal", "klien", "reset"
# Optional fields of an account are stored as null (or false), so every record has the same keys.
AKUN_DEFAULTS = {"telepon": None, "wilayah": None, "pengurus_id": None, "login_terakhir": None,
                 "ganti_password_wajib": False, "otp_rahasia": None, "otp_rahasia_baru": None, "otp_aktif": False,
                 "otp_langkah": None, "diubah": None}
# Failed logins matter for LOGIN_LOCK_MINUTES; the database forgets them after this long at most.
FAILURES_KEPT = timedelta(days=1)


class AkunRepository(Repository):
    INDEXES = {
        AKUN: [
            IndexModel([("username", ASCENDING)], unique=True, name="username_unik"),
            IndexModel([("wilayah", ASCENDING), ("username", ASCENDING)], name="wilayah"),
        ],
        SESI: [
            IndexModel([("token_hash", ASCENDING)], name="token"),
            IndexModel([("token_hash_lama", ASCENDING)], name="token_lama"),
            IndexModel([("akun_id", ASCENDING)], name="akun"),
            # A login past its lifetime is of no use, revoked or not: the database drops it.
            IndexModel([("berakhir", ASCENDING)], expireAfterSeconds=0, name="kedaluwarsa"),
        ],
        RESET: [
            IndexModel([("token_hash", ASCENDING)], name="token", sparse=True),
            # A reset link past its half hour is of no use: the database drops it.
            IndexModel([("berakhir", ASCENDING)], expireAfterSeconds=0, name="kedaluwarsa"),
        ],
        KLIEN: [IndexModel([("wilayah", ASCENDING), ("nama", ASCENDING)], name="wilayah")],
        GAGAL: [
            IndexModel([("username", ASCENDING), ("waktu", ASCENDING)], name="username"),
            IndexModel([("waktu", ASCENDING)], expireAfterSeconds=int(FAILURES_KEPT.total_seconds()),
                       name="kedaluwarsa"),
        ],
    }

    # Accounts

    def insert_akun(self, tx, akun):
        document = {"_id": new_id(), **AKUN_DEFAULTS, **akun}
        self.db[AKUN].insert_one(document, session=tx.session)
        return as_record(document)

    def akun(self, akun_id):
        return as_record(self.db[AKUN].find_one({"_id": akun_id}))

    def akun_by_username(self, username):
        return as_record(self.db[AKUN].find_one({"username": username}))

    def find_akun(self, area, filters, page, per_page):
        """Accounts in `area` and below (national: all) with the given field values, by username."""
        return self._page(AKUN, {**area_filter("wilayah", area), **filters}, [("username", ASCENDING)], page,
                          per_page)

    def update_akun(self, tx, akun_id, changes):
        """The account with `changes` made, or None when there is no such account."""
        return as_record(self.db[AKUN].find_one_and_update(
            {"_id": akun_id}, {"$set": changes}, session=tx.session, return_document=ReturnDocument.AFTER))

    def use_otp_step(self, tx, akun_id, step):
        """Note that the code of time `step` was used; None if it (or a later one) already was."""
        return as_record(self.db[AKUN].find_one_and_update(
            {"_id": akun_id, "$or": [{"otp_langkah": None}, {"otp_langkah": {"$lt": step}}]},
            {"$set": {"otp_langkah": step}}, session=tx.session, return_document=ReturnDocument.AFTER))

    # Machine accounts of other systems (OAuth clients)

    def insert_klien(self, tx, klien):
        document = {"_id": new_id(), "terakhir_dipakai": None, "diubah": None, **klien}
        self.db[KLIEN].insert_one(document, session=tx.session)
        return as_record(document)

    def klien(self, klien_id):
        return as_record(self.db[KLIEN].find_one({"_id": klien_id}))

    def find_klien(self, area, filters, page, per_page):
        """Machine accounts in `area` and below (national: all), by name."""
        return self._page(KLIEN, {**area_filter("wilayah", area), **filters}, [("nama", ASCENDING)], page, per_page)

    def update_klien(self, tx, klien_id, changes):
        return as_record(self.db[KLIEN].find_one_and_update(
            {"_id": klien_id}, {"$set": changes}, session=tx.session, return_document=ReturnDocument.AFTER))

    # Password resets: one per link an admin asked for

    def insert_reset(self, tx, reset):
        document = {"_id": new_id(), "token_hash": None, "diserahkan": None, "dipakai": None, **reset}
        self.db[RESET].insert_one(document, session=tx.session)
        return as_record(document)

    def hand_over_reset(self, tx, reset_id, token_hash, now):
        """Give a live, unused reset its token (by hash; one handed over before stops working);
        None if there is no such reset."""
        return as_record(self.db[RESET].find_one_and_update(
            {"_id": reset_id, "dipakai": None, "berakhir": {"$gt": now}},
            {"$set": {"token_hash": token_hash, "diserahkan": now}}, session=tx.session,
            return_document=ReturnDocument.AFTER))

    def live_reset(self, token_hash, now):
        """The live, unused reset with this token, or None."""
        return as_record(self.db[RESET].find_one({"token_hash": token_hash, "dipakai": None, "berakhir": {"$gt": now}}))

    def spend_resets_of(self, tx, akun_id, now):
        """Every unused reset of the account is used up (its password was just replaced)."""
        self.db[RESET].update_many({"akun_id": akun_id, "dipakai": None}, {"$set": {"dipakai": now}},
                                   session=tx.session)

    def use_reset(self, tx, token_hash, now):
        """Mark the live, unused reset with this token used; None if there is none."""
        return as_record(self.db[RESET].find_one_and_update(
            {"token_hash": token_hash, "dipakai": None, "berakhir": {"$gt": now}},
            {"$set": {"dipakai": now}}, session=tx.session, return_document=ReturnDocument.AFTER))

    # Failed logins, counted here so that every instance of the service agrees

    def failures_since(self, username, since):
        """`username`'s failed logins since `since` ({id, waktu}), oldest first."""
        return [as_record(doc) for doc in self.db[GAGAL].find(
            {"username": username, "waktu": {"$gte": since}}, {"waktu": 1}).sort("waktu", ASCENDING)]

    def record_failure(self, tx, username, when):
        document = {"_id": new_id(), "username": username, "waktu": when}
        self.db[GAGAL].insert_one(document, session=tx.session)
        return as_record(document)

    def forget_failure(self, tx, failure_id):
        self.db[GAGAL].delete_one({"_id": failure_id}, session=tx.session)

    def clear_failures(self, tx, username):
        self.db[GAGAL].delete_many({"username": username}, session=tx.session)

    # Logins: one per login, its refresh tokens rotating

    def insert_sesi(self, tx, sesi):
        document = {"_id": new_id(), "token_hash_lama": [], "dicabut": None, "alasan_cabut": None, **sesi}
        self.db[SESI].insert_one(document, session=tx.session)
        return as_record(document)

    def sesi_of_token(self, token_hash):
        """The login whose refresh token, current or already used, has this hash; or None."""
        return as_record(self.db[SESI].find_one({"$or": [{"token_hash": token_hash},
                                                          {"token_hash_lama": token_hash}]}))

    def rotate_token(self, tx, token_hash, new_hash, now):
        """Replace the current refresh token `token_hash` of a live login by `new_hash` (the old
        one joins the used ones); None when no live login has it as its current one."""
        return as_record(self.db[SESI].find_one_and_update(
            {"token_hash": token_hash, "dicabut": None, "berakhir": {"$gt": now}},
            {"$set": {"token_hash": new_hash, "diperbarui": now}, "$push": {"token_hash_lama": token_hash}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def revoke_sesi(self, tx, sesi_id, reason, now):
        self.db[SESI].update_one({"_id": sesi_id, "dicabut": None},
                                 {"$set": {"dicabut": now, "alasan_cabut": reason}}, session=tx.session)

    def revoke_sesi_of_akun(self, tx, akun_id, reason, now):
        self.db[SESI].update_many({"akun_id": akun_id, "dicabut": None},
                                  {"$set": {"dicabut": now, "alasan_cabut": reason}}, session=tx.session)
