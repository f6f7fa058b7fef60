"""Storage of the akun service: accounts, logins (each with the SHA-256 of its current refresh
token and of those already used) and failed logins by username."""
from datetime import timedelta

from pymongo import ASCENDING, IndexModel, ReturnDocument

from services.common.mongo import Repository, area_filter, as_record, new_id

AKUN, SESI, GAGAL = "akun", "sesi", "login_gagal"
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

    # Failed logins, counted here so that every instance of the service agrees

    def failures_since(self, username, since):
        """The times of `username`'s failed logins since `since`, oldest first."""
        return [doc["waktu"] for doc in self.db[GAGAL].find(
            {"username": username, "waktu": {"$gte": since}}, {"waktu": 1}).sort("waktu", ASCENDING)]

    def record_failure(self, tx, username, when):
        self.db[GAGAL].insert_one({"_id": new_id(), "username": username, "waktu": when}, session=tx.session)

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
