"""The kegiatan service's use cases: activities and their participants, the trust survey, the
summary, and the aspirations citizens bring.

Each takes the caller (an Actor; none for the public ones), the input its entrypoint validated,
the repository `store` (with its unit of work), the other services it asks (organisasi's
lookups, bantuan's `get_program_ringkas`), and the clock and holidays where a deadline needs
them; it returns JSON-ready dicts, masked for the caller.

Framework-free: imported by services/kegiatan/service.py and the unit tests."""
from functools import partial

from services.common import attachments
from services.common.access_log import record_read
from services.common.errors import Conflict, InvalidInput, NotFound, Unavailable, changed_meanwhile
from services.common.patch import Correction, require_version
from services.common.privacy import mask_contact
from services.common.rincian import BULAN, WILAYAH, months
from services.common.schema import instance, page_result
from services.common.unit_of_work import DuplicateKey
from services.common.usecase import page_in_area, visible
from services.common.wilayah import require_current_area
from services.kegiatan import domain
from services.kegiatan.schemas import (AspirasiDiterimaSchema, AspirasiSchema, IndeksSchema, KegiatanPublikSchema,
                                       KegiatanSchema, KodeSurveiSchema, KomentarSchema, LacakSchema, PesertaSchema,
                                       RekapSchema, SurveiDiterimaSchema)
from services.organisasi.lookups import found_unit

KEGIATAN_FILTERS = ("unit_id", "jenis", "status", "dari", "sampai")
ASPIRASI_FILTERS = ("status", "kategori", "unit_id", "kegiatan_id", "terlambat")
TICKET_DRAWS = 3  # a ticket number drawn twice is drawn again, this many times in all
# Logged when read whole (services/common/access_log.py): the reporter's identity, a participant's contacts.
PELAPOR, PESERTA = "pelapor", "peserta"
REPORTER_FIELDS = ("nama", "telepon", "email")
CONTACT_FIELDS = ("telepon", "email")
# Corrections (JSON merge patches against the version the caller read: services/common/patch.py).
# An activity keeps no empty field: one a patch empties goes.
KEGIATAN_DIUBAH = Correction("kegiatan", domain.DAPAT_DIKOREKSI, "kegiatan.diubah", keeps_empty=False)


def _require_recorder(actor, kode):
    actor.require_role(domain.ROLES_PENCATAT, kode, "Peran Anda tidak berwenang mencatat kegiatan atau aspirasi.")


# For other services

def get_kegiatan_ringkas(kegiatan_id, store):
    """An activity as it is, or None."""
    kegiatan = store.kegiatan(kegiatan_id)
    return instance(KegiatanSchema).dump(kegiatan) if kegiatan else None


def get_kontak_pelapor(aspirasi_id, store, reader):
    """For notifikasi: the reporter's contacts, addressed by a salutation and never by the name
    they typed, or None when they left none (their identity stays here; events never carry it).
    The read is logged."""
    aspirasi = store.aspirasi(aspirasi_id)
    pelapor = (aspirasi or {}).get("pelapor") or {}
    if not (pelapor.get("telepon") or pelapor.get("email")):
        return None
    record_read(store, reader, [(PELAPOR, aspirasi_id, aspirasi["kode_wilayah"],
                                 {name: pelapor.get(name) for name in CONTACT_FIELDS})])
    return {"id": aspirasi_id, "nama": domain.REPORTER_SALUTATION,
            "telepon": pelapor.get("telepon"), "email": pelapor.get("email")}


# Activities

