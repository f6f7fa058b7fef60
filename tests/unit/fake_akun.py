"""akun's repository in memory, with the rules its indexes and conditional updates keep: one
account per username, a refresh token rotated only while its login is live and it is the
current one, a one-time code's time step used once."""
from services.akun.repository import AKUN, AKUN_DEFAULTS, GAGAL, KLIEN, RESET, SESI
from services.akun.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS
from services.common.access import within
from tests.unit.fakes import FakeStore


class FakeAkunRepository(FakeStore):
    DATA_SCHEMAS = EVENT_DATA_SCHEMAS
    PUBLIC_SCHEMAS = PUBLIC_DATA_SCHEMAS

    # Accounts

    def insert_akun(self, tx, akun):
        record = {"id": self.new_id("akun"), **AKUN_DEFAULTS, **akun}
        self.unique(AKUN, record, ("username",))
        return self.put(AKUN, record)

    def akun(self, akun_id):
        return self.get(AKUN, akun_id)

    def akun_by_username(self, username):
        return next(iter(self.rows(AKUN, lambda akun: akun["username"] == username)), None)

    def find_akun(self, area, filters, page, per_page):
        return self.page(AKUN, lambda akun: within(akun["wilayah"], area) and all(
            akun.get(name) == value for name, value in filters.items()), lambda akun: akun["username"], page, per_page)

    def update_akun(self, tx, akun_id, changes):
        current = self.get(AKUN, akun_id)
        return current and self.put(AKUN, {**current, **changes})

    def use_otp_step(self, tx, akun_id, step):
        current = self.get(AKUN, akun_id)
        if current is None or (current["otp_langkah"] is not None and current["otp_langkah"] >= step):
            return None
        return self.put(AKUN, {**current, "otp_langkah": step})

    # Machine accounts

    def insert_klien(self, tx, klien):
        return self.put(KLIEN, {"id": self.new_id("klien"), "terakhir_dipakai": None, "diubah": None, **klien})

    def klien(self, klien_id):
        return self.get(KLIEN, klien_id)

    def find_klien(self, area, filters, page, per_page):
        return self.page(KLIEN, lambda klien: within(klien["wilayah"], area) and all(
            klien.get(name) == value for name, value in filters.items()), lambda klien: klien["nama"], page, per_page)

    def update_klien(self, tx, klien_id, changes):
        current = self.get(KLIEN, klien_id)
        return current and self.put(KLIEN, {**current, **changes})

    # Password resets

    def insert_reset(self, tx, reset):
        return self.put(RESET, {"id": self.new_id("reset"), "token_hash": None, "diserahkan": None, "dipakai": None,
                                **reset})

    def hand_over_reset(self, tx, reset_id, token_hash, now):
        reset = self.get(RESET, reset_id)
        if reset is None or reset["dipakai"] is not None or reset["berakhir"] <= now:
            return None
        return self.put(RESET, {**reset, "token_hash": token_hash, "diserahkan": now})

    def live_reset(self, token_hash, now):
        return next(iter(self.rows(RESET, lambda reset: reset["token_hash"] == token_hash and reset["dipakai"] is None
                                   and reset["berakhir"] > now)), None)

    def spend_resets_of(self, tx, akun_id, now):
        for reset in self.rows(RESET, lambda reset: reset["akun_id"] == akun_id and reset["dipakai"] is None):
            self.put(RESET, {**reset, "dipakai": now})

    def use_reset(self, tx, token_hash, now):
        reset = self.live_reset(token_hash, now)
        return reset and self.put(RESET, {**reset, "dipakai": now})

    # Failed logins

    def failures_since(self, username, since):
        return sorted(({"id": failure["id"], "waktu": failure["waktu"]} for failure in self.rows(
            GAGAL, lambda failure: failure["username"] == username and failure["waktu"] >= since)),
            key=lambda failure: failure["waktu"])

    def record_failure(self, tx, username, when):
        return self.put(GAGAL, {"id": self.new_id("gagal"), "username": username, "waktu": when})

    def forget_failure(self, tx, failure_id):
        self.tables[GAGAL].pop(failure_id, None)

    def clear_failures(self, tx, username):
        for failure in self.rows(GAGAL, lambda failure: failure["username"] == username):
            del self.tables[GAGAL][failure["id"]]

    # Logins

    def insert_sesi(self, tx, sesi):
        return self.put(SESI, {"id": self.new_id("sesi"), "token_hash_lama": [], "dicabut": None,
                               "alasan_cabut": None, **sesi})

    def sesi_of_token(self, token_hash):
        return next(iter(self.rows(SESI, lambda sesi: token_hash == sesi["token_hash"]
                                   or token_hash in sesi["token_hash_lama"])), None)

    def rotate_token(self, tx, token_hash, new_hash, now):
        sesi = next(iter(self.rows(SESI, lambda sesi: sesi["token_hash"] == token_hash and sesi["dicabut"] is None
                                   and sesi["berakhir"] > now)), None)
        if sesi is None:
            return None
        return self.put(SESI, {**sesi, "token_hash": new_hash, "diperbarui": now,
                               "token_hash_lama": [*sesi["token_hash_lama"], token_hash]})

    def revoke_sesi(self, tx, sesi_id, reason, now):
        sesi = self.get(SESI, sesi_id)
        if sesi and sesi["dicabut"] is None:
            self.put(SESI, {**sesi, "dicabut": now, "alasan_cabut": reason})

    def revoke_sesi_of_akun(self, tx, akun_id, reason, now):
        for sesi in self.rows(SESI, lambda sesi: sesi["akun_id"] == akun_id):
            self.revoke_sesi(tx, sesi["id"], reason, now)
