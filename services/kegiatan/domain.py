"""Rules of the kegiatan domain, in plain Python: activities and their lifecycle, aspirations
and their deadlines (SP4N-LAPOR!), and the trust survey."""
import re
import secrets
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.common.access import within
from services.common.errors import Conflict, InvalidInput
from services.common.lifecycle import Lifecycle, Step
from services.common.privacy import mask_email, mask_phone
from services.common.rincian import area_below, grid

JENIS = ("dialog", "penyuluhan", "patroli_bersama", "bantuan_sosial", "pengembangan_kapasitas")
TOPIK_PENYULUHAN = ("pencegahan_kejahatan", "narkoba", "terorisme", "kenakalan_remaja", "lainnya")
MATERI_PELATIHAN = ("bela_diri", "pertolongan_pertama", "manajemen_bencana", "lainnya")
UNSUR = ("polri", "masyarakat", "tokoh_agama", "tokoh_adat", "akademisi", "pelaku_usaha", "pemerintah",
         "lainnya")

# Who records activities, attendance and aspirations; who plans activities.
ROLES_PENCATAT = ("admin", "pengurus", "petugas")

STATUS_KEGIATAN = ("direncanakan", "berlangsung", "selesai", "dibatalkan")
# An activity's lifecycle: each action, the states it may start from, the state it leads to and its event.
LIFECYCLE = Lifecycle("Kegiatan", "status_kegiatan", {
    "mulai": Step(("direncanakan",), "berlangsung", "kegiatan.dimulai", "dimulai"),
    "selesai": Step(("berlangsung",), "selesai", "kegiatan.selesai", "diselesaikan"),
    "batal": Step(("direncanakan", "berlangsung"), "dibatalkan", "kegiatan.dibatalkan", "dibatalkan"),
})


# The field each kind of activity must have and no other kind may; a choice of 'lainnya' is
# explained in its own field. (The API document states both: KegiatanBaruSchema.JSON_SCHEMA.)
FIELD_OF_KIND = {"penyuluhan": "topik", "pengembangan_kapasitas": "materi", "patroli_bersama": "rute",
                 "bantuan_sosial": "program_id"}
EXPLAINED_IN = {"topik": "topik_lainnya", "materi": "materi_lainnya"}


def check_kegiatan(data):
    """Field rules that depend on the kind of activity, and on each other."""
    errors = {}
    jenis = data["jenis"]
    needed = FIELD_OF_KIND.get(jenis)
    if needed and not data.get(needed):
        errors[needed] = [f"Wajib diisi untuk kegiatan {jenis.replace('_', ' ')}."]
    for kind, name in FIELD_OF_KIND.items():
        if data.get(name) and jenis != kind:
            errors[name] = [f"Hanya untuk kegiatan {kind.replace('_', ' ')}."]
    for choice, other in EXPLAINED_IN.items():
        if data.get(choice) == "lainnya" and not data.get(other):
            errors[other] = ["Jelaskan bila memilih 'lainnya'."]
    if data["selesai"] <= data["mulai"]:
        errors["selesai"] = ["Waktu selesai harus setelah waktu mulai."]
    if errors:
        raise InvalidInput(errors)


def check_location(unit_kode, lokasi_kode):
    """An activity takes place inside its unit's area."""
    if not within(lokasi_kode, unit_kode):
        raise InvalidInput({"lokasi": {"kode_wilayah": [
            f"Lokasi {lokasi_kode} berada di luar wilayah unit ({unit_kode or 'nasional'})."]}})


# Corrections: a planned activity is rescheduled, moved, or its text and its kind's own fields
# corrected. Its unit and kind stay: another unit's or another kind's activity is another
# activity (cancel this one, schedule that one).
DAPAT_DIKOREKSI = ("judul", "mulai", "selesai", "lokasi", "deskripsi", "topik", "topik_lainnya", "materi",
                   "materi_lainnya", "rute", "program_id")


