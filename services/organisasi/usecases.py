"""The use cases of organisasi, as plain functions: units at four levels, their boards and
members, and the lookups other services make in them and in the area reference.

Each takes the caller (an Actor), the validated input, and `store` (the repository, with its
unit of work); it decides who may do what where, applies the domain rules, commits the change
with its events and answers what the caller may see. No Nameko, Mongo or Flask here: the
entrypoints (service.py) wire these to RPC, the tests (tests/unit/test_organisasi_usecases.py)
to an in-memory store."""
from dataclasses import dataclass
from datetime import date

from services.common.access import area_and_ancestors
from services.common.access_log import record_read
from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.patch import Correction, require_version
from services.common.schema import instance, page_result
from services.common.unit_of_work import DuplicateKey
from services.common.usecase import page_in_area, visible
from services.common.wilayah import require_current_area
from services.organisasi import domain
from services.organisasi.schemas import AnggotaSchema, PengurusSchema, StrukturSchema, UnitSchema, WilayahSchema

PENGURUS, ANGGOTA, UNITS = "pengurus", "anggota", "units"
# A person's personal data, whole only for those who manage the unit (and, contacts, notifikasi).
PERSONAL_FIELDS = {PENGURUS: ("telepon", "email", "nrp"), ANGGOTA: ("telepon", "email")}
CONTACT_FIELDS = dict.fromkeys((PENGURUS, ANGGOTA), ("telepon", "email"))


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
    return instance(schema_class).dump(record if domain.can_manage(actor) else domain.mask_contact(record))


def record_managed_read(actor, reader, unit, people, store):
    """Log the read of `people` ((collection, person) each) of `unit` when the caller sees
    their personal data whole (person_view)."""
    if domain.can_manage(actor):
        record_people_read(reader, [(collection, person, unit["kode_wilayah"]) for collection, person in people],
                           store)


def record_people_read(reader, people, store, fields=PERSONAL_FIELDS):
    """Log that `reader` is handed whole the personal data (`fields`, by collection) of
    `people`: (collection, person, the area of their unit) each."""
    record_read(store, reader, [(collection, person["id"], kode,
                                 {name: person.get(name) for name in fields[collection]})
                                for collection, person, kode in people])


def contact_of(person):
    """A board member's or member's contacts as notifikasi needs them; `akun` is their login
    (the token's `sub`), for the in-app inbox and their own preferences."""
    return {"id": person["id"], "nama": person["nama"], "peran": person.get("jabatan", "anggota"),
            "telepon": person.get("telepon"), "email": person.get("email"), "akun": person.get("akun")}


def unit_view(unit):
    return instance(UnitSchema).dump(unit) if unit else None


# Lookups, for other services (no caller: services trust each other on the platform's broker)

def get_unit_ringkas(unit_id, store):
    """A unit's id, level, area and name, or None."""
    return unit_view(store.unit(unit_id))


def get_penanggung_jawab_wilayah(kode_wilayah, store):
    """The area as the reference knows it, and the unit responsible for it: the unit of the
    most specific area (the area itself, its kecamatan, regency, province) that has one, else
    the national unit."""
    candidates = [*area_and_ancestors(kode_wilayah), None]
    # One query for every candidate (a village has five), the most specific taken.
    units = {unit["kode_wilayah"]: unit for unit in store.units_in_areas(candidates)}
    unit = next((units[kode] for kode in candidates if kode in units), None)
    return {"wilayah": store.wilayah(kode_wilayah), "unit": unit_view(unit)}


def get_unit_dan_wilayah(unit_id, kode_wilayah, store):
    """A unit (or None) and an area as the reference knows it (or None), in one call: what a
    record of a unit's work in an area is checked against."""
    return {"unit": get_unit_ringkas(unit_id, store), "wilayah": store.wilayah(kode_wilayah)}


