"""The kegiatan service: activities and their participants, and the aspirations citizens bring.
RPC entrypoints take the caller (`actor`, from the verified token; none for the public ones) and
a payload, validate both with the service's schemas and return JSON-ready dicts."""
from nameko.timer import timer
from pymongo.errors import DuplicateKeyError

from services.common.access import Actor
from services.common.config import settings
from services.common.errors import Conflict, InvalidInput, NotFound, Unavailable, changed_meanwhile
from services.common.extensions import BaseService, ask, found_unit, organisasi_proxy
from services.common.messaging import RpcProxy, rpc
from services.common.mongo import area_filter, utcnow
from services.common.privacy import mask_contact
from services.common.schema import PageQuerySchema, instance, load, page_result
from services.common.store import Store
from services.kegiatan import domain
from services.kegiatan.repository import KegiatanRepository
from services.kegiatan.schemas import (
    EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AspirasiBaruSchema, AspirasiDiterimaSchema, AspirasiQuerySchema,
    AspirasiSchema, BatalSchema, KegiatanBaruSchema, KegiatanQuerySchema, KegiatanSchema, KodeSurveiSchema,
    LacakSchema, PesertaBaruSchema, PesertaSchema, RekapQuerySchema, RekapSchema, SelesaiKegiatanSchema,
    SurveiDiterimaSchema, SurveiSchema, TindakLanjutSchema)

HOLIDAYS = domain.parse_holidays(settings().hari_libur)


def require_recorder(actor, kode):
    actor.require_role(domain.ROLES_PENCATAT, kode, "Peran Anda tidak berwenang mencatat kegiatan atau aspirasi.")