def check_correctable(kegiatan):
    """Only a planned activity is corrected: once it runs, what happened is told by its report."""
    status = kegiatan["status"]
    if status != "direncanakan":
        raise Conflict(f"Kegiatan berstatus '{status}' tidak dapat diubah; hanya kegiatan yang direncanakan yang "
                       "dapat dijadwalkan ulang atau dikoreksi.", code="kegiatan_tidak_direncanakan",
                       status_kegiatan=status)


# Aspirations

KATEGORI_ASPIRASI = ("aspirasi", "keluhan", "masukan")
STATUS_ASPIRASI = ("diterima", "diverifikasi", "diproses", "selesai", "ditolak")
# How aspirations are listed: newest first, or the inbox's order (`inbox_order`).
URUTAN_ASPIRASI = ("terbaru", "tenggat")
ALUR_ASPIRASI = {
    "diterima": ("diverifikasi", "ditolak"),
    "diverifikasi": ("diproses", "ditolak"),
    "diproses": ("selesai", "ditolak"),
    "selesai": (),
    "ditolak": (),
}
# Where an aspiration's workflow ends: its reporter's identity is kept for a while after
# (PELAPOR_RETENTION_DAYS), then erased.
FINAL_STATUSES = tuple(status for status, following in ALUR_ASPIRASI.items() if not following)
HARI_VERIFIKASI = 3          # working days to verify (SP4N-LAPOR!)
HARI_JAWABAN = 5             # working days to answer once verified
HARI_JAWABAN_LAPANGAN = 14   # when the answer needs field work
WIB = ZoneInfo("Asia/Jakarta")
TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
# How messages to a reporter address them: never by the name typed on the public form, where
# anyone may leave someone else's contact and a "name" that is the text of a phishing message.
REPORTER_SALUTATION = "Bapak/Ibu Pelapor"


def new_ticket():
    return "ASP-" + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


def add_working_days(moment, days, holidays=frozenset()):
    """The end of the `days`-th working day after `moment` (Monday to Friday, not a holiday),
    in Jakarta time: a report due in 3 working days is late from the next morning on."""
    day = moment.astimezone(WIB).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=WIB).astimezone(timezone.utc)


def follow_up(aspirasi, status, catatan, now, holidays=frozenset(), lapangan=False):
    """The changes a follow-up makes: the new status, the answer deadline once verified, and
    the case's place in the inbox (`inbox_order`), all written together.
    Refuses a step the workflow does not allow (409) and a rejection without reason."""
    current = aspirasi["status"]
    if status not in ALUR_ASPIRASI[current]:
        allowed = ", ".join(ALUR_ASPIRASI[current]) or "tidak ada (status akhir)"
        raise Conflict(f"Aspirasi berstatus '{current}' tidak dapat menjadi '{status}'; yang boleh: {allowed}.",
                       code="transisi_tidak_sah", status_aspirasi=current)
    if status == "ditolak" and not catatan:
        raise InvalidInput({"catatan": ["Sebutkan alasan penolakan."]})
    if lapangan and status != "diverifikasi":
        raise InvalidInput({"lapangan": ["Hanya saat verifikasi: menentukan batas waktu jawaban."]})
    changes = {"status": status}
    if status in FINAL_STATUSES:
        changes["ditutup"] = now
    if status == "diverifikasi":
        changes["batas_jawaban"] = add_working_days(
            now, HARI_JAWABAN_LAPANGAN if lapangan else HARI_JAWABAN, holidays)
    return {**changes, **inbox_order({**aspirasi, **changes})}


def received(now, holidays=frozenset()):
    """The workflow's fields of an aspiration received at `now`: its status, the deadline to
    verify it by, and its place in the inbox."""
    fields = {"status": "diterima", "diterima": now,
              "batas_verifikasi": add_working_days(now, HARI_VERIFIKASI, holidays)}
    return {**fields, **inbox_order(fields)}