def buat_kegiatan(actor, data, store, organisasi, bantuan):
    """Schedule an activity of a unit the caller records for, in a current area inside the
    unit's; a bantuan_sosial activity names a program bantuan knows."""
    domain.check_kegiatan(data)
    unit = _unit_holding_place(actor, data["unit_id"], data["lokasi"]["kode_wilayah"], organisasi)
    _require_program(data, bantuan)
    record = {**data, "unit_kode": unit["kode_wilayah"], "dibuat_oleh": actor.sub}

    def schedule(tx):
        kegiatan = store.insert_kegiatan(tx, record)
        tx.emit("kegiatan.dijadwalkan", f"kegiatan/{kegiatan['id']}", kegiatan, kegiatan["lokasi"]["kode_wilayah"])
        return kegiatan

    return instance(KegiatanSchema).dump(store.uow.commit(schedule))


def _unit_holding_place(actor, unit_id, kode_lokasi, organisasi):
    """The unit, which the caller must record for, with its place: a current area inside the
    unit's. Both in one call to organisasi: a write pays for every round trip."""
    found = organisasi.get_unit_dan_wilayah(unit_id, kode_lokasi)
    unit = found_unit(found["unit"], unit_id)
    _require_recorder(actor, unit["kode_wilayah"])
    require_current_area(found["wilayah"], kode_lokasi, ("lokasi", "kode_wilayah"))
    domain.check_location(unit["kode_wilayah"], kode_lokasi)
    return unit


def _require_program(kegiatan, bantuan):
    """A bantuan_sosial activity names a program bantuan knows."""
    if kegiatan["jenis"] == "bantuan_sosial" and bantuan.get_program_ringkas(kegiatan["program_id"]) is None:
        raise InvalidInput({"program_id": [f"Program bantuan {kegiatan['program_id']} tidak ditemukan."]})


def get_kegiatan(actor, kegiatan_id, store):
    return instance(KegiatanSchema).dump(_visible_kegiatan(actor, kegiatan_id, store))


def ubah_kegiatan(actor, kegiatan_id, patch, if_match, store, organisasi, bantuan):
    """Correct a planned activity: reschedule or move it, correct its title, description or its
    kind's own fields, by a JSON merge patch made on the version the caller read (`if_match`:
    the ETags they sent; 412 for another). Who may is who records its unit's activities. Its
    unit and kind stay, and the corrected activity passes the rules of a new one: a new area
    is asked of organisasi and a new program of bantuan, as when it was scheduled (an area or
    program left as it was is not asked again). A change is `kegiatan.diubah`, naming what
    changed; a patch that changes nothing writes and tells nothing."""
    before = _recorded_kegiatan(actor, kegiatan_id, store)
    require_version(if_match, instance(KegiatanSchema).dump(before))
    domain.check_correctable(before)
    after, changes = KEGIATAN_DIUBAH.apply(before, patch)
    domain.check_kegiatan(after)
    if not changes:
        return instance(KegiatanSchema).dump(before)
    if after["lokasi"]["kode_wilayah"] != before["lokasi"]["kode_wilayah"]:
        _unit_holding_place(actor, after["unit_id"], after["lokasi"]["kode_wilayah"], organisasi)
    if after.get("program_id") != before.get("program_id"):
        _require_program(after, bantuan)

    def correct(tx):
        # Over the version checked above only: the other services were asked outside the
        # transaction, and a change anyone made since (a start, a participant) is a 412.
        KEGIATAN_DIUBAH.save(tx, store, before, after, changes, f"kegiatan/{kegiatan_id}",
                             after["lokasi"]["kode_wilayah"])
        return after

    return instance(KegiatanSchema).dump(store.uow.commit(correct))


def list_kegiatan(actor, query, store):
    return page_in_area(actor, query, store.find_kegiatan, KegiatanSchema(many=True).dump, KEGIATAN_FILTERS)


def mulai_kegiatan(actor, kegiatan_id, store):
    return _move(actor, kegiatan_id, "mulai", {}, store)


def selesaikan_kegiatan(actor, kegiatan_id, data, store):
    """Finish with the report; the survey codes for the participants are made with it."""

    def hand_out_survey_codes(tx, finished):
        codes = domain.survey_codes(finished["laporan"]["jumlah_peserta"], finished["jumlah_peserta_tercatat"])
        store.insert_survey_codes(tx, finished, codes)

    return _move(actor, kegiatan_id, "selesai", {"laporan": data["laporan"]}, store, then=hand_out_survey_codes)