class KegiatanService(BaseService):
    name = "kegiatan"

    store = Store(KegiatanRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = organisasi_proxy()
    bantuan = RpcProxy("bantuan")

    @rpc
    def kegiatan_ringkas(self, kegiatan_id):
        """For other services: an activity as it is, or None."""
        kegiatan = self.store.kegiatan(kegiatan_id)
        return instance(KegiatanSchema).dump(kegiatan) if kegiatan else None

    @rpc
    def kontak_pelapor(self, aspirasi_id):
        """For notifikasi: the reporter's name and contacts, or None when they left none (their
        identity stays here; events never carry it)."""
        aspirasi = self.store.aspirasi(aspirasi_id)
        pelapor = (aspirasi or {}).get("pelapor") or {}
        if not (pelapor.get("telepon") or pelapor.get("email")):
            return None
        return {"id": aspirasi_id, "nama": pelapor.get("nama") or "Bapak/Ibu Pelapor",
                "telepon": pelapor.get("telepon"), "email": pelapor.get("email")}

    # Activities

    @rpc
    def buat_kegiatan(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(KegiatanBaruSchema, payload)
        domain.check_kegiatan(data)
        # The unit and the place in one call to organisasi: a write pays for every round trip.
        found = ask(self.organisasi, "unit_dan_wilayah", data["unit_id"], data["lokasi"]["kode_wilayah"])
        unit = found_unit(found["unit"], data["unit_id"])
        require_recorder(actor, unit["kode_wilayah"])
        domain.require_listed_area(found["wilayah"], data["lokasi"]["kode_wilayah"], ("lokasi", "kode_wilayah"))
        domain.check_location(unit["kode_wilayah"], data["lokasi"]["kode_wilayah"])
        if data["jenis"] == "bantuan_sosial" and ask(self.bantuan, "program_ringkas", data["program_id"]) is None:
            raise InvalidInput({"program_id": [f"Program bantuan {data['program_id']} tidak ditemukan."]})
        record = {**data, "unit_kode": unit["kode_wilayah"], "dibuat_oleh": actor.sub}

        def schedule(tx):
            kegiatan = self.store.insert_kegiatan(tx, record)
            tx.emit("kegiatan.dijadwalkan", f"kegiatan/{kegiatan['id']}", kegiatan, kegiatan["lokasi"]["kode_wilayah"])
            return kegiatan

        return instance(KegiatanSchema).dump(self.store.uow.commit(schedule))

    @rpc
    def get_kegiatan(self, actor, kegiatan_id):
        return instance(KegiatanSchema).dump(self._visible_kegiatan(Actor.from_dict(actor), kegiatan_id))

    @rpc
    def list_kegiatan(self, actor, query):
        actor = Actor.from_dict(actor)
        query = load(KegiatanQuerySchema, query)
        criteria = area_filter("lokasi.kode_wilayah", actor.visible_area(query.get("kode_prefix")))
        for name in ("unit_id", "jenis", "status"):
            if name in query:
                criteria[name] = query[name]
        period = {op: query[name] for name, op in (("dari", "$gte"), ("sampai", "$lt")) if name in query}
        if period:
            criteria["mulai"] = period
        items, total = self.store.find_kegiatan(criteria, query["page"], query["per_page"])
        return page_result(KegiatanSchema(many=True).dump(items), total, query)

    @rpc
    def mulai_kegiatan(self, actor, kegiatan_id):
        return self._move(Actor.from_dict(actor), kegiatan_id, "mulai", {})

    @rpc
    def selesaikan_kegiatan(self, actor, kegiatan_id, payload):
        """Finish with the report; the survey codes for the participants are made with it."""
        data = load(SelesaiKegiatanSchema, payload)

        def hand_out_survey_codes(tx, finished):
            codes = domain.survey_codes(finished["laporan"]["jumlah_peserta"], finished["jumlah_peserta_tercatat"])
            self.store.insert_survey_codes(tx, finished, codes)

        return self._move(Actor.from_dict(actor), kegiatan_id, "selesai", {"laporan": data["laporan"]},
                          then=hand_out_survey_codes)

    @rpc
    def batalkan_kegiatan(self, actor, kegiatan_id, payload):
        data = load(BatalSchema, payload)
        return self._move(Actor.from_dict(actor), kegiatan_id, "batal", {"alasan_batal": data["alasan"]})

    def _move(self, actor, kegiatan_id, action, changes, then=None):
        kegiatan = self._recorded_kegiatan(actor, kegiatan_id)
        target = domain.next_status(kegiatan["status"], action)
        allowed_from, _ = domain.TRANSISI[action]

        def move(tx):
            moved = self.store.move_kegiatan(tx, kegiatan_id, allowed_from,
                                             {**changes, "status": target, f"{target}_oleh": actor.sub})
            if moved is not None:
                tx.emit(domain.EVENT_OF_ACTION[action], f"kegiatan/{kegiatan_id}", moved,
                        moved["lokasi"]["kode_wilayah"])
                if then:
                    then(tx, moved)
            return moved

        moved = self.store.uow.commit(move)
        if moved is None:  # someone else moved it first
            raise changed_meanwhile("Kegiatan", self.store.kegiatan(kegiatan_id)["status"])
        return instance(KegiatanSchema).dump(moved)

    # Participants

    @rpc
    def tambah_peserta(self, actor, kegiatan_id, payload):
        actor = Actor.from_dict(actor)
        data = load(PesertaBaruSchema, payload)
        kegiatan = self._recorded_kegiatan(actor, kegiatan_id)
        if kegiatan["status"] == "dibatalkan":
            raise Conflict("Kegiatan sudah dibatalkan; peserta tidak dapat dicatat.", code="kegiatan_dibatalkan")

        def add(tx):
            peserta = self.store.insert_peserta(tx, {**data, "kegiatan_id": kegiatan_id, "dicatat_oleh": actor.sub,
                                                     "kode_wilayah": kegiatan["lokasi"]["kode_wilayah"],
                                                     "mulai": kegiatan["mulai"], "unit_id": kegiatan["unit_id"]})
            if kegiatan["status"] == "selesai":  # recorded after the finish: a survey code of their own
                self.store.insert_survey_codes(tx, kegiatan, domain.survey_codes(1, 0))
            return peserta

        return self._peserta_view(actor, self.store.uow.commit(add))

    @rpc
    def daftar_peserta(self, actor, kegiatan_id, query):
        actor = Actor.from_dict(actor)
        query = load(PageQuerySchema, query)
        self._visible_kegiatan(actor, kegiatan_id)
        items, total = self.store.peserta(kegiatan_id, query["page"], query["per_page"])
        return page_result([self._peserta_view(actor, p) for p in items], total, query)

    # Trust survey

    @rpc
    def kode_survei(self, actor, kegiatan_id):
        """The unused survey codes of a finished activity, to hand to its participants."""
        self._recorded_kegiatan(Actor.from_dict(actor), kegiatan_id)
        unused, used = self.store.unused_survey_codes(kegiatan_id)
        return instance(KodeSurveiSchema).dump({"kegiatan_id": kegiatan_id, "kode": unused, "terpakai": used})

    @rpc
    def isi_survei(self, kegiatan_id, payload):
        """Anyone holding a code rates trust and satisfaction, once per code."""
        data = load(SurveiSchema, payload)
        answer = {name: data.get(name) for name in ("kepercayaan", "kepuasan", "komentar")}

        def use_code(tx):
            used = self.store.answer_survey(tx, kegiatan_id, data["kode"], answer)
            if used is not None:
                tx.emit("survei.diisi", f"kegiatan/{kegiatan_id}", used, used["kode_wilayah"])
            return used

        if self.store.uow.commit(use_code) is None:
            if self.store.survey_code(kegiatan_id, data["kode"]) is None:
                raise NotFound("Kode survei tidak dikenal untuk kegiatan ini.")
            raise Conflict("Kode survei ini sudah dipakai.", code="kode_sudah_dipakai")
        return instance(SurveiDiterimaSchema).dump({"kegiatan_id": kegiatan_id, "diterima": True})

    # Summary

    @rpc
    def rekap(self, actor, query):
        """Activities, participants, aspirations and trust for an area and period."""
        actor = Actor.from_dict(actor)
        query = load(RekapQuerySchema, query)
        kode = query.get("kode_wilayah", actor.wilayah)  # by default, the caller's own area
        actor.require_covers(kode)
        if query["sampai"] < query["dari"]:
            raise InvalidInput({"sampai": ["Tanggal akhir tidak boleh sebelum tanggal awal."]})
        start, end = domain.period_bounds(query["dari"], query["sampai"])
        counts = self.store.summary_counts(kode, start, end, query.get("unit_id"))
        return instance(RekapSchema).dump({**domain.summary(*counts), "kode_wilayah": kode,
                                           "unit_id": query.get("unit_id"), "dari": query["dari"],
                                           "sampai": query["sampai"]})

    def _peserta_view(self, actor, peserta):
        """Participants' contacts are personal data: whole only for those who record activities."""
        return instance(PesertaSchema).dump(peserta if actor.has_role(domain.ROLES_PENCATAT) else mask_contact(peserta))

    def _visible_kegiatan(self, actor, kegiatan_id):
        """Seen by whoever covers where it happens (which its unit's area holds)."""
        kegiatan = self.store.kegiatan(kegiatan_id)
        if kegiatan is None:
            raise NotFound(f"Kegiatan {kegiatan_id} tidak ditemukan.")
        actor.require_covers(kegiatan["lokasi"]["kode_wilayah"])
        return kegiatan

    def _recorded_kegiatan(self, actor, kegiatan_id):
        kegiatan = self._visible_kegiatan(actor, kegiatan_id)
        require_recorder(actor, kegiatan["unit_kode"])
        return kegiatan

    # Aspirations

    @rpc
    def kirim_aspirasi(self, payload):
        """Anyone may send one, without an account: it goes to the unit of the most specific
        area that has one, with a ticket to track it by."""
        data = load(AspirasiBaruSchema, payload)
        handler = self._require_area(data["kode_wilayah"], ("kode_wilayah",))["unit"]
        if handler is None:
            raise Conflict("Belum ada unit BKPM yang dapat menerima aspirasi.", code="belum_ada_unit")
        if data.get("kegiatan_id"):
            dialog = self.store.kegiatan(data["kegiatan_id"])
            if dialog is None or dialog["jenis"] != "dialog":
                raise InvalidInput({"kegiatan_id": [f"Tidak ada dialog {data['kegiatan_id']}."]})
        received = utcnow()
        record = {**data, "kegiatan_id": data.get("kegiatan_id"), "pelapor": data.get("pelapor"),
                  "unit_id": handler["id"], "unit_kode": handler["kode_wilayah"],
                  "batas_verifikasi": domain.add_working_days(received, domain.HARI_VERIFIKASI, HOLIDAYS)}

        def receive(tx):
            aspirasi = self.store.insert_aspirasi(tx, {**record, "nomor_tiket": domain.new_ticket()})
            tx.emit("aspirasi.diterima", f"aspirasi/{aspirasi['id']}", aspirasi, aspirasi["kode_wilayah"])
            return aspirasi

        for _ in range(3):  # a ticket number drawn twice is drawn again
            try:
                aspirasi = self.store.uow.commit(receive)
                break
            except DuplicateKeyError:
                continue
        else:
            raise Unavailable("Nomor tiket tidak dapat dibuat; coba lagi.")
        return instance(AspirasiDiterimaSchema).dump({**aspirasi, "unit": handler["nama"]})

    @rpc
    def lacak_aspirasi(self, nomor_tiket):
        """Public tracking by ticket: status and public answers, nothing about anyone."""
        aspirasi = self.store.aspirasi_by_ticket(nomor_tiket)
        if aspirasi is None:
            raise NotFound(f"Tiket {nomor_tiket} tidak ditemukan.")
        answers = [{"status": r["status_baru"], "catatan": r["catatan"], "waktu": r["waktu"]}
                   for r in aspirasi["riwayat"] if r["publik"] and r.get("catatan")]
        return instance(LacakSchema).dump({**aspirasi, "jawaban": answers})

    @rpc
    def get_aspirasi(self, actor, aspirasi_id):
        actor = Actor.from_dict(actor)
        return self._aspirasi_view(actor, self._visible_aspirasi(actor, aspirasi_id))

    @rpc
    def list_aspirasi(self, actor, query):
        actor = Actor.from_dict(actor)
        query = load(AspirasiQuerySchema, query)
        criteria = area_filter("kode_wilayah", actor.visible_area(query.get("kode_prefix")))
        for name in ("status", "kategori", "unit_id", "kegiatan_id"):
            if name in query:
                criteria[name] = query[name]
        if "terlambat" in query:
            criteria["terlambat"] = {"$ne": []} if query["terlambat"] else []
        items, total = self.store.find_aspirasi(criteria, query["page"], query["per_page"])
        return page_result([self._aspirasi_view(actor, a) for a in items], total, query)

    @rpc
    def tindak_lanjut(self, actor, aspirasi_id, payload):
        actor = Actor.from_dict(actor)
        data = load(TindakLanjutSchema, payload)
        aspirasi = self._visible_aspirasi(actor, aspirasi_id)
        require_recorder(actor, aspirasi["unit_kode"])
        now = utcnow()
        changes = domain.follow_up(aspirasi, data["status"], data.get("catatan"), now, HOLIDAYS,
                                   lapangan=data["lapangan"])
        publik = data.get("publik", domain.public_by_default(data["status"]))
        entry = {"status_lama": aspirasi["status"], "status_baru": data["status"], "catatan": data.get("catatan"),
                 "publik": publik, "oleh": actor.sub, "waktu": now}

        def update(tx):
            # A deadline missed before this step is recorded with it, even if the periodic check
            # has not come round yet.
            self._flag_breach(tx, aspirasi, now)
            updated = self.store.update_aspirasi(tx, aspirasi_id, aspirasi["status"], changes, entry)
            if updated is not None:
                tx.emit("aspirasi.diperbarui", f"aspirasi/{aspirasi_id}",
                        {**updated, "status_lama": entry["status_lama"], "status_baru": entry["status_baru"],
                         "jawaban": entry["catatan"] if publik else None},
                        updated["kode_wilayah"])
            return updated

        updated = self.store.uow.commit(update)
        if updated is None:  # someone else followed it up first
            raise changed_meanwhile("Aspirasi", self.store.aspirasi(aspirasi_id)["status"])
        return self._aspirasi_view(actor, updated)

    @timer(interval=settings().aspirasi_check_seconds)
    def periksa_tenggat(self):
        """Flag late aspirations; `aspirasi.terlambat` fires once per missed deadline, also
        with several instances running (the flag is set atomically with the event)."""
        now = utcnow()
        for aspirasi in self.store.overdue_candidates(now):
            self.store.uow.commit(lambda tx, aspirasi=aspirasi: self._flag_breach(tx, aspirasi, now))

    def _flag_breach(self, tx, aspirasi, now):
        tenggat = domain.breach(aspirasi, now)
        if tenggat is None:
            return
        flagged = self.store.flag_late(tx, aspirasi["id"], tenggat)
        if flagged is not None:
            batas = aspirasi["batas_verifikasi"] if tenggat == "verifikasi" else aspirasi["batas_jawaban"]
            tx.emit("aspirasi.terlambat", f"aspirasi/{aspirasi['id']}",
                    {**flagged, "tenggat": tenggat, "batas": batas}, flagged["kode_wilayah"])

    def _visible_aspirasi(self, actor, aspirasi_id):
        """Seen by whoever covers where it comes from (which the handling unit's area holds)."""
        aspirasi = self.store.aspirasi(aspirasi_id)
        if aspirasi is None:
            raise NotFound(f"Aspirasi {aspirasi_id} tidak ditemukan.")
        actor.require_covers(aspirasi["kode_wilayah"])
        return aspirasi

    def _aspirasi_view(self, actor, aspirasi):
        """A confidential reporter is shown only inside the handling unit; otherwise contacts
        are shown to those who record aspirations, masked for readers."""
        pelapor = aspirasi.get("pelapor")
        if pelapor and aspirasi["rahasia"] and actor.wilayah != aspirasi["unit_kode"]:
            pelapor = None
        elif pelapor and not actor.has_role(domain.ROLES_PENCATAT):
            pelapor = mask_contact(pelapor)
        return instance(AspirasiSchema).dump({**aspirasi, "pelapor": pelapor})

    # The organisation, asked of organisasi

    def _require_area(self, kode, field_path):
        """The area must be in the official reference and still listed; returns what organisasi
        knows of it and the unit responsible for it."""
        found = ask(self.organisasi, "penanggung_jawab_wilayah", kode)
        domain.require_listed_area(found["wilayah"], kode, field_path)
        return found