def next_deadline(aspirasi):
    """The deadline an open aspiration waits on: ('verifikasi', batas_verifikasi) while
    received, ('jawaban', batas_jawaban) once verified; None when closed (or verified before
    answer deadlines were kept)."""
    status = aspirasi["status"]
    if status == "diterima":
        return "verifikasi", aspirasi["batas_verifikasi"]
    if status not in FINAL_STATUSES and aspirasi.get("batas_jawaban"):
        return "jawaban", aspirasi["batas_jawaban"]
    return None


def inbox_order(aspirasi):
    """What the inbox (`urut=tenggat`) sorts by, stored with every status change so the
    database sorts on an index: open ones first (`terbuka`), by the deadline they wait on
    (`tenggat_berikut`, None once closed), the nearest or most overdue first."""
    due = next_deadline(aspirasi)
    return {"terbuka": aspirasi["status"] not in FINAL_STATUSES, "tenggat_berikut": due[1] if due else None}


def closed_at(aspirasi):
    """When a closed aspiration was closed: its `ditutup`, or for one closed before that was
    recorded, the time of its last step (the one that closed it)."""
    return aspirasi.get("ditutup") or aspirasi["riwayat"][-1]["waktu"]


def public_by_default(status):
    """Answers to the reporter are public unless said otherwise; working notes are not."""
    return status in ("selesai", "ditolak")


def breach(aspirasi, now):
    """Which deadline an open aspiration has missed, if any: 'verifikasi' or 'jawaban'."""
    due = next_deadline(aspirasi)
    return due[0] if due and now >= due[1] else None


def step_deadline(aspirasi, step):
    """The deadline a recorded step of the workflow met or missed, if one applied to it: leaving
    'diterima' the verification deadline, closing a verified one the answer deadline (the ones
    `breach` watches); going from 'diverifikasi' to 'diproses' has none."""
    if step["status_lama"] == "diterima":
        return aspirasi["batas_verifikasi"]
    if step["status_baru"] in FINAL_STATUSES:
        return aspirasi.get("batas_jawaban")
    return None


def parse_holidays(text):
    """'2025-12-25,2026-01-01' -> {date, ...}: the public holidays that are not working days."""
    return frozenset(date.fromisoformat(part.strip()) for part in (text or "").split(",") if part.strip())


# Trust survey

SKALA = (1, 5)  # kepercayaan and kepuasan, from 1 (very low) to 5 (very high)
MAX_KODE_SURVEI = 2000
SURVEY_ALPHABET = TICKET_ALPHABET


def survey_codes(jumlah_peserta, registered):
    """Single-use codes handed to participants when an activity is finished: one for each
    participant counted in the report or registered, whichever is more."""
    count = min(max(jumlah_peserta, registered), MAX_KODE_SURVEI)
    return ["".join(secrets.choice(SURVEY_ALPHABET) for _ in range(8)) for _ in range(count)]


def period_bounds(dari, sampai):
    """Inclusive calendar dates in Jakarta time -> [start, end) in UTC."""
    start = datetime.combine(date.fromisoformat(dari), time(0), tzinfo=WIB).astimezone(timezone.utc)
    end = datetime.combine(date.fromisoformat(sampai) + timedelta(days=1), time(0), tzinfo=WIB)
    return start, end.astimezone(timezone.utc)


def summary(kegiatan_counts, unsur_counts, aspirasi_counts, survey):
    """The summary of a period from the counts the database grouped.

    kegiatan_counts: [(jenis, status, n)]; unsur_counts: [(unsur, n)]; aspirasi_counts: dict
    with diterima, diselesaikan, tepat_waktu (resolved without a missed deadline), terlambat;
    survey: dict with jumlah, kepercayaan_total, kepuasan_total."""
    per_jenis = {jenis: 0 for jenis in JENIS}
    per_status = {status: 0 for status in STATUS_KEGIATAN}
    for jenis, status, count in kegiatan_counts:
        per_jenis[jenis] += count
        per_status[status] += count
    resolved = aspirasi_counts["diselesaikan"]
    on_time = round(100 * aspirasi_counts["tepat_waktu"] / resolved, 1) if resolved else None
    answers = survey["jumlah"]
    return {
        "kegiatan": {"jumlah": sum(per_jenis.values()), "per_jenis": per_jenis, "per_status": per_status},
        "peserta": {"jumlah": sum(n for _, n in unsur_counts),
                    "per_unsur": {unsur: dict(unsur_counts).get(unsur, 0) for unsur in UNSUR}},
        "aspirasi": {**aspirasi_counts, "persen_tepat_waktu": on_time},
        "survei": {"jumlah_jawaban": answers,
                   "rata_kepercayaan": round(survey["kepercayaan_total"] / answers, 2) if answers else None,
                   "rata_kepuasan": round(survey["kepuasan_total"] / answers, 2) if answers else None},
    }