def list_wilayah(codes, store):
    """The areas of these codes that the reference lists, retired ones included (`aktif`)."""
    return store.wilayah_many(codes)


# The area reference, for anyone (an area picker): names and codes, nothing about anyone

def list_referensi_wilayah(query, store):
    """The current areas one level below `induk` (no `induk`: the provinces), or those whose name
    contains `q` (below `induk`, if given), best match first and each with the areas above it.
    Retired areas are left out: nothing new is recorded in them."""
    induk = query.get("induk")
    if induk is not None:
        _listed_area(induk, store)
    if "q" in query:
        found = store.wilayah_named(query["q"], induk)
        return {"items": _with_parents(domain.rank_by_name(query["q"], found), store)}
    return {"items": [_area_view(area) for area in store.current_wilayah_many(domain.child_codes(induk))]}


def get_referensi_wilayah(kode, store):
    """One area as the reference lists it, retired or not (`aktif`), with the areas above it."""
    return _with_parents([_listed_area(kode, store)], store)[0]


def _listed_area(kode, store):
    area = store.wilayah(kode)
    if area is None:
        raise NotFound(f"Kode wilayah {kode} tidak ada dalam referensi wilayah Kemendagri.")
    return area


def _area_view(area, parents=None):
    view = {**area, "tingkat": domain.TINGKAT_KODE_WILAYAH[domain.code_depth(area["kode"])]}
    if parents is not None:
        view["induk"] = parents
    return instance(WilayahSchema).dump(view)


def _with_parents(areas, store):
    """`areas` each with the names of the areas above it, province first, read in one query."""
    above = {area["kode"]: area_and_ancestors(area["kode"])[:0:-1] for area in areas}
    names = {parent["kode"]: parent["nama"]
             for parent in store.wilayah_many({kode for codes in above.values() for kode in codes})}
    return [_area_view(area, [{"kode": kode, "nama": names[kode]} for kode in above[area["kode"]] if kode in names])
            for area in areas]


def list_kontak_unit(unit_id, store, reader):
    """The unit's active board and members with their contacts, for notifikasi to write to at
    send time (contacts are never in events); the read is logged."""
    unit = store.unit(unit_id)
    if unit is None:
        return []
    board, _ = store.people(PENGURUS, unit_id, aktif=True)
    members, _ = store.people(ANGGOTA, unit_id, aktif=True)
    people = [(PENGURUS, person, unit["kode_wilayah"]) for person in board] + [
        (ANGGOTA, person, unit["kode_wilayah"]) for person in members]
    record_people_read(reader, people, store, CONTACT_FIELDS)
    return [contact_of(person) for _, person, _ in people]


def get_kontak_pengurus(unit_id, pengurus_id, store, reader):
    """One board member's name and contacts, or None; the read is logged."""
    unit = store.unit(unit_id)
    person = unit and store.person(PENGURUS, unit_id, pengurus_id)
    if not person:
        return None
    record_people_read(reader, [(PENGURUS, person, unit["kode_wilayah"])], store, CONTACT_FIELDS)
    return contact_of(person)


def list_kontak_sekretaris(unit_id, with_parent, store, reader):
    """The active sekretaris of the unit, and of its parent unit when `with_parent` (to whom a
    late aspiration is escalated); the read is logged."""
    unit = store.unit(unit_id)
    units = [unit] if unit else []
    if with_parent and unit and unit["induk_id"]:
        units.append(store.unit(unit["induk_id"]))
    holders = [(PENGURUS, store.active_holder(u["id"], "sekretaris"), u["kode_wilayah"]) for u in units if u]
    holders = [holder for holder in holders if holder[1]]
    record_people_read(reader, holders, store, CONTACT_FIELDS)
    return [contact_of(person) for _, person, _ in holders]


# Units

