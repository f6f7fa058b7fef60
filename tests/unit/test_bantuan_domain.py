"""The bantuan domain rules, in plain Python: no broker, no database."""
import calendar
from datetime import date, timedelta
from typing import NamedTuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.bantuan.domain import (KODE_PROVINSI, PROGRAM_LIFECYCLE, STATUS_PROGRAM, _birth_date,
                                     check_distribution, check_penerima, exclusive_conflict, kk_problems,
                                     mask_number, nik_problems, periods_overlap, reaches)
from services.common.errors import Conflict, InvalidInput
from tests.nik import make_nik, recipient

FAST = settings(max_examples=200, deadline=None)
TODAY = date.today()
FIRST_BIRTH = date(1930, 1, 1)
PROVINCES = sorted(KODE_PROVINSI)
NOT_PROVINCES = [f"{n:02d}" for n in range(100) if f"{n:02d}" not in KODE_PROVINSI]
DIGITS = "0123456789"

# Each message names its rule by a phrase only that rule's message has.
MARKERS = {"panjang": "16 angka", "provinsi": "bukan kode provinsi", "tanggal": "bukan tanggal lahir yang valid",
           "urut": "tidak boleh 0000", "kelamin": "tidak sesuai jenis kelamin", "beda": "tidak sama dengan"}


def rules(problems):
    """The rule each message stands for, in order; every message must stand for exactly one."""
    assert isinstance(problems, list)
    found = []
    for message in problems:
        names = [name for name, marker in MARKERS.items() if marker in message]
        assert len(names) == 1, message
        found.append(names[0])
    return found


class Nik(NamedTuple):
    nik: str
    born: date
    jenis_kelamin: str

    @property
    def female(self):
        return self.jenis_kelamin == "P"

    def with_digits(self, start, digits):
        return self.nik[:start] + digits + self.nik[start + len(digits):]


BIRTH_DATES = st.dates(FIRST_BIRTH, TODAY)
# Without tanggal_lahir the century is the latest that is not in the future: a date is read back
# as itself when the same day a hundred years later is still to come.
UNAMBIGUOUS_DATES = st.dates(max(FIRST_BIRTH, date(TODAY.year - 99, 1, 1)), TODAY)


@st.composite
def niks(draw, dates=BIRTH_DATES):
    province = draw(st.sampled_from(PROVINCES))
    region = draw(st.integers(0, 9999))
    born = draw(dates)
    female = draw(st.booleans())
    sequence = draw(st.integers(1, 9999))
    return Nik(make_nik(born, female, f"{province}{region:04d}", sequence), born, "P" if female else "L")


def check(case, nik=None, give_born=True, give_gender=True):
    """nik_problems of `nik` (the case's own by default), told the case's birth date and gender or not."""
    return nik_problems(case.nik if nik is None else nik, case.born if give_born else None,
                        case.jenis_kelamin if give_gender else None)


# nik_problems: valid numbers pass

@FAST
@given(niks())
def test_valid_nik_passes_with_birth_date_and_gender(case):
    assert nik_problems(case.nik, case.born, case.jenis_kelamin) == []


@FAST
@given(niks(UNAMBIGUOUS_DATES), st.booleans())
def test_valid_nik_passes_without_birth_date(case, give_gender):
    assert check(case, give_born=False, give_gender=give_gender) == []


@FAST
@given(niks(), st.booleans(), st.booleans())
def test_valid_nik_passes_whatever_is_given(case, give_born, give_gender):
    assert check(case, give_born=give_born, give_gender=give_gender) == []


@pytest.mark.parametrize("nik, born, gender", [
    ("3273010506900001", date(1990, 6, 5), "L"),
    ("3273014506900001", date(1990, 6, 5), "P"),
    ("1101012902000001", date(2000, 2, 29), "L"),   # 2000 was a leap year
    ("9201017112299999", date(1929, 12, 31), "P"),  # 91/92: Papua before the 2022 split
    ("3171010101300001", date(1930, 1, 1), "L"),
])
def test_valid_nik_examples(nik, born, gender):
    assert nik_problems(nik, born, gender) == []
    assert nik_problems(nik) == []