def batalkan_kegiatan(actor, kegiatan_id, data, store):
    return _move(actor, kegiatan_id, "batal", {"alasan_batal": data["alasan"]}, store)


def _move(actor, kegiatan_id, action, changes, store, then=None):
    """Take the activity one step of its lifecycle, with `changes`, and emit the step's event;
    `then(tx, moved)` does more in the same transaction. 409 when the step is not allowed from
    its status, also when someone else moved it first."""
    kegiatan = _recorded_kegiatan(actor, kegiatan_id, store)
    step = domain.LIFECYCLE.next(kegiatan["status"], action)

    def move(tx):
        moved = store.move_kegiatan(tx, kegiatan_id, step.allowed_from,
                                    {**changes, "status": step.target, f"{step.target}_oleh": actor.sub})
        if moved is not None:
            tx.emit(step.event, f"kegiatan/{kegiatan_id}", moved, moved["lokasi"]["kode_wilayah"])
            if then:
                then(tx, moved)
        return moved

    moved = store.uow.commit(move)
    if moved is None:  # someone else moved it first
        raise changed_meanwhile("Kegiatan", store.kegiatan(kegiatan_id)["status"])
    return instance(KegiatanSchema).dump(moved)


def _visible_kegiatan(actor, kegiatan_id, store):
    """Seen by whoever covers where it happens (which its unit's area holds)."""
    return visible(actor, store.kegiatan(kegiatan_id), "Kegiatan", kegiatan_id, area="lokasi.kode_wilayah")


def _recorded_kegiatan(actor, kegiatan_id, store):
    """Changed by those who record the activities of its unit."""
    kegiatan = _visible_kegiatan(actor, kegiatan_id, store)
    _require_recorder(actor, kegiatan["unit_kode"])
    return kegiatan


# Participants

def tambah_peserta(actor, kegiatan_id, data, store):
    """Record a participant of an activity not cancelled; one recorded after the finish gets a
    survey code of their own."""
    kegiatan = _recorded_kegiatan(actor, kegiatan_id, store)
    if kegiatan["status"] == "dibatalkan":
        raise Conflict("Kegiatan sudah dibatalkan; peserta tidak dapat dicatat.", code="kegiatan_dibatalkan")

    def add(tx):
        peserta = store.insert_peserta(tx, {**data, "kegiatan_id": kegiatan_id, "dicatat_oleh": actor.sub,
                                            "kode_wilayah": kegiatan["lokasi"]["kode_wilayah"],
                                            "mulai": kegiatan["mulai"], "unit_id": kegiatan["unit_id"]})
        if kegiatan["status"] == "selesai":
            store.insert_survey_codes(tx, kegiatan, domain.survey_codes(1, 0))
        return peserta

    return _peserta_view(actor, store.uow.commit(add))


def list_peserta(actor, kegiatan_id, query, store, reader):
    """An activity's participants; a read of their whole contacts is logged."""
    kegiatan = _visible_kegiatan(actor, kegiatan_id, store)
    items, total = store.peserta(kegiatan_id, query["page"], query["per_page"])
    if actor.has_role(domain.ROLES_PENCATAT):
        record_read(store, reader, [(PESERTA, p["id"], kegiatan["lokasi"]["kode_wilayah"],
                                     {name: p.get(name) for name in CONTACT_FIELDS}) for p in items])
    return page_result([_peserta_view(actor, p) for p in items], total, query)


def _peserta_view(actor, peserta):
    """Participants' contacts are personal data: whole only for those who record activities."""
    return instance(PesertaSchema).dump(peserta if actor.has_role(domain.ROLES_PENCATAT) else mask_contact(peserta))