def counts_by_area(counts, area_of):
    """The repository's counts, each row led by the area code it was recorded in, folded into
    the arguments of `summary` per `area_of(kode)`: {area: (kegiatan_counts, unsur_counts,
    aspirasi_counts, survey)}; a row whose `area_of` is None is left out."""
    buckets = defaultdict(lambda: (Counter(), Counter(), Counter(), Counter()))
    for kode, jenis, status, n in counts["kegiatan"]:
        if (area := area_of(kode)) is not None:
            buckets[area][0][(jenis, status)] += n
    for kode, unsur, n in counts["peserta"]:
        if (area := area_of(kode)) is not None:
            buckets[area][1][unsur] += n
    for kode, status, late, n in counts["aspirasi"]:
        if (area := area_of(kode)) is not None:
            resolved = status == "selesai"
            buckets[area][2].update({"diterima": n, "diselesaikan": n if resolved else 0,
                                     "tepat_waktu": n if resolved and not late else 0, "terlambat": n if late else 0})
    for kode, jumlah, kepercayaan_total, kepuasan_total in counts["survei"]:
        if (area := area_of(kode)) is not None:
            buckets[area][3].update({"jumlah": jumlah, "kepercayaan_total": kepercayaan_total,
                                     "kepuasan_total": kepuasan_total})
    return {area: ([(jenis, status, n) for (jenis, status), n in kegiatan.items()], list(unsur.items()),
                   {name: aspirasi[name] for name in ("diterima", "diselesaikan", "tepat_waktu", "terlambat")},
                   {name: survey[name] for name in ("jumlah", "kepercayaan_total", "kepuasan_total")})
            for area, (kegiatan, unsur, aspirasi, survey) in buckets.items()}


NO_COUNTS = ([], [], {"diterima": 0, "diselesaikan": 0, "tepat_waktu": 0, "terlambat": 0},
             {"jumlah": 0, "kepercayaan_total": 0, "kepuasan_total": 0})
WHOLE = "semua"


def summaries_by_area(counts, area_of):
    """The `summary` of each area `area_of(kode)` names (None: left out), from the
    repository's counts."""
    return {area: summary(*folded) for area, folded in counts_by_area(counts, area_of).items()}


def summary_within(counts, area=None):
    """The `summary` of the repository's counts in `area` (None: all of them)."""
    return (summaries_by_area(counts, lambda kode: WHOLE if within(kode, area) else None).get(WHOLE)
            or summary(*NO_COUNTS))


def area_above(kode):
    """'31.71.01' -> '31.71'; None for a province."""
    return kode.rpartition(".")[0] or None


# The longest period a summary is broken down by month for: ten years of trend, and rows a
# spreadsheet still holds when broken down by area too.
MAX_BULAN_RINCIAN = 120


def counts_together(parts):
    """The repository's counts of several periods (an iterable of them) as those of one."""
    parts = list(parts)
    return {name: [row for part in parts for row in part[name]]
            for name in ("kegiatan", "peserta", "aspirasi", "survei")}