def test_century_is_the_latest_not_in_the_future():
    tomorrow = TODAY + timedelta(days=1)
    assert _birth_date(5, 6, 90, None) == date(1990, 6, 5)
    assert _birth_date(TODAY.day, TODAY.month, TODAY.year % 100, None) == TODAY
    assert _birth_date(tomorrow.day, tomorrow.month, tomorrow.year % 100, None).year == tomorrow.year - 100
    assert _birth_date(5, 6, 30, date(2030, 1, 1)) == date(2030, 6, 5)  # told: the birth date's century


# nik_problems: each broken rule, its own message

@FAST
@given(niks(), st.data(), st.booleans(), st.booleans())
def test_wrong_length(case, data, give_born, give_gender):
    shorter = case.nik[:data.draw(st.integers(0, 15))]
    longer = case.nik + data.draw(st.text(DIGITS, min_size=1, max_size=8))
    for nik in (shorter, longer):
        assert rules(check(case, nik, give_born, give_gender)) == ["panjang"]


@pytest.mark.parametrize("nik", [None, "", "3273010506900001\n", " 3273010506900001", "3273-0105-0690-0001",
                                 "３２７３０１０５０６９０００１"])  # full-width digits are not 0-9
def test_not_sixteen_plain_digits(nik):
    assert nik_problems(nik) == ["NIK harus terdiri dari 16 angka."]


@FAST
@given(niks(), st.integers(0, 15), st.characters().filter(lambda c: c not in DIGITS), st.booleans(), st.booleans())
def test_non_digit_character(case, position, char, give_born, give_gender):
    nik = case.with_digits(position, char)
    assert len(nik) == 16
    assert rules(check(case, nik, give_born, give_gender)) == ["panjang"]


@FAST
@given(niks(), st.sampled_from(NOT_PROVINCES), st.booleans(), st.booleans())
def test_unknown_province(case, province, give_born, give_gender):
    problems = check(case, case.with_digits(0, province), give_born, give_gender)
    assert rules(problems) == ["provinsi"]
    assert f"({province})" in problems[0]


IMPOSSIBLE_DAYS = ["00", *map(str, range(32, 41)), *map(str, range(72, 100))]
IMPOSSIBLE_MONTHS = ["00", *map(str, range(13, 100))]


@FAST
@given(niks(), st.sampled_from(IMPOSSIBLE_DAYS), st.booleans(), st.booleans())
def test_impossible_day(case, day, give_born, give_gender):
    nik = case.with_digits(6, day)
    problems = check(case, nik, give_born, give_gender)
    assert rules(problems) == ["tanggal"]
    assert f"({nik[6:12]})" in problems[0]


@FAST
@given(niks(), st.sampled_from(IMPOSSIBLE_MONTHS), st.booleans(), st.booleans())
def test_impossible_month(case, month, give_born, give_gender):
    assert rules(check(case, case.with_digits(8, month), give_born, give_gender)) == ["tanggal"]


@FAST
@given(niks(), st.data(), st.booleans(), st.booleans())
def test_day_past_the_end_of_its_month(case, data, give_born, give_gender):
    """31 April, 30 February, 29 February of a common year: real-looking digits, no such day."""
    year = case.born.year
    month = data.draw(st.sampled_from([m for m in range(1, 13) if calendar.monthrange(year, m)[1] < 31]))
    day = data.draw(st.integers(calendar.monthrange(year, month)[1] + 1, 31)) + (40 if case.female else 0)
    nik = case.with_digits(6, f"{day:02d}{month:02d}")
    assert rules(check(case, nik, give_born, give_gender)) == ["tanggal"]


@pytest.mark.parametrize("digits", ["290201", "690201", "300296", "310496", "710496", "310699", "311100"])
def test_impossible_dates_examples(digits):
    nik = f"327301{digits}0001"
    assert rules(nik_problems(nik)) == ["tanggal"]


@FAST
@given(niks(), st.booleans(), st.booleans())
def test_sequence_0000(case, give_born, give_gender):
    assert rules(check(case, case.with_digits(12, "0000"), give_born, give_gender)) == ["urut"]


@FAST
@given(niks(), st.booleans())
def test_gender_given_against_the_nik(case, give_born):
    flipped = "L" if case.female else "P"
    problems = nik_problems(case.nik, case.born if give_born else None, flipped)
    assert rules(problems) == ["kelamin"]


@FAST
@given(niks(), st.booleans())
def test_nik_day_shifted_against_the_gender(case, give_born):
    day = case.born.day + (0 if case.female else 40)
    nik = case.with_digits(6, f"{day:02d}")
    assert rules(check(case, nik, give_born, True)) == ["kelamin"]