# Photos and documents (services/common/attachments.py): read by whoever sees the activity, added
# and removed by those who record its unit's activities, whatever its status.

def tambah_lampiran(actor, kegiatan_id, data, store, offload=attachments.run_here):
    return attachments.add(actor, _induk(_recorded_kegiatan(actor, kegiatan_id, store)), data, store, offload)


def list_lampiran(actor, kegiatan_id, query, store):
    return attachments.page(_induk(_visible_kegiatan(actor, kegiatan_id, store)), query, store)


def get_lampiran(actor, kegiatan_id, lampiran_id, store):
    return attachments.download(_induk(_visible_kegiatan(actor, kegiatan_id, store)), lampiran_id, store)


def hapus_lampiran(actor, kegiatan_id, lampiran_id, store):
    attachments.remove(_induk(_recorded_kegiatan(actor, kegiatan_id, store)), lampiran_id, store)


def _induk(kegiatan):
    return attachments.Induk("kegiatan", kegiatan["id"], kegiatan["lokasi"]["kode_wilayah"],
                             kegiatan.get(attachments.COUNT, 0))


# Trust survey

def get_kode_survei(actor, kegiatan_id, store):
    """The unused survey codes of a finished activity, to hand to its participants."""
    _recorded_kegiatan(actor, kegiatan_id, store)
    unused, used = store.unused_survey_codes(kegiatan_id)
    return instance(KodeSurveiSchema).dump({"kegiatan_id": kegiatan_id, "kode": unused, "terpakai": used})


def isi_survei(kegiatan_id, data, store):
    """Anyone holding a code rates trust and satisfaction, once per code."""
    answer = {name: data.get(name) for name in ("kepercayaan", "kepuasan", "komentar")}

    def use_code(tx):
        used = store.answer_survey(tx, kegiatan_id, data["kode"], answer)
        if used is not None:
            tx.emit("survei.diisi", f"kegiatan/{kegiatan_id}", used, used["kode_wilayah"])
        return used

    if store.uow.commit(use_code) is None:
        if store.survey_code(kegiatan_id, data["kode"]) is None:
            raise NotFound("Kode survei tidak dikenal untuk kegiatan ini.")
        raise Conflict("Kode survei ini sudah dipakai.", code="kode_sudah_dipakai")
    return instance(SurveiDiterimaSchema).dump({"kegiatan_id": kegiatan_id, "diterima": True})


def list_komentar_survei(actor, kegiatan_id, query, store):
    """The comments of an activity's survey for those who record its unit's activities, with
    the contacts a commenter typed in them masked (the survey is anonymous)."""
    _recorded_kegiatan(actor, kegiatan_id, store)
    items, total = store.survey_comments(kegiatan_id, query["page"], query["per_page"])
    return page_result(KomentarSchema(many=True).dump(
        [{"komentar": domain.mask_contacts_in(answer["komentar"])} for answer in items]), total, query)


# Summary

def get_rekap(actor, query, store):
    """Activities, participants, aspirations and trust for an area and period, broken down as
    `rinci` asks: by the areas one level below, by month (WIB), or both. The figures are for
    officers: none is withheld, as in the summary itself."""
    kode = query.get("kode_wilayah", actor.wilayah)  # by default, the caller's own area
    actor.require_covers(kode)
    start, end = _period(query)
    rinci = set(query.get("rinci", ()))
    if BULAN in rinci:
        bulan = months(query["dari"], query["sampai"])
        if len(bulan) > domain.MAX_BULAN_RINCIAN:
            raise InvalidInput({"rinci": [f"Rincian per bulan paling lama {domain.MAX_BULAN_RINCIAN} bulan; "
                                          f"periode ini {len(bulan)} bulan. Persempit dari/sampai."]})
        by_month = store.summary_counts(kode, start, end, query.get("unit_id"), per_bulan=True)
        counts = domain.counts_together(by_month.values())
    else:
        bulan, counts = [None], store.summary_counts(kode, start, end, query.get("unit_id"))
        by_month = {None: counts}
    rows = domain.rincian(kode, by_month, bulan, WILAYAH in rinci) if rinci else []
    return instance(RekapSchema).dump({**domain.summary_within(counts), "kode_wilayah": kode,
                                       "unit_id": query.get("unit_id"), "dari": query["dari"],
                                       "sampai": query["sampai"], "rincian": rows})


