"""The organisasi service: units at four levels, their boards and members, and the area
reference they are built on. RPC entrypoints take the caller (`actor`, from the verified token)
and a payload, validate both with the service's schemas and return JSON-ready dicts."""
from dataclasses import dataclass
from datetime import date

from pymongo.errors import DuplicateKeyError

from services.common.access import Actor, area_and_ancestors
from services.common.extensions import BaseService
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.messaging import rpc
from services.common.mongo import area_filter
from services.common.schema import instance, load, page_result
from services.common.store import Store
from services.organisasi import domain
from services.organisasi.repository import ANGGOTA, PENGURUS, OrganisasiRepository
from services.organisasi.schemas import (
    EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AnggotaBaruSchema, AnggotaSchema, PengurusBaruSchema, PengurusSchema,
    RiwayatQuerySchema, SelesaiSchema, StrukturSchema, UnitBaruSchema, UnitQuerySchema, UnitSchema)


@dataclass(frozen=True)
class Start:
    """How a board appointment or a membership begins."""
    collection: str
    event: str
    schema: type


@dataclass(frozen=True)
class End:
    """How a board appointment or a membership ends: the same steps under other names."""
    collection: str
    label: str
    started: str        # the field holding the start date
    ended: str          # the field the end date goes into
    reason: str         # the field the reason goes into
    event: str
    schema: type
    verb: str
    conflict_code: str
    too_early: str


PENGURUS_DIANGKAT = Start(PENGURUS, "pengurus.diangkat", PengurusSchema)
ANGGOTA_BERGABUNG = Start(ANGGOTA, "anggota.bergabung", AnggotaSchema)
PENGURUS_BERHENTI = End(PENGURUS, "Pengurus", "mulai", "selesai", "alasan_berhenti", "pengurus.diberhentikan",
                        PengurusSchema, "berhenti", "sudah_berhenti",
                        "Tanggal berhenti tidak boleh sebelum tanggal mulai menjabat.")
ANGGOTA_KELUAR = End(ANGGOTA, "Anggota", "bergabung", "keluar", "alasan_keluar", "anggota.keluar",
                     AnggotaSchema, "keluar", "sudah_keluar",
                     "Tanggal keluar tidak boleh sebelum tanggal bergabung.")


def person_view(actor, record, schema_class):
    """Contacts and NRP are personal data: only those who manage the unit see them whole."""
    return schema_class().dump(record if domain.can_manage(actor) else domain.mask_contact(record))


def contact_of(person):
    """A board member's or member's contacts as notifikasi needs them; `akun` is their login
    (the token's `sub`), for the in-app inbox and their own preferences."""
    return {"id": person["id"], "nama": person["nama"], "peran": person.get("jabatan", "anggota"),
            "telepon": person.get("telepon"), "email": person.get("email"), "akun": person.get("akun")}


