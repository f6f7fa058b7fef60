"""The bantuan service: social-aid programs, their recipients, and distributions that are fair
under concurrency, with an audit trail of who did what when."""
import csv
import io

from marshmallow import ValidationError
from pymongo.errors import DuplicateKeyError

from services.bantuan import domain
from services.bantuan.repository import PENERIMA, PENYALURAN, PROGRAM, BantuanRepository
from services.bantuan.schemas import (
    EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, BatalPenyaluranSchema, ImporLaporanSchema, PenerimaBaruSchema,
    PenerimaQuerySchema, PenerimaSchema, PenyaluranBaruSchema, PenyaluranQuerySchema, PenyaluranSchema,
    ProgramBaruSchema, ProgramQuerySchema, ProgramSchema, RekapProgramSchema)
from services.common.access import Actor, area_and_ancestors, within
from services.common.errors import Conflict, InvalidInput, NotFound, Unavailable, changed_meanwhile
from services.common.extensions import BaseService, ask, known_unit, organisasi_proxy
from services.common.messaging import RpcProxy, rpc
from services.common.mongo import area_filter
from services.common.schema import instance, load, page_result
from services.common.store import Store

CSV_COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")


def penerima_view(actor, penerima, in_list=False):
    """NIK, No. KK and phone are personal data: whole only for one record to those who record
    aid, masked in every list and for everyone else."""
    if in_list or not actor.has_role(domain.ROLES_PENCATAT):
        # The birth date goes too: with the area code it would give back most of the NIK.
        penerima = {**penerima, "nik": domain.mask_number(penerima["nik"]),
                    "no_kk": domain.mask_number(penerima["no_kk"]),
                    "telepon": domain.mask_number(penerima.get("telepon")), "tanggal_lahir": None}
    return instance(PenerimaSchema).dump(penerima)