def nik_digits(born):
    return born.strftime("%d%m%y")


def leap_day_2000_told_1900s(case, other):
    """The case of the known bug (see test_leap_day_2000_with_a_birth_date_of_the_1900s)."""
    return (case.born.month, case.born.day, case.born.year) == (2, 29, 2000) and other.year // 100 != 20


@FAST
@given(niks(), BIRTH_DATES, st.booleans())
def test_different_birth_date(case, other, give_gender):
    assume(nik_digits(other) != nik_digits(case.born))
    assume(not leap_day_2000_told_1900s(case, other))
    problems = nik_problems(case.nik, other, case.jenis_kelamin if give_gender else None)
    assert rules(problems) == ["beda"]
    assert f"({other.isoformat()})" in problems[0]


def test_different_birth_date_example():
    nik = make_nik(date(1990, 6, 5), female=True)
    problems = nik_problems(nik, date(1990, 6, 6), "P")
    assert problems == ["Tanggal lahir pada NIK (1990-06-05) tidak sama dengan tanggal_lahir (1990-06-06)."]


@pytest.mark.parametrize("female", [False, True])
def test_leap_day_2000_with_a_birth_date_of_the_1900s(female):
    nik = make_nik(date(2000, 2, 29), female=female)
    assert nik_problems(nik) == []
    assert rules(nik_problems(nik, date(1999, 2, 28), "P" if female else "L")) == ["beda"]


@FAST
@given(niks(), BIRTH_DATES, st.sampled_from(NOT_PROVINCES))
def test_one_message_per_broken_rule(case, other, province):
    assume(nik_digits(other) != nik_digits(case.born))
    assume(not leap_day_2000_told_1900s(case, other))
    nik = case.with_digits(0, province)[:12] + "0000"
    flipped = "L" if case.female else "P"
    assert rules(nik_problems(nik, other, flipped)) == ["provinsi", "beda", "kelamin", "urut"]
    bad_date = case.with_digits(0, province)[:6] + "000000" + "0000"  # day, month and year 00
    assert rules(nik_problems(bad_date, other, flipped)) == ["provinsi", "tanggal", "urut"]


# kk_problems

@FAST
@given(st.from_regex(r"[0-9]{16}", fullmatch=True))
def test_kk_of_16_digits(no_kk):
    assert kk_problems(no_kk) == []


@FAST
@given(st.text().filter(lambda s: not (len(s) == 16 and all(c in DIGITS for c in s))))
def test_kk_anything_else(no_kk):
    assert kk_problems(no_kk) == ["No. KK harus terdiri dari 16 angka."]


@pytest.mark.parametrize("no_kk", [None, "", "327300000000001", "32730000000000001", "3273000000000001\n",
                                   "3273 00000000001", "327300000000000a"])
def test_kk_refused_examples(no_kk):
    assert kk_problems(no_kk) == ["No. KK harus terdiri dari 16 angka."]


# check_penerima

def invalid_fields(data):
    with pytest.raises(InvalidInput) as caught:
        check_penerima(data)
    assert caught.value.payload["code"] == "input_tidak_valid"
    return caught.value.payload["errors"]


@pytest.mark.parametrize("n", [0, 1, 7, 38])
def test_valid_recipient(n):
    assert check_penerima(recipient(n)) is None


def test_recipient_without_birth_date_is_checked_without_it():
    data = recipient(3)
    del data["tanggal_lahir"]
    assert check_penerima(data) is None


def test_recipient_with_bad_nik():
    errors = invalid_fields({**recipient(2), "nik": "12345"})
    assert errors == {"nik": ["NIK harus terdiri dari 16 angka."]}


def test_recipient_nik_against_birth_date_and_gender():
    data = recipient(2)  # a man
    errors = invalid_fields({**data, "jenis_kelamin": "P", "tanggal_lahir": "1955-01-01"})
    assert set(errors) == {"nik"}
    assert rules(errors["nik"]) == ["beda", "kelamin"]


def test_recipient_with_bad_kk():
    assert invalid_fields({**recipient(4), "no_kk": "3273-1"}) == {"no_kk": ["No. KK harus terdiri dari 16 angka."]}