class OrganisasiService(BaseService):
    name = "organisasi"

    store = Store(OrganisasiRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)

    # For other services (no caller: services trust each other on the platform's broker)

    @rpc
    def unit_ringkas(self, unit_id):
        """A unit's id, level, area and name, or None."""
        unit = self.store.unit(unit_id)
        return instance(UnitSchema).dump(unit) if unit else None

    @rpc
    def penanggung_jawab_wilayah(self, kode_wilayah):
        """The area as the reference knows it, and the unit responsible for it: the unit of the
        most specific area (the area itself, its kecamatan, regency, province) that has one,
        else the national unit."""
        candidates = [*area_and_ancestors(kode_wilayah), None]
        # One query for every candidate (a village has five), the most specific taken.
        units = {unit["kode_wilayah"]: unit for unit in self.store.units_in_areas(candidates)}
        unit = next((units[kode] for kode in candidates if kode in units), None)
        return {"wilayah": self._wilayah_ringkas(kode_wilayah),
                "unit": instance(UnitSchema).dump(unit) if unit else None}

    @rpc
    def unit_dan_wilayah(self, unit_id, kode_wilayah):
        """A unit (or None) and an area as the reference knows it (or None), in one call: what
        a record of a unit's work in an area is checked against."""
        return {"unit": self.unit_ringkas(unit_id), "wilayah": self._wilayah_ringkas(kode_wilayah)}

    def _wilayah_ringkas(self, kode_wilayah):
        wilayah = self.store.wilayah(kode_wilayah)
        return wilayah and {"kode": wilayah["_id"], "nama": wilayah["nama"], "aktif": wilayah["aktif"]}

    @rpc
    def kontak_unit(self, unit_id):
        """The unit's active board and members with their contacts, for notifikasi to write to
        at send time (contacts are never in events)."""
        board, _ = self.store.people(PENGURUS, unit_id, aktif=True)
        members, _ = self.store.people(ANGGOTA, unit_id, aktif=True)
        return [contact_of(person) for person in board + members]

    @rpc
    def kontak_pengurus(self, unit_id, pengurus_id):
        """One board member's name and contacts, or None."""
        person = self.store.person(PENGURUS, unit_id, pengurus_id)
        return contact_of(person) if person else None

    @rpc
    def kontak_sekretaris(self, unit_id, with_parent):
        """The active sekretaris of the unit, and of its parent unit when `with_parent` (to
        whom a late aspiration is escalated)."""
        unit = self.store.unit(unit_id)
        units = [unit] if unit else []
        if with_parent and unit and unit["induk_id"]:
            units.append(self.store.unit(unit["induk_id"]))
        holders = [self.store.active_holder(u["id"], "sekretaris") for u in units if u]
        return [contact_of(person) for person in holders if person]

    @rpc
    def wilayah_dikenal(self, codes):
        """Which of these area codes the reference lists as current."""
        return self.store.active_codes(codes)

    # Units

    @rpc
    def bentuk_unit(self, actor, payload):
        actor = Actor.from_dict(actor)
        data = load(UnitBaruSchema, payload)
        tingkat, kode = data["tingkat"], data.get("kode_wilayah")
        domain.check_unit_level(tingkat, kode)
        domain.require_manage(actor, kode)
        wilayah = None
        if kode:
            wilayah = self.store.wilayah(kode)
            if wilayah is None:
                raise InvalidInput({"kode_wilayah": [
                    f"Kode wilayah {kode} tidak ada dalam referensi wilayah Kemendagri."]})
            if not wilayah["aktif"]:
                raise InvalidInput({"kode_wilayah": [
                    f"Kode wilayah {kode} ({wilayah['nama']}) sudah tidak berlaku dalam daftar resmi terbaru."]})
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
            tx.emit("unit.dibentuk", f"units/{created['id']}", created, kode)
            return created

        try:
            created = self.store.uow.commit(create)
        except DuplicateKeyError:
            existing = self.store.unit_at(kode)
            raise Conflict(f"Unit untuk {'wilayah ' + kode if kode else 'tingkat nasional'} sudah ada.",
                           code="unit_sudah_ada", unit_id=existing and existing["id"]) from None
        return instance(UnitSchema).dump(created)

    def _missing_parent_message(self, kode, parent_kode):
        if parent_kode is None:
            return f"Unit nasional belum dibentuk; bentuk dahulu sebelum unit {kode}."
        parent_wilayah = self.store.wilayah(parent_kode)
        name = f" ({parent_wilayah['nama']})" if parent_wilayah else ""
        return f"Unit induk untuk wilayah {parent_kode}{name} belum dibentuk; bentuk dahulu sebelum unit {kode}."

    @rpc
    def get_unit(self, actor, unit_id):
        return instance(UnitSchema).dump(self._visible_unit(Actor.from_dict(actor), unit_id))

    @rpc
    def list_units(self, actor, query):
        """Units filtered by level, parent and area-code prefix, within the caller's area."""
        actor = Actor.from_dict(actor)
        query = load(UnitQuerySchema, query)
        criteria = area_filter("kode_wilayah", actor.visible_area(query.get("kode_prefix")))
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
        board, _ = self.store.people(PENGURUS, unit_id, aktif=True)
        board.sort(key=lambda p: order[p["jabatan"]])
        members, _ = self.store.people(ANGGOTA, unit_id, aktif=True)
        return instance(StrukturSchema).dump({
            "unit": unit,
            "pengurus": [person_view(actor, p, PengurusSchema) for p in board],
            "anggota": [person_view(actor, a, AnggotaSchema) for a in members],
        })

    def _visible_unit(self, actor, unit_id):
        unit = self.store.unit(unit_id)
        if unit is None:
            raise NotFound(f"Unit {unit_id} tidak ditemukan.")
        actor.require_covers(unit["kode_wilayah"])
        return unit

    def _managed_unit(self, actor, unit_id):
        unit = self._visible_unit(actor, unit_id)
        domain.require_manage(actor, unit["kode_wilayah"])
        return unit

    # Board and members

    @rpc
    def angkat_pengurus(self, actor, unit_id, payload):
        actor = Actor.from_dict(actor)
        data = load(PengurusBaruSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        domain.check_appointment(unit["tingkat"], data)
        try:
            return self._add_person(actor, unit, PENGURUS_DIANGKAT, data)
        except DuplicateKeyError:
            holder = self.store.active_holder(unit_id, data["jabatan"])
            name = holder["nama"] if holder else "orang lain"
            raise Conflict(
                f"Jabatan {data['jabatan']} di unit ini masih dipegang oleh {name}; "
                "berhentikan dahulu sebelum mengangkat pengganti.",
                code="jabatan_terisi", pengurus_id=holder and holder["id"]) from None

    @rpc
    def berhentikan_pengurus(self, actor, unit_id, pengurus_id, payload):
        return self._end_tenure(Actor.from_dict(actor), unit_id, pengurus_id, payload, PENGURUS_BERHENTI)

    @rpc
    def riwayat_pengurus(self, actor, unit_id, query):
        """Every appointment of the unit, past and present, newest first."""
        return self._people(Actor.from_dict(actor), unit_id, query, PENGURUS, PengurusSchema)

    @rpc
    def tambah_anggota(self, actor, unit_id, payload):
        actor = Actor.from_dict(actor)
        data = load(AnggotaBaruSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        data.setdefault("bergabung", date.today().isoformat())
        return self._add_person(actor, unit, ANGGOTA_BERGABUNG, data)

    @rpc
    def keluarkan_anggota(self, actor, unit_id, anggota_id, payload):
        return self._end_tenure(Actor.from_dict(actor), unit_id, anggota_id, payload, ANGGOTA_KELUAR)

    @rpc
    def daftar_anggota(self, actor, unit_id, query):
        """The unit's members, former ones included unless `aktif` says otherwise."""
        return self._people(Actor.from_dict(actor), unit_id, query, ANGGOTA, AnggotaSchema)

    def _add_person(self, actor, unit, start, data):
        def add(tx):
            person = self.store.insert_person(tx, start.collection, {**data, "unit_id": unit["id"],
                                                                      "dicatat_oleh": actor.sub})
            tx.emit(start.event, f"units/{unit['id']}/{start.collection}/{person['id']}", person,
                 unit["kode_wilayah"])
            return person

        return person_view(actor, self.store.uow.commit(add), start.schema)

    def _end_tenure(self, actor, unit_id, person_id, payload, end):
        data = load(SelesaiSchema, payload)
        unit = self._managed_unit(actor, unit_id)
        current = self.store.person(end.collection, unit_id, person_id)
        if current is None:
            raise NotFound(f"{end.label} {person_id} tidak ditemukan di unit ini.")
        tanggal = data.get("tanggal") or date.today().isoformat()
        if tanggal < current[end.started]:
            raise InvalidInput({"tanggal": [end.too_early]})
        changes = {end.ended: tanggal, end.reason: data.get("alasan"), "diakhiri_oleh": actor.sub}

        def finish(tx):
            ended = self.store.end_person(tx, end.collection, unit_id, person_id, changes)
            if ended is not None:
                tx.emit(end.event, f"units/{unit_id}/{end.collection}/{person_id}",
                     {**ended, "alasan": ended[end.reason]}, unit["kode_wilayah"])
            return ended

        ended = self.store.uow.commit(finish)
        if ended is None:
            raise Conflict(f"{current['nama']} sudah {end.verb} pada {current[end.ended]}.", code=end.conflict_code)
        return person_view(actor, ended, end.schema)

    def _people(self, actor, unit_id, query, collection, schema_class):
        query = load(RiwayatQuerySchema, query)
        self._visible_unit(actor, unit_id)
        people, total = self.store.people(collection, unit_id, query.get("aktif"), query["page"], query["per_page"])
        return page_result([person_view(actor, p, schema_class) for p in people], total, query)