def _period(query):
    """The query's inclusive dates `dari` and `sampai` as [start, end) in UTC."""
    _require_order(query)
    return domain.period_bounds(query["dari"], query["sampai"])


def _require_order(query):
    if "dari" in query and "sampai" in query and query["sampai"] < query["dari"]:
        raise InvalidInput({"sampai": ["Tanggal akhir tidak boleh sebelum tanggal awal."]})


# The citizens' portal: no token, nothing about anyone

def list_kegiatan_publik(query, store):
    """Activities in an area, by the dates they start on (either bound may be left open)."""
    _require_order(query)
    bounds = {name: domain.period_bounds(query[name], query[name])[edge]
              for name, edge in (("dari", 0), ("sampai", 1)) if name in query}
    items, total = store.find_kegiatan(query["kode_wilayah"], bounds, query["page"], query["per_page"])
    return page_result(KegiatanPublikSchema(many=True).dump(items), total, query)


def get_indeks(query, store):
    """The summary's public figures for an area and for each area one level below it where
    something was recorded, with no survey average that could give away one person's answer.
    Whether an area's averages are shown is decided among its siblings, the same whichever
    area is asked for: an area shown on its own could otherwise be taken from its parent's
    figures to give away a withheld sibling's."""
    kode, period = query["kode_wilayah"], _period(query)
    above = domain.area_above(kode)
    counts = store.summary_counts(above or kode, *period)
    whole, parts = domain.public_figures_below(kode, counts)
    if above is not None:  # no figure above a province is published
        siblings = domain.public_figures_below(above, counts)[1]
        whole = next((sibling for sibling in siblings if sibling["kode_wilayah"] == kode), whole)
    return instance(IndeksSchema).dump({"kode_wilayah": kode, "dari": query["dari"], "sampai": query["sampai"],
                                        "ringkasan": whole, "per_wilayah": parts})


# Aspirations

def kirim_aspirasi(data, store, organisasi, now, holidays):
    """Anyone may send one, without an account: it goes to the unit of the most specific area
    that has one, with a ticket to track it by and a deadline to verify it by."""
    found = organisasi.get_penanggung_jawab_wilayah(data["kode_wilayah"])
    require_current_area(found["wilayah"], data["kode_wilayah"], ("kode_wilayah",))
    handler = found["unit"]
    if handler is None:
        raise Conflict("Belum ada unit BKPM yang dapat menerima aspirasi.", code="belum_ada_unit")
    if data.get("kegiatan_id"):
        dialog = store.kegiatan(data["kegiatan_id"])
        if dialog is None or dialog["jenis"] != "dialog":
            raise InvalidInput({"kegiatan_id": [f"Tidak ada dialog {data['kegiatan_id']}."]})
    record = {**data, "kegiatan_id": data.get("kegiatan_id"), "pelapor": data.get("pelapor"),
              "unit_id": handler["id"], "unit_kode": handler["kode_wilayah"], **domain.received(now, holidays)}

    def receive(tx):
        aspirasi = store.insert_aspirasi(tx, {**record, "nomor_tiket": domain.new_ticket()})
        tx.emit("aspirasi.diterima", f"aspirasi/{aspirasi['id']}", aspirasi, aspirasi["kode_wilayah"])
        return aspirasi

    for _ in range(TICKET_DRAWS):
        try:
            aspirasi = store.uow.commit(receive)
            break
        except DuplicateKey:
            continue
    else:
        raise Unavailable("Nomor tiket tidak dapat dibuat; coba lagi.")
    return instance(AspirasiDiterimaSchema).dump({**aspirasi, "unit": handler["nama"]})