def test_recipient_with_both_bad():
    data = recipient(5)
    errors = invalid_fields({**data, "nik": data["nik"][:12] + "0000", "no_kk": ""})
    assert set(errors) == {"nik", "no_kk"}
    assert rules(errors["nik"]) == ["urut"]


# mask_number

def test_mask_number():
    assert mask_number("3171234567890001") == "3171**********01"
    assert mask_number(None) is None
    assert mask_number("") == ""


@FAST
@given(st.from_regex(r"[0-9]{16}", fullmatch=True))
def test_mask_number_keeps_four_and_two(number):
    masked = mask_number(number)
    assert masked == number[:4] + "*" * 10 + number[-2:]


# PROGRAM_LIFECYCLE

ALLOWED = {("draf", "aktifkan"): ("aktif", "program.diaktifkan"), ("aktif", "tutup"): ("ditutup", "program.ditutup")}


@pytest.mark.parametrize("current, action", [(s, a) for s in STATUS_PROGRAM for a in PROGRAM_LIFECYCLE.steps])
def test_program_transitions(current, action):
    if (current, action) in ALLOWED:
        step = PROGRAM_LIFECYCLE.next(current, action)
        assert (step.target, step.event) == ALLOWED[(current, action)]
        return
    with pytest.raises(Conflict) as caught:
        PROGRAM_LIFECYCLE.next(current, action)
    payload = caught.value.payload
    assert payload["code"] == "transisi_tidak_sah"
    assert payload["status_program"] == current
    assert "errors" not in payload


@pytest.mark.parametrize("action", sorted(PROGRAM_LIFECYCLE.steps))
def test_program_transition_from_unknown_status(action):
    with pytest.raises(Conflict) as caught:
        PROGRAM_LIFECYCLE.next("dihapus", action)
    assert caught.value.payload["code"] == "transisi_tidak_sah"


@pytest.mark.parametrize("current, action, message", [
    ("aktif", "aktifkan", "Program berstatus 'aktif' tidak dapat diaktifkan."),
    ("draf", "tutup", "Program berstatus 'draf' tidak dapat ditutup."),
])
def test_program_transition_refusal_says_what_cannot_be_done(current, action, message):
    with pytest.raises(Conflict) as caught:
        PROGRAM_LIFECYCLE.next(current, action)
    assert caught.value.payload["detail"] == message


# reaches

@pytest.mark.parametrize("area, expected", [
    (None, True),              # national staff
    ("32.73", True),           # the target itself
    ("32", True),              # above a target
    ("32.73.01.1001", True),   # inside a target
    ("32.04", False),          # a neighbour
    ("33", False),
])
def test_a_program_reaches_areas_overlapping_a_target(area, expected):
    assert reaches({"wilayah_sasaran": ["31.71.01", "32.73"]}, area) is expected


# periods_overlap

def period(mulai, selesai, **fields):
    return {"mulai": mulai, "selesai": selesai, **fields}


PERIOD_DATES = st.dates(date(2025, 1, 1), date(2027, 12, 31))


@st.composite
def periods(draw):
    a, b = sorted([draw(PERIOD_DATES), draw(PERIOD_DATES)])
    return a, b


@FAST
@given(periods(), periods())
def test_periods_overlap_when_they_share_a_day(a, b):
    shared = set(range(a[0].toordinal(), a[1].toordinal() + 1)) & set(range(b[0].toordinal(), b[1].toordinal() + 1))
    first, second = (period(x.isoformat(), y.isoformat()) for x, y in (a, b))
    assert periods_overlap(first, second) is bool(shared)
    assert periods_overlap(second, first) is bool(shared)


@pytest.mark.parametrize("a, b, expected", [
    (("2026-01-01", "2026-06-30"), ("2026-06-30", "2026-12-31"), True),   # one day in common
    (("2026-01-01", "2026-06-29"), ("2026-06-30", "2026-12-31"), False),
    (("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-12-31"), True),   # one inside the other
    (("2026-05-05", "2026-05-05"), ("2026-05-05", "2026-05-05"), True),
])
def test_periods_overlap_examples(a, b, expected):
    assert periods_overlap(period(*a), period(*b)) is expected
    assert periods_overlap(period(*b), period(*a)) is expected


# exclusive_conflict

def program(pid, mulai="2026-01-01", selesai="2026-12-31", eksklusif=None, **fields):
    data = {"id": pid, "nama": f"Program {pid}", "status": "aktif", "mulai": mulai, "selesai": selesai,
            "wilayah_sasaran": ["32.73"], **fields}
    if eksklusif is not None:
        data["eksklusif_dengan"] = eksklusif
    return data


