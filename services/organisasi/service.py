"""The organisasi service: units at four levels, their boards and members, and the area
reference they are built on. RPC entrypoints take the caller (`actor`, from the verified token)
and a payload, validate both with the service's schemas and return JSON-ready dicts."""
from datetime import date

from nameko.rpc import rpc
from pymongo.errors import DuplicateKeyError

from services.common.extensions import CorrelationContext
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.schema import load, page_result
from services.common.store import Store
from services.organisasi import domain
from services.organisasi.domain import Actor
from services.organisasi.repository import OrganisasiRepository, subtree_filter
from services.organisasi.schemas import (EVENT_DATA_SCHEMAS, AnggotaBaruSchema, AnggotaSchema,
                                         BerhentiSchema, KeluarSchema, PengurusBaruSchema,
                                         PengurusSchema, RiwayatQuerySchema, StrukturSchema, UnitBaruSchema,
                                         UnitQuerySchema, UnitSchema)


def emit(tx, event_type, subject, record, wilayah):
    tx.emit(event_type, subject, EVENT_DATA_SCHEMAS[event_type]().dump(record), wilayah=wilayah)


def person_view(actor, record, schema_class):
    """Contacts are personal data: only those who manage the unit see them whole."""
    return schema_class().dump(record if actor.can_manage() else domain.mask_contact(record))