def get_tiket(nomor_tiket, store):
    """Public tracking by ticket: status, every status change with its public answer and
    whether it was late, nothing about anyone. Only the area's province is told: enough for
    its clock, not enough to point at a village."""
    aspirasi = store.aspirasi_by_ticket(nomor_tiket)
    if aspirasi is None:
        raise NotFound(f"Tiket {nomor_tiket} tidak ditemukan.")
    steps = [_public_step(aspirasi, step) for step in aspirasi["riwayat"]]
    answers = [{"status": step["status"], "catatan": step["jawaban_publik"], "waktu": step["waktu"]}
               for step in steps if step["jawaban_publik"]]
    return instance(LacakSchema).dump({**aspirasi, "kode_provinsi": aspirasi["kode_wilayah"][:2],
                                       "jawaban": answers, "riwayat": steps})


def _public_step(aspirasi, step):
    deadline = domain.step_deadline(aspirasi, step)
    return {"status": step["status_baru"], "waktu": step["waktu"],
            "jawaban_publik": step["catatan"] if step["publik"] and step.get("catatan") else None,
            "terlambat": None if deadline is None else step["waktu"] >= deadline}


def get_aspirasi(actor, aspirasi_id, store, reader):
    return _aspirasi_views(actor, [_visible_aspirasi(actor, aspirasi_id, store)], store, reader)[0]


def list_aspirasi(actor, query, store, reader):
    """A page of the aspirations in the caller's area, in the order `urut` names: the newest
    first, or the inbox's (domain.inbox_order)."""
    return page_in_area(actor, query, partial(store.find_aspirasi, urut=query["urut"]),
                        lambda items: _aspirasi_views(actor, items, store, reader), ASPIRASI_FILTERS)


def tindaklanjuti_aspirasi(actor, aspirasi_id, data, store, reader, now, holidays):
    """One step of the aspiration's workflow by those who record for its handling unit, with
    a note that is public (answers the reporter) or not."""
    aspirasi = _visible_aspirasi(actor, aspirasi_id, store)
    _require_recorder(actor, aspirasi["unit_kode"])
    changes = domain.follow_up(aspirasi, data["status"], data.get("catatan"), now, holidays,
                               lapangan=data["lapangan"])
    publik = data.get("publik", domain.public_by_default(data["status"]))
    entry = {"status_lama": aspirasi["status"], "status_baru": data["status"], "catatan": data.get("catatan"),
             "publik": publik, "oleh": actor.sub, "waktu": now}

    def update(tx):
        # A deadline missed before this step is recorded with it, even if the periodic check
        # has not come round yet.
        _flag_breach(tx, aspirasi, store, now)
        updated = store.update_aspirasi(tx, aspirasi_id, aspirasi["status"], changes, entry)
        if updated is not None:
            tx.emit("aspirasi.diperbarui", f"aspirasi/{aspirasi_id}",
                    {**updated, "status_lama": entry["status_lama"], "status_baru": entry["status_baru"],
                     "jawaban": entry["catatan"] if publik else None},
                    updated["kode_wilayah"])
        return updated

    updated = store.uow.commit(update)
    if updated is None:  # someone else followed it up first
        raise changed_meanwhile("Aspirasi", store.aspirasi(aspirasi_id)["status"])
    # The answer hands the reporter back, typed by them: a read, logged (if that fails, the
    # follow-up stays and the answer is refused).
    return _aspirasi_views(actor, [updated], store, reader)[0]


def periksa_tenggat(store, now):
    """Flag late aspirations; `aspirasi.terlambat` fires once per missed deadline, also with
    several instances running (the flag is set atomically with the event)."""
    for aspirasi in store.overdue_candidates(now):
        store.uow.commit(lambda tx, aspirasi=aspirasi: _flag_breach(tx, aspirasi, store, now))