def test_exclusive_named_by_the_program():
    other = program("B", "2026-06-01", "2027-05-31")
    assert exclusive_conflict(program("A", eksklusif=["B"]), [other]) is other


def test_exclusive_named_by_the_other():
    other = program("B", eksklusif=["A"])
    assert exclusive_conflict(program("A"), [other]) is other
    assert exclusive_conflict(program("A", eksklusif=[]), [other]) is other


def test_exclusive_only_when_periods_overlap():
    earlier = program("B", "2025-01-01", "2025-12-31", eksklusif=["A"])
    later = program("C", "2027-01-01", "2027-12-31")
    assert exclusive_conflict(program("A", eksklusif=["C"]), [earlier, later]) is None
    touching = program("D", "2025-01-01", "2026-01-01")
    assert exclusive_conflict(program("A", eksklusif=["D"]), [touching]) is touching


def test_not_exclusive():
    others = [program("B"), program("C", eksklusif=["X"])]
    assert exclusive_conflict(program("A", eksklusif=["Y"]), others) is None
    assert exclusive_conflict(program("A"), []) is None


def test_never_exclusive_with_itself():
    itself = program("A", eksklusif=["A", "B"])
    assert exclusive_conflict(itself, [itself, program("A", eksklusif=["A"])]) is None
    other = program("B")
    assert exclusive_conflict(itself, [itself, other]) is other


def test_exclusive_returns_the_first():
    first, second = program("B", eksklusif=["A"]), program("C")
    assert exclusive_conflict(program("A", eksklusif=["C"]), [program("D"), first, second]) is first


@FAST
@given(periods(), periods(), st.sampled_from(["program", "other", "both", "neither"]))
def test_exclusive_conflict_property(a, b, who):
    this = program("A", a[0].isoformat(), a[1].isoformat(), eksklusif=["B"] if who in ("program", "both") else [])
    other = program("B", b[0].isoformat(), b[1].isoformat(), eksklusif=["A"] if who in ("other", "both") else [])
    expected = other if who != "neither" and periods_overlap(this, other) else None
    assert exclusive_conflict(this, [other]) is expected


# check_distribution

PENERIMA = {"id": "p-1", "kode_wilayah": "32.73.01.1001"}


@pytest.mark.parametrize("status", ["draf", "ditutup"])
def test_distribution_needs_an_active_program(status):
    with pytest.raises(Conflict) as caught:
        check_distribution(program("A", status=status), PENERIMA, "2026-05-01")
    assert caught.value.payload["code"] == "program_tidak_aktif"
    with pytest.raises(Conflict) as caught:  # status is checked before the date
        check_distribution(program("A", status=status), PENERIMA, "2030-01-01")
    assert caught.value.payload["code"] == "program_tidak_aktif"


@pytest.mark.parametrize("tanggal", ["2025-12-31", "2027-01-01", "2020-06-15"])
def test_distribution_outside_the_period(tanggal):
    with pytest.raises(InvalidInput) as caught:
        check_distribution(program("A"), PENERIMA, tanggal)
    assert set(caught.value.payload["errors"]) == {"tanggal"}


@pytest.mark.parametrize("tanggal", ["2026-01-01", "2026-07-15", "2026-12-31"])
def test_distribution_within_the_period(tanggal):
    assert check_distribution(program("A"), PENERIMA, tanggal) is None


@pytest.mark.parametrize("targets", [["32.73"], ["32"], ["32.73.01"], ["32.73.01.1001"], ["31.71", "32.73"]])
def test_distribution_inside_a_target_area(targets):
    assert check_distribution(program("A", wilayah_sasaran=targets), PENERIMA, "2026-05-01") is None


@pytest.mark.parametrize("targets", [["31.71"], ["32.7"], ["32.73.0"], ["32.73.02"], ["32.73.01.100"],
                                     ["32.73.01.10011"], ["31", "32.74"]])
def test_distribution_outside_every_target_area(targets):
    with pytest.raises(Conflict) as caught:
        check_distribution(program("A", wilayah_sasaran=targets), PENERIMA, "2026-05-01")
    assert caught.value.payload["code"] == "di_luar_wilayah_sasaran"
    assert "32.73.01.1001" in caught.value.payload["detail"]