def bentuk_unit(actor, data, store):
    """Form a unit for an area; its parent follows from the area code and must exist."""
    tingkat, kode = data["tingkat"], data.get("kode_wilayah")
    domain.check_unit_level(tingkat, kode)
    domain.require_manage(actor, kode)
    wilayah = None
    if kode:
        wilayah = store.wilayah(kode)
        require_current_area(wilayah, kode, ("kode_wilayah",))
    parent = None
    if tingkat != "nasional":
        parent_kode = domain.parent_code(kode)
        parent = store.unit_at(parent_kode)
        if parent is None:
            raise Conflict(_missing_parent_message(kode, parent_kode, store), code="induk_belum_ada",
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
        created = store.insert_unit(tx, unit)
        tx.emit("unit.dibentuk", f"units/{created['id']}", created, kode)
        return created

    try:
        return unit_view(store.uow.commit(create))
    except DuplicateKey:
        existing = store.unit_at(kode)
        raise Conflict(f"Unit untuk {'wilayah ' + kode if kode else 'tingkat nasional'} sudah ada.",
                       code="unit_sudah_ada", unit_id=existing and existing["id"]) from None


def _missing_parent_message(kode, parent_kode, store):
    if parent_kode is None:
        return f"Unit nasional belum dibentuk; bentuk dahulu sebelum unit {kode}."
    parent_wilayah = store.wilayah(parent_kode)
    name = f" ({parent_wilayah['nama']})" if parent_wilayah else ""
    return f"Unit induk untuk wilayah {parent_kode}{name} belum dibentuk; bentuk dahulu sebelum unit {kode}."


def visible_unit(actor, unit_id, store):
    return visible(actor, store.unit(unit_id), "Unit", unit_id)


def managed_unit(actor, unit_id, store):
    unit = visible_unit(actor, unit_id, store)
    domain.require_manage(actor, unit["kode_wilayah"])
    return unit


def get_unit(actor, unit_id, store):
    return unit_view(visible_unit(actor, unit_id, store))


def list_unit(actor, query, store):
    """Units filtered by level, parent and area-code prefix, within the caller's area."""
    return page_in_area(actor, query, store.find_units, UnitSchema(many=True).dump, ("tingkat", "induk_id"))


def list_subunit(actor, unit_id, query, store):
    """The unit and every unit below it, ordered by level and code."""
    unit = visible_unit(actor, unit_id, store)
    if unit["kode_wilayah"]:
        query = {**query, "kode_prefix": unit["kode_wilayah"]}
    return list_unit(actor, query, store)


def get_struktur(actor, unit_id, store, reader):
    """The unit with its active board, in the order of the positions, and active members."""
    unit = visible_unit(actor, unit_id, store)
    order = {jabatan: i for i, jabatan in enumerate(domain.JABATAN)}
    board, _ = store.people(PENGURUS, unit_id, aktif=True)
    board.sort(key=lambda p: order[p["jabatan"]])
    members, _ = store.people(ANGGOTA, unit_id, aktif=True)
    record_managed_read(actor, reader, unit, [(PENGURUS, p) for p in board] + [(ANGGOTA, a) for a in members],
                        store)
    return instance(StrukturSchema).dump({
        "unit": unit,
        "pengurus": [person_view(actor, p, PengurusSchema) for p in board],
        "anggota": [person_view(actor, a, AnggotaSchema) for a in members],
    })


# Board and members

def angkat_pengurus(actor, unit_id, data, store):
    """Appoint a board member; one active holder per position (409 while it is held)."""
    unit = managed_unit(actor, unit_id, store)
    domain.check_appointment(unit["tingkat"], data)
    try:
        return _add_person(actor, unit, PENGURUS_DIANGKAT, data, store)
    except DuplicateKey:
        holder = store.active_holder(unit_id, data["jabatan"])
        name = holder["nama"] if holder else "orang lain"
        raise Conflict(
            f"Jabatan {data['jabatan']} di unit ini masih dipegang oleh {name}; "
            "berhentikan dahulu sebelum mengangkat pengganti.",
            code="jabatan_terisi", pengurus_id=holder and holder["id"]) from None


def berhentikan_pengurus(actor, unit_id, pengurus_id, data, store, reader, today=None):
    return _end_tenure(actor, unit_id, pengurus_id, data, PENGURUS_BERHENTI, store, reader, today)


def list_pengurus(actor, unit_id, query, store, reader):
    """Every appointment of the unit, past and present, newest first."""
    return _people(actor, unit_id, query, store, PENGURUS, PengurusSchema, reader)


def tambah_anggota(actor, unit_id, data, store, today=None):
    unit = managed_unit(actor, unit_id, store)
    data = {"bergabung": (today or date.today()).isoformat(), **data}
    return _add_person(actor, unit, ANGGOTA_BERGABUNG, data, store)


def keluarkan_anggota(actor, unit_id, anggota_id, data, store, reader, today=None):
    return _end_tenure(actor, unit_id, anggota_id, data, ANGGOTA_KELUAR, store, reader, today)


def list_anggota(actor, unit_id, query, store, reader):
    """The unit's members, former ones included unless `aktif` says otherwise."""
    return _people(actor, unit_id, query, store, ANGGOTA, AnggotaSchema, reader)


def _add_person(actor, unit, start, data, store):
    def add(tx):
        person = store.insert_person(tx, start.collection, {**data, "unit_id": unit["id"], "dicatat_oleh": actor.sub})
        tx.emit(start.event, f"units/{unit['id']}/{start.collection}/{person['id']}", person, unit["kode_wilayah"])
        return person

    return person_view(actor, store.uow.commit(add), start.schema)


def _end_tenure(actor, unit_id, person_id, data, end, store, reader, today):
    """End an appointment or membership; the answer hands the person's data, typed by whoever
    recorded them, back whole: a read, logged (if that fails, the change stays and the answer
    is refused)."""
    unit = managed_unit(actor, unit_id, store)
    current = _person(end, unit_id, person_id, store)
    tanggal = data.get("tanggal") or (today or date.today()).isoformat()
    if tanggal < current[end.started]:
        raise InvalidInput({"tanggal": [end.too_early]})
    changes = {end.ended: tanggal, end.reason: data.get("alasan"), "diakhiri_oleh": actor.sub}

    def finish(tx):
        ended = store.end_person(tx, end.collection, unit_id, person_id, changes)
        if ended is not None:
            tx.emit(end.event, f"units/{unit_id}/{end.collection}/{person_id}",
                    {**ended, "alasan": ended[end.reason]}, unit["kode_wilayah"])
        return ended

    ended = store.uow.commit(finish)
    if ended is None:
        raise _already_ended(end, current)
    record_managed_read(actor, reader, unit, [(end.collection, ended)], store)
    return person_view(actor, ended, end.schema)


def _people(actor, unit_id, query, store, collection, schema_class, reader):
    unit = visible_unit(actor, unit_id, store)
    people, total = store.people(collection, unit_id, query.get("aktif"), query["page"], query["per_page"])
    record_managed_read(actor, reader, unit, [(collection, p) for p in people], store)
    return page_result([person_view(actor, p, schema_class) for p in people], total, query)


def _person(kind, unit_id, person_id, store):
    """The board member or member `person_id` of the unit (`kind`: PENGURUS_BERHENTI or
    ANGGOTA_KELUAR), or 404."""
    person = store.person(kind.collection, unit_id, person_id)
    if person is None:
        raise NotFound(f"{kind.label} {person_id} tidak ditemukan di unit ini.")
    return person


def _already_ended(kind, person, consequence=""):
    return Conflict(f"{person['nama']} sudah {kind.verb} pada {person[kind.ended]}{consequence}.",
                    code=kind.conflict_code)


def get_pengurus(actor, unit_id, pengurus_id, store, reader):
    return _get_person(actor, unit_id, pengurus_id, PENGURUS_BERHENTI, store, reader)


def get_anggota(actor, unit_id, anggota_id, store, reader):
    return _get_person(actor, unit_id, anggota_id, ANGGOTA_KELUAR, store, reader)


def _get_person(actor, unit_id, person_id, kind, store, reader):
    """One board member or member, current or past, as `list_pengurus`/`list_anggota` show them."""
    unit = visible_unit(actor, unit_id, store)
    person = _person(kind, unit_id, person_id, store)
    record_managed_read(actor, reader, unit, [(kind.collection, person)], store)
    return person_view(actor, person, kind.schema)


# Corrections (JSON merge patches against the version the caller read: services/common/patch.py)

UNIT_DIUBAH = Correction(UNITS, domain.UNIT_KOREKSI, "unit.diubah")
PENGURUS_DIUBAH = Correction(PENGURUS, domain.PENGURUS_KOREKSI, "pengurus.diubah")
ANGGOTA_DIUBAH = Correction(ANGGOTA, domain.ANGGOTA_KOREKSI, "anggota.diubah")


def ubah_unit(actor, unit_id, patch, if_match, store):
    """Correct a unit's name, by whoever may manage the unit."""
    unit = managed_unit(actor, unit_id, store)
    return unit_view(_correct(actor, UNIT_DIUBAH, lambda: store.unit(unit_id), patch, if_match, unit_view, store,
                              f"units/{unit_id}", unit["kode_wilayah"]))


def ubah_pengurus(actor, unit_id, pengurus_id, patch, if_match, store, reader):
    """Correct a serving board member's contacts or planned end of term (not before the start)."""
    return _correct_person(actor, unit_id, pengurus_id, PENGURUS_BERHENTI, PENGURUS_DIUBAH, patch, if_match, store,
                           reader, lambda unit, after: domain.check_appointment(unit["tingkat"], after))


def ubah_anggota(actor, unit_id, anggota_id, patch, if_match, store, reader):
    """Correct a current member's contacts."""
    return _correct_person(actor, unit_id, anggota_id, ANGGOTA_KELUAR, ANGGOTA_DIUBAH, patch, if_match, store,
                           reader)


def _correct_person(actor, unit_id, person_id, kind, correction, patch, if_match, store, reader,
                    rules=lambda unit, after: None):
    """A correction of a current appointment or membership, which must keep its `rules`; an
    ended one is history, kept as it was (409). The answer hands the person's data back whole:
    a read, logged."""
    unit = managed_unit(actor, unit_id, store)

    def check(before, after):
        if not before["aktif"]:
            raise _already_ended(kind, before, "; riwayatnya tidak dikoreksi")
        rules(unit, after)

    person = _correct(actor, correction, lambda: _person(kind, unit_id, person_id, store), patch, if_match,
                      lambda record: person_view(actor, record, kind.schema), store,
                      f"units/{unit_id}/{kind.collection}/{person_id}", unit["kode_wilayah"], check)
    record_managed_read(actor, reader, unit, [(kind.collection, person)], store)
    return person_view(actor, person, kind.schema)


def _correct(actor, correction, read, patch, if_match, view, store, subject, wilayah,
             check=lambda before, after: None):
    """Apply the merge `patch` to the fields the `correction` may change of the record `read()`
    gives, if the caller's If-Match names the version of it `view` shows them (412 otherwise),
    and announce which fields changed. The write holds only while the record is still as read,
    so two corrections racing cannot both pass. A patch that changes nothing writes and
    announces nothing. Answers the record as it is now."""
    def correct(tx):
        before = read()
        require_version(if_match, view(before))
        after, changes = correction.apply(before, patch)
        check(before, after)
        if not changes:
            return before
        after["diubah_oleh"] = actor.sub
        correction.save(tx, store, before, after, changes, subject, wilayah)
        return after

    return store.uow.commit(correct)