def rincian(area, counts_by_month, bulan, per_wilayah):
    """The rows of a summary's breakdown (services/common/rincian.py): one per month of `bulan`
    ([None]: not by month) of `area`, or with `per_wilayah` of each area one level below it
    where something was recorded in the whole period; `counts_by_month` holds the repository's
    counts by month (by None when not by month). A month with nothing recorded has its row of
    zeros, so a trend has no gaps."""
    if per_wilayah:
        summaries = {month: summaries_by_area(counts, lambda kode: area_below(area, kode))
                     for month, counts in counts_by_month.items()}
    else:
        summaries = {month: {area: summary_within(counts, area)} for month, counts in counts_by_month.items()}
    areas = sorted(set().union(*summaries.values())) if per_wilayah else [area]
    return grid(areas, bulan, lambda kode, month: summaries.get(month, {}).get(kode) or summary(*NO_COUNTS))


# The citizens' portal: figures by area, none that could point to one person's survey answer.

MIN_JAWABAN = 5
DITAHAN_SEDIKIT = f"kurang dari {MIN_JAWABAN} jawaban"
DITAHAN_SELISIH = "dapat dihitung dari wilayah lain"


def public_figures(kode, counted):
    """What the portal shows of an area from its `summary`: activities held (cancelled ones
    are not), participants, the share of aspirations resolved on time, and the survey averages
    with their number of answers, withheld (None, with why) under MIN_JAWABAN answers."""
    answers = counted["survei"]["jumlah_jawaban"]
    survei = {**counted["survei"], "ditahan": None}
    figures = {"kode_wilayah": kode,
               "jumlah_kegiatan": counted["kegiatan"]["jumlah"] - counted["kegiatan"]["per_status"]["dibatalkan"],
               "jumlah_peserta": counted["peserta"]["jumlah"],
               "persen_aspirasi_tepat_waktu": counted["aspirasi"]["persen_tepat_waktu"], "survei": survei}
    return withhold(figures, DITAHAN_SEDIKIT) if 0 < answers < MIN_JAWABAN else figures


def public_figures_below(area, counts):
    """The public figures of `area` and of each area one level below it where something was
    recorded, from the repository's `counts` (which may reach beyond `area`); the parts'
    averages withheld as `withhold_differences` says."""
    whole = public_figures(area, summary_within(counts, area))
    below = summaries_by_area(counts, lambda kode: area_below(area, kode))
    parts = [public_figures(kode, counted) for kode, counted in sorted(below.items())]
    return whole, withhold_differences(whole, parts)


def withhold(figures, reason):
    return {**figures, "survei": {**figures["survei"], "rata_kepercayaan": None, "rata_kepuasan": None,
                                  "ditahan": reason}}


def withhold_differences(whole, parts):
    """`parts` (the areas below `whole`) with more averages withheld where the whole's average
    less the shown parts' would give away the answers of fewer than MIN_JAWABAN people: the
    shown part with the fewest answers is withheld, until the rest is large enough."""
    if whole["survei"]["ditahan"]:
        return parts
    parts = list(parts)
    shown = sorted((part for part in parts if not part["survei"]["ditahan"]),
                   key=lambda part: part["survei"]["jumlah_jawaban"])
    rest = whole["survei"]["jumlah_jawaban"] - sum(part["survei"]["jumlah_jawaban"] for part in shown)
    while shown and 0 < rest < MIN_JAWABAN:
        smallest = shown.pop(0)
        rest += smallest["survei"]["jumlah_jawaban"]
        parts[parts.index(smallest)] = withhold(smallest, DITAHAN_SELISIH)
    return parts


# Survey comments: free text, where a commenter may have typed their own or someone's contacts.

EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number as people type it: digits with spaces, dots, dashes or brackets between them;
# nine digits at least, so a date (8) or an amount stays as written.
PHONE_IN_TEXT = re.compile(r"\+?[0-9][0-9 ().-]{7,}[0-9]")
MIN_PHONE_DIGITS = 9


def mask_contacts_in(text):
    """`text` with the email addresses and phone numbers in it masked."""
    def phone(match):
        number = match.group()
        return mask_phone(number) if sum(c.isdigit() for c in number) >= MIN_PHONE_DIGITS else number

    return PHONE_IN_TEXT.sub(phone, EMAIL_IN_TEXT.sub(lambda match: mask_email(match.group()), text))