def isi_urutan_tenggat(store):
    """Give the inbox's order (domain.inbox_order) to the aspirations whose stored one is
    missing or no longer fits their status: those stored before it was kept, and those an
    older instance received or followed up during an upgrade. Idempotent, also with several
    instances at once (each write is conditional on the status it was made for). The count
    written."""
    written = 0
    while True:
        fixed = sum(store.record_inbox_order(aspirasi["id"], aspirasi["status"], domain.inbox_order(aspirasi))
                    for aspirasi in store.stale_inbox_order())
        written += fixed
        if not fixed:  # none left, or only ones whose status moved meanwhile: the next run takes them
            return written


def hapus_pelapor_lama(store, retention, now):
    """Erase the name and contacts of the reporters of aspirations closed longer than
    `retention` ago (UU No. 27/2022), each with `aspirasi.pelapor_dihapus` for the services that
    copied them; everything else of the aspiration stays. Idempotent, also with several
    instances at once. An aspiration closed before its closing time was recorded gets it from
    its history here, so it is not looked at again until its time comes. The count erased."""
    cutoff, erased = now - retention, 0
    for aspirasi in store.closed_with_reporter(cutoff):
        ditutup = domain.closed_at(aspirasi)
        if ditutup > cutoff:
            store.record_closed(aspirasi["id"], ditutup)
        elif store.uow.commit(lambda tx, aspirasi_id=aspirasi["id"]: _erase_reporter(tx, aspirasi_id, store, now)):
            erased += 1
    return erased


def _erase_reporter(tx, aspirasi_id, store, now):
    erased = store.erase_reporter(tx, aspirasi_id, now)
    if erased is not None:
        tx.emit("aspirasi.pelapor_dihapus", f"aspirasi/{aspirasi_id}", erased, erased["kode_wilayah"])
    return erased


def _flag_breach(tx, aspirasi, store, now):
    """Record the deadline `aspirasi` missed by `now`, if any and not yet, with its event."""
    tenggat = domain.breach(aspirasi, now)
    if tenggat is None:
        return
    flagged = store.flag_late(tx, aspirasi["id"], tenggat)
    if flagged is not None:
        batas = aspirasi["batas_verifikasi"] if tenggat == "verifikasi" else aspirasi["batas_jawaban"]
        tx.emit("aspirasi.terlambat", f"aspirasi/{aspirasi['id']}",
                {**flagged, "tenggat": tenggat, "batas": batas}, flagged["kode_wilayah"])


def _visible_aspirasi(actor, aspirasi_id, store):
    """Seen by whoever covers where it comes from (which the handling unit's area holds)."""
    return visible(actor, store.aspirasi(aspirasi_id), "Aspirasi", aspirasi_id)


def _aspirasi_views(actor, aspirations, store, reader):
    """What the caller sees of `aspirations`, the reporters shown whole logged first."""
    shown = [(aspirasi, _reporter_shown(actor, aspirasi)) for aspirasi in aspirations]
    record_read(store, reader, [(PELAPOR, aspirasi["id"], aspirasi["kode_wilayah"],
                                 {name: pelapor.get(name) for name in REPORTER_FIELDS})
                                for aspirasi, (pelapor, whole) in shown if whole])
    return [instance(AspirasiSchema).dump({**aspirasi, "pelapor": pelapor}) for aspirasi, (pelapor, _) in shown]


def _reporter_shown(actor, aspirasi):
    """The reporter as the caller sees them, and whether whole. A confidential reporter is
    shown only inside the handling unit; otherwise whole to those who record aspirations,
    masked for readers."""
    pelapor = aspirasi.get("pelapor")
    if not pelapor:
        return pelapor, False
    if aspirasi["rahasia"] and actor.wilayah != aspirasi["unit_kode"]:
        return None, False
    if not actor.has_role(domain.ROLES_PENCATAT):
        return mask_contact(pelapor), False
    return pelapor, True