def csv_records(reader, rejected):
    """(line, record) for each readable record; an unreadable one is reported and skipped, so
    one broken row never stops the rest. The line is where the record ends in the file."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rejected.append({"baris": reader.line_num, "alasan": f"baris CSV tidak dapat dibaca ({exc})"})
            continue
        yield reader.line_num, record


def require_program_manager(actor, kode):
    actor.require_role(domain.ROLES_PROGRAM, kode, "Peran Anda tidak berwenang mengelola program.")


def penyaluran_view(penyaluran):
    return instance(PenyaluranSchema).dump({**penyaluran, "no_kk": domain.mask_number(penyaluran["no_kk"])})


class BantuanService(BaseService):
    name = "bantuan"

    store = Store(BantuanRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = organisasi_proxy()
    kegiatan = RpcProxy("kegiatan")

    @rpc
    def program_ringkas(self, program_id):
        """For other services: a program's id, kind, unit and status, or None."""
        program = self.store.program(program_id)
        return instance(ProgramSchema).dump(program) if program else None

    @rpc
    def kontak_penerima(self, penerima_id):
        """For notifikasi: a recipient's name and phone, or None."""
        penerima = self.store.penerima(penerima_id)
        if penerima is None:
            return None
        return {"id": penerima["id"], "nama": penerima["nama"], "telepon": penerima.get("telepon")}

    # Programs

    @rpc
    def buat_program(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(ProgramBaruSchema, payload)
        domain.check_program(data)
        require_program_manager(actor, actor.wilayah)
        unit = known_unit(self.organisasi, data["unit_id"])
        require_program_manager(actor, unit["kode_wilayah"])
        self._check_targets(unit["kode_wilayah"], data["wilayah_sasaran"])
        others = self.store.programs(data["eksklusif_dengan"])
        unknown = set(data["eksklusif_dengan"]) - {p["id"] for p in others}
        if unknown:
            raise InvalidInput({"eksklusif_dengan": [f"Program tidak ditemukan: {', '.join(sorted(unknown))}."]})
        for other in others:  # exclusivity binds both programs: only for programs one also manages
            require_program_manager(actor, other["unit_kode"])

        def create(tx):
            program = self.store.insert_program(tx, {**data, "unit_kode": unit["kode_wilayah"]})
            tx.emit("program.dibuat", f"program/{program['id']}", program, program["unit_kode"])
            self.store.audit(tx, PROGRAM, program["id"], "dibuat", actor.sub, None,
                             instance(ProgramSchema).dump(program))
            return program

        return instance(ProgramSchema).dump(self.store.uow.commit(create))

    def _check_targets(self, unit_kode, targets):
        outside = [code for code in targets if not within(code, unit_kode)]
        if outside:
            raise InvalidInput({"wilayah_sasaran": [f"Di luar wilayah unit: {', '.join(outside)}."]})
        unknown = sorted(set(targets) - set(ask(self.organisasi, "wilayah_dikenal", targets)))
        if unknown:
            raise InvalidInput({"wilayah_sasaran": [f"Tidak ada dalam referensi wilayah: {', '.join(unknown)}."]})

    @rpc
    def get_program(self, actor, program_id):
        return instance(ProgramSchema).dump(self._visible_program(Actor.from_dict(actor), program_id))

    @rpc
    def list_program(self, actor, query):
        actor = Actor.from_dict(actor)
        query = load(ProgramQuerySchema, query)
        criteria = {name: query[name] for name in ("status", "jenis", "unit_id") if name in query}
        if actor.wilayah:  # programs aimed at the caller's area, or at an area holding it
            criteria["$or"] = [area_filter("wilayah_sasaran", actor.wilayah),
                               {"wilayah_sasaran": {"$in": area_and_ancestors(actor.wilayah)}}]
        items, total = self.store.find_programs(criteria, query["page"], query["per_page"])
        return page_result(ProgramSchema(many=True).dump(items), total, query)

    @rpc
    def aktifkan_program(self, actor, program_id):
        return self._move_program(Actor.from_dict(actor), program_id, "aktifkan")

    @rpc
    def tutup_program(self, actor, program_id):
        return self._move_program(Actor.from_dict(actor), program_id, "tutup")

    def _move_program(self, actor, program_id, action):
        program = self._visible_program(actor, program_id)
        require_program_manager(actor, program["unit_kode"])
        target = domain.next_program_status(program["status"], action)
        allowed_from, _ = domain.TRANSISI_PROGRAM[action]

        def move(tx):
            moved = self.store.move_program(tx, program_id, allowed_from, target)
            if moved is not None:
                tx.emit(domain.EVENT_OF_ACTION[action], f"program/{program_id}", moved, moved["unit_kode"])
                self.store.audit(tx, PROGRAM, program_id, action, actor.sub, {"status": program["status"]},
                                 {"status": target})
            return moved

        moved = self.store.uow.commit(move)
        if moved is None:  # someone else moved it first
            current = self.store.program(program_id)["status"]
            domain.next_program_status(current, action)  # the usual 409 when the step is no longer allowed
            raise changed_meanwhile("Program", current)
        return instance(ProgramSchema).dump(moved)

    def _visible_program(self, actor, program_id):
        program = self.store.program(program_id)
        if program is None:
            raise NotFound(f"Program {program_id} tidak ditemukan.")
        reaches = any(within(code, actor.wilayah) or within(actor.wilayah, code) for code in program["wilayah_sasaran"])
        if not (reaches or actor.covers(program["unit_kode"])):
            actor.require_covers(program["unit_kode"])
        return program

    @rpc
    def rekap_program(self, actor, program_id):
        program = self._visible_program(Actor.from_dict(actor), program_id)
        per_village, per_proof = self.store.distribution_counts(program_id)
        return instance(RekapProgramSchema).dump({"program_id": program_id, "kuota": program["kuota"],
                                          "tersalur": program["tersalur"], "sisa": program["sisa"],
                                          "per_wilayah": domain.roll_up(per_village), "per_bukti": per_proof})

    # Recipients

    @rpc
    def daftar_penerima(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(PenerimaBaruSchema, payload)
        domain.check_penerima(data)
        self._require_recorder(actor, data["kode_wilayah"])
        if not ask(self.organisasi, "wilayah_dikenal", [data["kode_wilayah"]]):
            raise InvalidInput({"kode_wilayah": [f"Kode wilayah {data['kode_wilayah']} tidak ada dalam referensi."]})

        def register(tx):
            penerima = self.store.insert_penerima(tx, {**data, "dicatat_oleh": actor.sub})
            self.store.audit(tx, PENERIMA, penerima["id"], "didaftarkan", actor.sub, None,
                             {"kode_wilayah": penerima["kode_wilayah"]})
            return penerima

        try:
            return penerima_view(actor, self.store.uow.commit(register))
        except DuplicateKeyError:
            first = self.store.penerima_by_nik(data["nik"])
            raise Conflict("NIK ini sudah terdaftar.", code="nik_sudah_terdaftar",
                           penerima_id=first and first["id"]) from None

    @rpc
    def impor_penerima(self, actor, csv_text):
        """A CSV of recipients (header: nik,no_kk,nama,jenis_kelamin,tanggal_lahir,kode_wilayah,
        alamat[,telepon]). Each row is taken or refused with its reason; one bad row never stops
        the rest; a NIK already registered is left as it is, so the same file twice adds nothing."""
        actor = Actor.from_dict(actor)
        actor.require_role(domain.ROLES_PENCATAT, actor.wilayah, "Peran Anda tidak berwenang mencatat penerima.")
        rows, rejected = self._read_rows(actor, csv_text)
        known = set(ask(self.organisasi, "wilayah_dikenal", sorted({row["kode_wilayah"] for _, row in rows})))
        accepted = []
        for line, row in rows:
            if row["kode_wilayah"] not in known:
                reason = f"kode_wilayah: {row['kode_wilayah']} tidak ada dalam referensi"
                rejected.append({"baris": line, "alasan": reason})
            else:
                accepted.append({**row, "dicatat_oleh": actor.sub})
        added = self.store.insert_many_penerima(accepted)
        report = {"jumlah_baris": len(rows) + len(rejected), "ditambahkan": added, "sudah_ada": len(accepted) - added,
                  "ditolak": sorted(rejected, key=lambda r: r["baris"])}
        self.store.uow.commit(lambda tx: self.store.audit(
            tx, PENERIMA, "impor", "diimpor", actor.sub, None,
            {key: report[key] for key in ("jumlah_baris", "ditambahkan", "sudah_ada")} | {"ditolak": len(rejected)}))
        return instance(ImporLaporanSchema).dump(report)

    def _read_rows(self, actor, csv_text):
        text = (csv_text or "").lstrip("\ufeff")
        header = text.split("\n", 1)[0]
        # Spreadsheets in the Indonesian locale save with semicolons.
        delimiter = ";" if header.count(";") > header.count(",") else ","
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            fieldnames = reader.fieldnames or ()
        except csv.Error:
            raise InvalidInput({"csv": ["Baris judul CSV tidak dapat dibaca."]}) from None
        missing = set(CSV_COLUMNS[:-1]) - {name.strip().lower() for name in fieldnames}
        if missing:
            raise InvalidInput({"csv": [f"Kolom wajib tidak ada: {', '.join(sorted(missing))}."]})
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
        rows, rejected, seen = [], [], set()
        for line, raw in csv_records(reader, rejected):
            values = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS if (raw.get(k) or "").strip()}
            try:
                row = instance(PenerimaBaruSchema).load(values)
                domain.check_penerima(row)
            except (ValidationError, InvalidInput) as exc:
                errors = exc.messages if isinstance(exc, ValidationError) else exc.payload["errors"]
                rejected.append({"baris": line, "alasan": "; ".join(f"{field}: {' '.join(map(str, msgs))}"
                                                                    for field, msgs in errors.items())})
                continue
            if not actor.covers(row["kode_wilayah"]):
                rejected.append({"baris": line, "alasan": f"kode_wilayah: {row['kode_wilayah']} di luar wilayah Anda"})
            elif row["nik"] in seen:
                rejected.append({"baris": line, "alasan": "nik: muncul lebih dari sekali dalam berkas"})
            else:
                seen.add(row["nik"])
                rows.append((line, row))
        return rows, rejected

    @rpc
    def get_penerima(self, actor, penerima_id):
        actor = Actor.from_dict(actor)
        return penerima_view(actor, self._visible_penerima(actor, penerima_id))

    @rpc
    def list_penerima(self, actor, query):
        actor = Actor.from_dict(actor)
        query = load(PenerimaQuerySchema, query)
        criteria = area_filter("kode_wilayah", actor.visible_area(query.get("kode_prefix")))
        if "no_kk" in query:  # who belongs to a family card: only for those who record aid
            self._require_recorder(actor, actor.wilayah)
            criteria["no_kk"] = query["no_kk"]
        items, total = self.store.find_penerima(criteria, query["page"], query["per_page"])
        return page_result([penerima_view(actor, p, in_list=True) for p in items], total, query)

    def _visible_penerima(self, actor, penerima_id):
        penerima = self.store.penerima(penerima_id)
        if penerima is None:
            raise NotFound(f"Penerima {penerima_id} tidak ditemukan.")
        actor.require_covers(penerima["kode_wilayah"])
        return penerima

    def _require_recorder(self, actor, kode):
        actor.require_role(domain.ROLES_PENCATAT, kode, "Peran Anda tidak berwenang mencatat bantuan.")

    # Distributions

    @rpc
    def catat_penyaluran(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(PenyaluranBaruSchema, payload)
        program = self.store.program(data["program_id"])
        if program is None:
            raise InvalidInput({"program_id": [f"Program {data['program_id']} tidak ditemukan."]})
        penerima = self._visible_penerima(actor, data["penerima_id"])
        self._require_recorder(actor, penerima["kode_wilayah"])
        domain.check_distribution(program, penerima, data["tanggal"])
        if data.get("kegiatan_id"):
            activity = ask(self.kegiatan, "kegiatan_ringkas", data["kegiatan_id"])
            if activity is None or activity["jenis"] != "bantuan_sosial" or activity["program_id"] != program["id"]:
                raise InvalidInput({"kegiatan_id": ["Bukan kegiatan bantuan sosial untuk program ini."]})
        record = {**data, "no_kk": penerima["no_kk"], "kode_wilayah": penerima["kode_wilayah"],
                  "dicatat_oleh": actor.sub}

        def distribute(tx):
            self.store.lock_household(tx, penerima["no_kk"])
            received = self.store.programs(self.store.programs_received(tx, penerima["no_kk"]), session=tx.session)
            other = domain.exclusive_conflict(program, received)
            if other is not None:
                raise Conflict(f"Keluarga ini sudah menerima program '{other['nama']}', yang tidak boleh diterima "
                               "bersamaan dengan program ini.", code="program_eksklusif", program_lain_id=other["id"])
            taken = self.store.take_quota(tx, program["id"])
            if taken is None:
                raise Conflict("Kuota program sudah habis.", code="kuota_habis", program_id=program["id"])
            penyaluran = self.store.insert_penyaluran(tx, record)
            tx.emit("penyaluran.dicatat", f"penyaluran/{penyaluran['id']}", penyaluran, penyaluran["kode_wilayah"])
            if taken["sisa"] == 0 and self.store.mark_quota_exhausted(tx, program["id"]):
                tx.emit("kuota.habis", f"program/{program['id']}",
                        {"program_id": program["id"], "nama": program["nama"], "unit_id": program["unit_id"],
                         "kuota": program["kuota"]},
                        program["unit_kode"])
            self.store.audit(tx, PENYALURAN, penyaluran["id"], "dicatat", actor.sub, None,
                             {"status": "aktif", "program_id": program["id"], "penerima_id": penerima["id"]})
            return penyaluran

        for _ in range(3):
            try:
                return penyaluran_view(self.store.uow.commit(distribute))
            except DuplicateKeyError as exc:
                if "program_id" in (exc.details or {}).get("keyPattern", {}):
                    earlier = self.store.active_penyaluran(program["id"], penerima["no_kk"])
                    raise Conflict("Keluarga (No. KK) ini sudah menerima bantuan dari program ini.",
                                   code="sudah_menerima", penyaluran_id=earlier and earlier["id"]) from None
                # Two first distributions to one household created its lock document at once:
                # it exists now, so the next try queues behind the other.
        raise Unavailable("Penyaluran tidak dapat dicatat saat ini; coba lagi.")

    @rpc
    def batalkan_penyaluran(self, actor, penyaluran_id, payload):
        """Cancelling frees the quota and the household's slot; nothing is deleted."""
        actor = Actor.from_dict(actor)
        data = load(BatalPenyaluranSchema, payload)
        penyaluran = self.store.penyaluran(penyaluran_id)
        if penyaluran is None:
            raise NotFound(f"Penyaluran {penyaluran_id} tidak ditemukan.")
        self._require_recorder(actor, penyaluran["kode_wilayah"])

        def cancel(tx):
            cancelled = self.store.cancel_penyaluran(tx, penyaluran_id, {"alasan_batal": data["alasan"],
                                                                         "dibatalkan_oleh": actor.sub})
            if cancelled is not None:
                self.store.give_back_quota(tx, cancelled["program_id"])
                tx.emit("penyaluran.dibatalkan", f"penyaluran/{penyaluran_id}", cancelled, cancelled["kode_wilayah"])
                self.store.audit(tx, PENYALURAN, penyaluran_id, "dibatalkan", actor.sub, {"status": "aktif"},
                                 {"status": "batal", "alasan_batal": data["alasan"]})
            return cancelled

        cancelled = self.store.uow.commit(cancel)
        if cancelled is None:
            raise Conflict("Penyaluran ini sudah dibatalkan.", code="sudah_dibatalkan")
        return penyaluran_view(cancelled)

    @rpc
    def list_penyaluran(self, actor, query):
        actor = Actor.from_dict(actor)
        query = load(PenyaluranQuerySchema, query)
        criteria = area_filter("kode_wilayah", actor.wilayah)
        criteria.update({name: query[name] for name in ("program_id", "penerima_id", "status") if name in query})
        items, total = self.store.find_penyaluran(criteria, query["page"], query["per_page"])
        return page_result([penyaluran_view(p) for p in items], total, query)

    @rpc
    def jejak_audit(self, actor, entitas_id):
        """Who did what when to a program, recipient or distribution, with old and new values."""
        actor = Actor.from_dict(actor)
        area = self.store.area_of(entitas_id)
        if area is False:
            raise NotFound(f"Tidak ada program, penerima atau penyaluran {entitas_id}.")
        actor.require_role(domain.ROLES_PROGRAM, area, "Peran Anda tidak berwenang melihat jejak audit.")
        return [{**entry, "waktu": entry["waktu"].isoformat()} for entry in self.store.audit_trail(entitas_id)]
