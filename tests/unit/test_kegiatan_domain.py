"""The kegiatan domain rules, in plain Python: no broker, no database."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, InvalidInput
from services.kegiatan.domain import (ALUR_ASPIRASI, HARI_JAWABAN, HARI_JAWABAN_LAPANGAN, LIFECYCLE,
                                      MAX_KODE_SURVEI, STATUS_ASPIRASI, STATUS_KEGIATAN, TICKET_ALPHABET, WIB,
                                      add_working_days, breach, check_kegiatan, check_location, follow_up,
                                      new_ticket, parse_holidays, period_bounds, summary, survey_codes)

UTC = timezone.utc
MULAI = datetime(2026, 12, 4, 9, 0, tzinfo=WIB)
# The one field each kind of activity needs, with a value that satisfies it.
REQUIRED = {"penyuluhan": ("topik", "narkoba"), "pengembangan_kapasitas": ("materi", "bela_diri"),
            "patroli_bersama": ("rute", "Pasar Minggu - Jagakarsa"), "bantuan_sosial": ("program_id", "prog-1")}
OWNER = {field: jenis for jenis, (field, _) in REQUIRED.items()}
VALUE = dict(REQUIRED.values())
JENIS_ALL = ("dialog", *REQUIRED)


def field_errors(func, *args):
    """Call `func`, expect InvalidInput, and return its field -> messages dict."""
    with pytest.raises(InvalidInput) as caught:
        func(*args)
    assert caught.value.payload["code"] == "input_tidak_valid"
    return caught.value.payload["errors"]


def conflict(func, *args, **kwargs):
    """Call `func`, expect a Conflict "transisi_tidak_sah", and return its payload."""
    with pytest.raises(Conflict) as caught:
        func(*args, **kwargs)
    payload = caught.value.payload
    assert payload["code"] == "transisi_tidak_sah"
    assert "errors" not in payload
    return payload


def kegiatan(jenis, **fields):
    """A valid activity of `jenis` (its required field filled in), with `fields` on top."""
    data = {"jenis": jenis, "mulai": MULAI, "selesai": MULAI + timedelta(hours=2)}
    if jenis in REQUIRED:
        name, value = REQUIRED[jenis]
        data[name] = value
    data.update(fields)
    return data


def wib(*args):
    return datetime(*args, tzinfo=WIB)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# check_kegiatan

@pytest.mark.parametrize("jenis", JENIS_ALL)
def test_valid_activity_of_each_kind_passes(jenis):
    assert check_kegiatan(kegiatan(jenis)) is None


def test_lainnya_with_its_explanation_passes():
    assert check_kegiatan(kegiatan("penyuluhan", topik="lainnya", topik_lainnya="Judi daring")) is None
    assert check_kegiatan(kegiatan("pengembangan_kapasitas", materi="lainnya", materi_lainnya="Renang")) is None


@pytest.mark.parametrize("jenis, field", [(jenis, field) for jenis, (field, _) in REQUIRED.items()])
@pytest.mark.parametrize("missing", ["absent", None, ""])
def test_required_field_of_each_kind(jenis, field, missing):
    data = kegiatan(jenis)
    if missing == "absent":
        del data[field]
    else:
        data[field] = missing
    errors = field_errors(check_kegiatan, data)
    assert list(errors) == [field]
    assert errors[field] == [f"Wajib diisi untuk kegiatan {jenis.replace('_', ' ')}."]


@pytest.mark.parametrize("field, jenis", [(field, jenis) for field, owner in OWNER.items()
                                          for jenis in JENIS_ALL if jenis != owner])
def test_kind_specific_field_for_another_kind_is_refused(field, jenis):
    errors = field_errors(check_kegiatan, kegiatan(jenis, **{field: VALUE[field]}))
    assert list(errors) == [field]
    assert errors[field] == [f"Hanya untuk kegiatan {OWNER[field].replace('_', ' ')}."]


@pytest.mark.parametrize("jenis, choice, other", [("penyuluhan", "topik", "topik_lainnya"),
                                                  ("pengembangan_kapasitas", "materi", "materi_lainnya")])
@pytest.mark.parametrize("explanation", ["absent", ""])
def test_lainnya_needs_an_explanation(jenis, choice, other, explanation):
    data = kegiatan(jenis, **{choice: "lainnya"})
    if explanation != "absent":
        data[other] = explanation
    errors = field_errors(check_kegiatan, data)
    assert list(errors) == [other]
    assert "lainnya" in errors[other][0]
    assert errors[other][0].startswith("Jelaskan")


@pytest.mark.parametrize("selesai", [MULAI, MULAI - timedelta(seconds=1), MULAI - timedelta(days=1)])
def test_selesai_must_be_after_mulai(selesai):
    errors = field_errors(check_kegiatan, kegiatan("dialog", selesai=selesai))
    assert errors == {"selesai": ["Waktu selesai harus setelah waktu mulai."]}


def test_selesai_compares_instants_not_wall_clocks():
    # 09:30 UTC is 16:30 in Jakarta: after 09:00 WIB although the wall clock reads earlier than 10:00.
    assert check_kegiatan(kegiatan("dialog", mulai=wib(2026, 12, 4, 10, 0), selesai=utc(2026, 12, 4, 9, 30))) is None
    errors = field_errors(check_kegiatan, kegiatan("dialog", mulai=wib(2026, 12, 4, 10, 0),
                                                   selesai=utc(2026, 12, 4, 2, 0)))
    assert set(errors) == {"selesai"}


def test_all_errors_are_reported_together():
    data = kegiatan("dialog", topik="lainnya", rute="Jalan Sudirman", selesai=MULAI)
    errors = field_errors(check_kegiatan, data)
    assert set(errors) == {"topik", "rute", "topik_lainnya", "selesai"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())


# check_location

@pytest.mark.parametrize("unit, lokasi", [(None, "31.71.01.1001"), (None, "91"), ("31", "31"),
                                          ("31", "31.71.01"), ("31.71", "31.71"), ("31.71", "31.71.01.1001")])
def test_location_inside_the_units_area_passes(unit, lokasi):
    assert check_location(unit, lokasi) is None


@pytest.mark.parametrize("unit, lokasi", [("31.71", "31.72"), ("31.71", "31"), ("31.71", "31.710"),
                                          ("31.71.01", "32.71.01"), ("31", None), ("31", "")])
def test_location_outside_the_units_area_is_refused(unit, lokasi):
    errors = field_errors(check_location, unit, lokasi)
    assert list(errors) == ["lokasi"]
    assert list(errors["lokasi"]) == ["kode_wilayah"]
    [message] = errors["lokasi"]["kode_wilayah"]
    assert "di luar wilayah unit" in message
    assert unit in message


# The lifecycle

ACTIONS = LIFECYCLE.steps
LEGAL = [(current, action, step.target) for action, step in ACTIONS.items() for current in step.allowed_from]
ILLEGAL = [(current, action) for current in STATUS_KEGIATAN for action in ACTIONS
           if current not in ACTIONS[action].allowed_from]


def test_lifecycle_tables_are_what_the_tests_expect():
    assert sorted((c, a) for c, a, _ in LEGAL) == sorted([("direncanakan", "mulai"), ("berlangsung", "selesai"),
                                                          ("direncanakan", "batal"), ("berlangsung", "batal")])
    assert len(LEGAL) + len(ILLEGAL) == len(STATUS_KEGIATAN) * len(ACTIONS)
    assert {action: step.event for action, step in ACTIONS.items()} == {
        "mulai": "kegiatan.dimulai", "selesai": "kegiatan.selesai", "batal": "kegiatan.dibatalkan"}


@pytest.mark.parametrize("current, action, target", LEGAL)
def test_legal_transition(current, action, target):
    assert LIFECYCLE.next(current, action).target == target


@pytest.mark.parametrize("current, action", ILLEGAL)
def test_illegal_transition_is_a_conflict(current, action):
    payload = conflict(LIFECYCLE.next, current, action)
    assert payload["status_kegiatan"] == current
    assert f"'{current}'" in payload["detail"]
    assert "tidak dapat" in payload["detail"]


def test_a_refused_start_says_so_in_words():
    assert conflict(LIFECYCLE.next, "selesai", "mulai")["detail"] == "Kegiatan berstatus 'selesai' tidak dapat dimulai."


# add_working_days

FRIDAY_MORNING = wib(2026, 12, 4, 10, 0)


def test_deadline_skips_the_weekend_and_ends_at_jakarta_midnight():
    deadline = add_working_days(FRIDAY_MORNING, 3)
    assert deadline == utc(2026, 12, 9, 17, 0)          # end of Wednesday 2026-12-09, WIB
    assert deadline.utcoffset() == timedelta(0)
    assert deadline.astimezone(WIB) == wib(2026, 12, 10, 0, 0)


def test_deadline_skips_holidays():
    assert add_working_days(FRIDAY_MORNING, 3, frozenset({date(2026, 12, 7)})) == utc(2026, 12, 10, 17, 0)


def test_holidays_on_a_weekend_change_nothing():
    assert add_working_days(FRIDAY_MORNING, 3, frozenset({date(2026, 12, 5), date(2026, 12, 6)})) \
        == utc(2026, 12, 9, 17, 0)


@pytest.mark.parametrize("received", [
    utc(2026, 12, 3, 18, 0),   # Thursday 18:00 UTC is Friday 01:00 WIB
    wib(2026, 12, 4, 0, 0),
    wib(2026, 12, 4, 23, 59),
])
def test_deadline_counts_from_the_jakarta_date(received):
    assert add_working_days(received, 3) == utc(2026, 12, 9, 17, 0)


def test_received_on_the_weekend_counts_from_monday():
    assert add_working_days(wib(2026, 12, 5, 12, 0), 1) == utc(2026, 12, 7, 17, 0)
    assert add_working_days(wib(2026, 12, 6, 12, 0), 1) == utc(2026, 12, 7, 17, 0)


@pytest.mark.parametrize("days, end_of", [(1, date(2026, 12, 7)), (5, date(2026, 12, 11)),
                                          (6, date(2026, 12, 14)), (14, date(2026, 12, 24))])
def test_deadline_after_n_working_days(days, end_of):
    assert add_working_days(FRIDAY_MORNING, days) == wib(end_of.year, end_of.month, end_of.day) \
        + timedelta(days=1)


# follow_up

STEPS = [(current, status) for current, targets in ALUR_ASPIRASI.items() for status in targets]
NON_STEPS = [(current, status) for current in STATUS_ASPIRASI for status in STATUS_ASPIRASI
             if status not in ALUR_ASPIRASI[current]]
NOW = FRIDAY_MORNING


def test_workflow_table_is_what_the_tests_expect():
    assert set(ALUR_ASPIRASI) == set(STATUS_ASPIRASI)
    assert ALUR_ASPIRASI["selesai"] == () and ALUR_ASPIRASI["ditolak"] == ()
    assert ("diterima", "selesai") in NON_STEPS      # no skipping verification
    assert ("diverifikasi", "diverifikasi") in NON_STEPS


@pytest.mark.parametrize("current, status", STEPS)
def test_allowed_step(current, status):
    changes = follow_up({"status": current}, status, "Sudah ditindaklanjuti.", NOW)
    assert changes["status"] == status
    assert ("batas_jawaban" in changes) == (status == "diverifikasi")


@pytest.mark.parametrize("current, status", NON_STEPS)
def test_step_outside_the_workflow_is_a_conflict(current, status):
    payload = conflict(follow_up, {"status": current}, status, "catatan", NOW)
    assert payload["status_aspirasi"] == current
    assert f"'{status}'" in payload["detail"]


def test_step_from_a_final_state_says_there_is_none():
    assert "status akhir" in conflict(follow_up, {"status": "selesai"}, "diproses", "catatan", NOW)["detail"]


@pytest.mark.parametrize("current", [current for current, targets in ALUR_ASPIRASI.items() if "ditolak" in targets])
@pytest.mark.parametrize("catatan", [None, ""])
def test_rejection_needs_a_reason(current, catatan):
    errors = field_errors(follow_up, {"status": current}, "ditolak", catatan, NOW)
    assert list(errors) == ["catatan"]
    assert "alasan" in errors["catatan"][0]


@pytest.mark.parametrize("status", ["diverifikasi", "diproses", "selesai"])
def test_other_steps_need_no_note(status):
    current = next(current for current, targets in ALUR_ASPIRASI.items() if status in targets)
    assert follow_up({"status": current}, status, None, NOW)["status"] == status


@pytest.mark.parametrize("lapangan, days", [(False, HARI_JAWABAN), (True, HARI_JAWABAN_LAPANGAN)])
def test_verifying_sets_the_answer_deadline(lapangan, days):
    changes = follow_up({"status": "diterima"}, "diverifikasi", None, NOW, lapangan=lapangan)
    batas = add_working_days(NOW, days)
    assert changes == {"status": "diverifikasi", "batas_jawaban": batas, "terbuka": True, "tenggat_berikut": batas}


def test_answer_deadline_in_days():
    assert (HARI_JAWABAN, HARI_JAWABAN_LAPANGAN) == (5, 14)
    assert follow_up({"status": "diterima"}, "diverifikasi", None, NOW)["batas_jawaban"] == utc(2026, 12, 11, 17, 0)
    assert follow_up({"status": "diterima"}, "diverifikasi", None, NOW, lapangan=True)["batas_jawaban"] \
        == utc(2026, 12, 24, 17, 0)


def test_answer_deadline_honours_holidays():
    changes = follow_up({"status": "diterima"}, "diverifikasi", None, NOW, frozenset({date(2026, 12, 7)}))
    assert changes["batas_jawaban"] == utc(2026, 12, 14, 17, 0)


# breach

DEADLINE = utc(2026, 12, 9, 17, 0)
BEFORE, AFTER = DEADLINE - timedelta(seconds=1), DEADLINE + timedelta(days=1)


def aspirasi(status, **deadlines):
    return {"status": status, "batas_verifikasi": DEADLINE, **deadlines}


@pytest.mark.parametrize("now", [DEADLINE, AFTER])
def test_unverified_past_its_deadline_is_a_breach(now):
    assert breach(aspirasi("diterima"), now) == "verifikasi"


@pytest.mark.parametrize("status", ["diverifikasi", "diproses"])
@pytest.mark.parametrize("now", [DEADLINE, AFTER])
def test_unanswered_past_its_deadline_is_a_breach(status, now):
    assert breach(aspirasi(status, batas_jawaban=DEADLINE), now) == "jawaban"


@pytest.mark.parametrize("record", [
    aspirasi("diterima"),                                  # before the deadline
    aspirasi("diverifikasi", batas_jawaban=DEADLINE),
    aspirasi("diproses", batas_jawaban=DEADLINE),
], ids=["diterima", "diverifikasi", "diproses"])
def test_no_breach_before_the_deadline(record):
    assert breach(record, BEFORE) is None


@pytest.mark.parametrize("record", [
    aspirasi("selesai", batas_jawaban=DEADLINE),
    aspirasi("ditolak", batas_jawaban=DEADLINE),
    aspirasi("ditolak"),
    aspirasi("diverifikasi"),                              # no batas_jawaban: nothing to miss yet
    aspirasi("diproses", batas_jawaban=None),
], ids=["selesai", "ditolak-after-verification", "ditolak", "diverifikasi-without-deadline",
        "diproses-null-deadline"])
def test_no_breach_in_final_states_or_without_answer_deadline(record):
    assert breach(record, AFTER) is None


def test_verified_aspiration_is_not_late_for_verification():
    record = aspirasi("diverifikasi", batas_jawaban=AFTER + timedelta(days=1))
    assert breach(record, AFTER) is None


# new_ticket

def test_ticket_format():
    assert re.fullmatch(f"ASP-[{TICKET_ALPHABET}]{{10}}", new_ticket())
    assert not set("01OI") & set(TICKET_ALPHABET)


def test_tickets_do_not_repeat():
    tickets = {new_ticket() for _ in range(1000)}
    assert len(tickets) == 1000
    assert all(re.fullmatch(f"ASP-[{TICKET_ALPHABET}]{{10}}", ticket) for ticket in tickets)


# parse_holidays

@pytest.mark.parametrize("text, expected", [
    ("2025-12-25,2026-01-01", {date(2025, 12, 25), date(2026, 1, 1)}),
    (" 2025-12-25 , ,2026-01-01,", {date(2025, 12, 25), date(2026, 1, 1)}),
    ("2026-12-07", {date(2026, 12, 7)}),
    ("2026-12-07,2026-12-07", {date(2026, 12, 7)}),
    ("", set()),
    (" , ,", set()),
    (None, set()),
])
def test_parse_holidays(text, expected):
    holidays = parse_holidays(text)
    assert isinstance(holidays, frozenset)
    assert holidays == expected


def test_parse_holidays_refuses_a_bad_date():
    with pytest.raises(ValueError):
        parse_holidays("2026-12-07,25-12-2026")


# Survey codes and the summary

def test_survey_codes_cover_the_larger_count_and_are_distinct():
    assert len(survey_codes(40, 12)) == 40
    assert len(survey_codes(3, 7)) == 7
    assert len(survey_codes(10**6, 0)) == MAX_KODE_SURVEI
    codes = survey_codes(500, 0)
    assert len(set(codes)) == 500 and all(len(code) == 8 for code in codes)


def test_a_period_is_whole_days_in_jakarta_time():
    start, end = period_bounds("2027-03-01", "2027-03-31")
    assert start == datetime(2027, 2, 28, 17, tzinfo=timezone.utc)
    assert end == datetime(2027, 3, 31, 17, tzinfo=timezone.utc)


def test_summary_from_grouped_counts():
    result = summary(
        [("dialog", "selesai", 2), ("dialog", "dibatalkan", 1), ("penyuluhan", "direncanakan", 4)],
        [("masyarakat", 30), ("polri", 5)],
        {"diterima": 10, "diselesaikan": 8, "tepat_waktu": 6, "terlambat": 3},
        {"jumlah": 4, "kepercayaan_total": 17, "kepuasan_total": 14},
    )
    assert result["kegiatan"]["jumlah"] == 7
    assert result["kegiatan"]["per_jenis"]["dialog"] == 3 and result["kegiatan"]["per_jenis"]["bantuan_sosial"] == 0
    assert result["kegiatan"]["per_status"] == {"direncanakan": 4, "berlangsung": 0, "selesai": 2, "dibatalkan": 1}
    assert result["peserta"]["jumlah"] == 35 and result["peserta"]["per_unsur"]["tokoh_adat"] == 0
    assert result["aspirasi"]["persen_tepat_waktu"] == 75.0
    assert result["survei"] == {"jumlah_jawaban": 4, "rata_kepercayaan": 4.25, "rata_kepuasan": 3.5}


def test_an_empty_summary_has_no_averages():
    result = summary([], [], {"diterima": 0, "diselesaikan": 0, "tepat_waktu": 0, "terlambat": 0},
                     {"jumlah": 0, "kepercayaan_total": 0, "kepuasan_total": 0})
    assert result["aspirasi"]["persen_tepat_waktu"] is None
    assert result["survei"]["rata_kepercayaan"] is None and result["kegiatan"]["jumlah"] == 0