class OrganisasiService:
    name = "organisasi"

    context = CorrelationContext()
    store = Store(OrganisasiRepository)

    @rpc
    def ping(self):
        """Readiness: the service answers and its database does."""
        self.store.ping()
        return {"status": "ok"}

    # Units

    @rpc
    def bentuk_unit(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(UnitBaruSchema, payload)
        tingkat, kode = data["tingkat"], data.get("kode_wilayah")
        domain.check_unit_level(tingkat, kode)
        actor.require_manage(kode)
        wilayah = None
        if kode:
            wilayah = self.store.wilayah(kode)
            if wilayah is None:
                raise InvalidInput({"kode_wilayah": [
                    f"Kode wilayah {kode} tidak ada dalam referensi wilayah Kemendagri."]})
        parent = None
        if tingkat != "nasional":
            parent_kode = domain.parent_code(kode)
            parent = self.store.unit_at(parent_kode)
            if parent is None:
                raise Conflict(self._missing_parent_message(kode, parent_kode), code="induk_belum_ada",
                               kode_wilayah_induk=parent_kode)
        unit = {
            "tingkat": tingkat,
            "tingkat_urut": domain.TINGKAT_DEPTH[tingkat],
            "kode_wilayah": kode,
            "nama_wilayah": wilayah["nama"] if wilayah else None,
            "nama": data.get("nama") or f"BKPM {wilayah['nama'] if wilayah else 'Nasional'}",
            "induk_id": parent["id"] if parent else None,
            "dibentuk_oleh": actor.sub,
        }

        def create(tx):
            created = self.store.insert_unit(tx, unit)
            emit(tx, "unit.dibentuk", f"units/{created['id']}", created, kode)
            return created

        try:
            created = self.store.uow.commit(create)
        except DuplicateKeyError:
            existing = self.store.unit_at(kode)
            raise Conflict(f"Unit untuk {'wilayah ' + kode if kode else 'tingkat nasional'} sudah ada.",
                           code="unit_sudah_ada", unit_id=existing and existing["id"]) from None
        return UnitSchema().dump(created)

    def _missing_parent_message(self, kode, parent_kode):
        if parent_kode is None:
            return f"Unit nasional belum dibentuk; bentuk dahulu sebelum unit {kode}."
        parent_wilayah = self.store.wilayah(parent_kode)
        name = f" ({parent_wilayah['nama']})" if parent_wilayah else ""
        return f"Unit induk untuk wilayah {parent_kode}{name} belum dibentuk; bentuk dahulu sebelum unit {kode}."

    @rpc
    def get_unit(self, actor, unit_id):
        return UnitSchema().dump(self._visible_unit(Actor.from_dict(actor), unit_id))

    @rpc
    def list_units(self, actor, query):
        """Units filtered by level, parent and area-code prefix, within the caller's area."""
        actor = Actor.from_dict(actor)
        query = load(UnitQuerySchema, query)
        criteria = subtree_filter(actor.visible_area(query.get("kode_prefix")))
        for name in ("tingkat", "induk_id"):
            if name in query:
                criteria[name] = query[name]
        items, total = self.store.find_units(criteria, query["page"], query["per_page"])
        return page_result(UnitSchema(many=True).dump(items), total, query)

    @rpc
    def subtree(self, actor, unit_id, query):
        """The unit and every unit below it, ordered by level and code."""
        unit = self._visible_unit(Actor.from_dict(actor), unit_id)
        query = dict(query or {})
        if unit["kode_wilayah"]:
            query["kode_prefix"] = unit["kode_wilayah"]
        return self.list_units(actor, query)

    @rpc
    def struktur(self, actor, unit_id):
        actor = Actor.from_dict(actor)
        unit = self._visible_unit(actor, unit_id)
        order = {jabatan: i for i, jabatan in enumerate(domain.JABATAN)}
        board = sorted(self.store.board(unit_id, aktif=True), key=lambda p: order[p["jabatan"]])
        return StrukturSchema().dump({
            "unit": unit,
            "pengurus": [person_view(actor, p, PengurusSchema) for p in board],
            "anggota": [person_view(actor, a, AnggotaSchema) for a in self.store.members(unit_id, aktif=True)],
        })

    @rpc
    def riwayat_pengurus(self, actor, unit_id, query):
        """Every appointment of the unit, past and present, newest first."""
        actor = Actor.from_dict(actor)
        query = load(RiwayatQuerySchema, query)
        self._visible_unit(actor, unit_id)
        return [person_view(actor, p, PengurusSchema) for p in self.store.board(unit_id, query.get("aktif"))]

    @rpc
    def daftar_anggota(self, actor, unit_id, query):
        """The unit's members, former ones included unless `aktif` says otherwise."""
        actor = Actor.from_dict(actor)
        query = load(RiwayatQuerySchema, query)
        self._visible_unit(actor, unit_id)
        return [person_view(actor, a, AnggotaSchema) for a in self.store.members(unit_id, query.get("aktif"))]

    def _visible_unit(self, actor, unit_id):
        unit = self.store.unit(unit_id)
        if unit is None:
            raise NotFound(f"Unit {unit_id} tidak ditemukan.")
        actor.require_covers(unit["kode_wilayah"])
        return unit

    def _managed_unit(self, actor, unit_id):
        unit = self._visible_unit(actor, unit_id)
        actor.require_manage(unit["kode_wilayah"])
        return unit

    # Board

    @rpc
    def angkat_pengurus(self, actor, unit_id, payload):
        actor = Actor.from_dict(actor)
        data = load(PengurusBaruSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        domain.check_appointment(unit["tingkat"], data)

        def appoint(tx):
            pengurus = self.store.insert_pengurus(tx, {**data, "unit_id": unit_id, "diangkat_oleh": actor.sub})
            emit(tx, "pengurus.diangkat", f"units/{unit_id}/pengurus/{pengurus['id']}", pengurus,
                 unit["kode_wilayah"])
            return pengurus

        try:
            pengurus = self.store.uow.commit(appoint)
        except DuplicateKeyError:
            holder = self.store.active_holder(unit_id, data["jabatan"])
            raise Conflict(
                f"Jabatan {data['jabatan']} di unit ini masih dipegang oleh {holder['nama'] if holder else 'orang lain'}"
                f"; berhentikan dahulu sebelum mengangkat pengganti.",
                code="jabatan_terisi", pengurus_id=holder and holder["id"]) from None
        return person_view(actor, pengurus, PengurusSchema)

    @rpc
    def berhentikan_pengurus(self, actor, unit_id, pengurus_id, payload):
        actor = Actor.from_dict(actor)
        data = load(BerhentiSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        current = self.store.pengurus(unit_id, pengurus_id)
        if current is None:
            raise NotFound(f"Pengurus {pengurus_id} tidak ditemukan di unit ini.")
        tanggal = data.get("tanggal") or date.today().isoformat()
        if tanggal < current["mulai"]:
            raise InvalidInput({"tanggal": ["Tanggal berhenti tidak boleh sebelum tanggal mulai menjabat."]})
        changes = {"selesai": tanggal, "alasan_berhenti": data.get("alasan"), "diberhentikan_oleh": actor.sub}

        def end(tx):
            ended = self.store.end_pengurus(tx, unit_id, pengurus_id, changes)
            if ended is not None:
                emit(tx, "pengurus.diberhentikan", f"units/{unit_id}/pengurus/{pengurus_id}",
                     {**ended, "alasan": ended.get("alasan_berhenti")}, unit["kode_wilayah"])
            return ended

        ended = self.store.uow.commit(end)
        if ended is None:
            raise Conflict(f"{current['nama']} sudah berhenti dari jabatan {current['jabatan']} "
                           f"pada {current.get('selesai')}.", code="sudah_berhenti")
        return person_view(actor, ended, PengurusSchema)

    # Members

    @rpc
    def tambah_anggota(self, actor, unit_id, payload):
        actor = Actor.from_dict(actor)
        data = load(AnggotaBaruSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        data.setdefault("bergabung", date.today().isoformat())

        def join(tx):
            anggota = self.store.insert_anggota(tx, {**data, "unit_id": unit_id, "dicatat_oleh": actor.sub})
            emit(tx, "anggota.bergabung", f"units/{unit_id}/anggota/{anggota['id']}", anggota,
                 unit["kode_wilayah"])
            return anggota

        return person_view(actor, self.store.uow.commit(join), AnggotaSchema)

    @rpc
    def keluarkan_anggota(self, actor, unit_id, anggota_id, payload):
        actor = Actor.from_dict(actor)
        data = load(KeluarSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        current = self.store.anggota(unit_id, anggota_id)
        if current is None:
            raise NotFound(f"Anggota {anggota_id} tidak ditemukan di unit ini.")
        tanggal = data.get("tanggal") or date.today().isoformat()
        if tanggal < current["bergabung"]:
            raise InvalidInput({"tanggal": ["Tanggal keluar tidak boleh sebelum tanggal bergabung."]})
        changes = {"keluar": tanggal, "alasan_keluar": data.get("alasan"), "dikeluarkan_oleh": actor.sub}

        def leave(tx):
            ended = self.store.end_anggota(tx, unit_id, anggota_id, changes)
            if ended is not None:
                emit(tx, "anggota.keluar", f"units/{unit_id}/anggota/{anggota_id}",
                     {**ended, "alasan": ended.get("alasan_keluar")}, unit["kode_wilayah"])
            return ended

        ended = self.store.uow.commit(leave)
        if ended is None:
            raise Conflict(f"{current['nama']} sudah keluar pada {current.get('keluar')}.", code="sudah_keluar")
        return person_view(actor, ended, AnggotaSchema)
