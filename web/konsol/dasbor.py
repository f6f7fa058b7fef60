"""The dashboard the console opens on (/konsol): what leaders read of an area and a period, from
the summary of activities (`GET /rekap/kegiatan`) broken down by month and by the areas one
level below. Read only: nothing on it changes anything, so every role sees all of it.

Each trend is a table (the figures, and the accessible alternative) that a uPlot chart is
drawn from (web/static/src/konsol-dasbor.js); the per-area table sorts client-side and has a
bar chart drawn by the server, so that both work without JavaScript. "Unduh CSV" and "Unduh
Excel" hand over the API's own exports of the same summaries, streamed through."""
import calendar
from datetime import date
from typing import NamedTuple

from flask import request

from services.common.waktu import BULAN
from web.gateway import Problem
from web.konsol.formulir import form_errors, page, wilayah
from web.konsol.sesi import akun, blp, call, passed_on, send
from web.pages import today

REKAP = "/api/v1/rekap/kegiatan"
MONTHS = 12  # the period a dashboard opens on: this month and the eleven before it
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BY_MONTH, BY_AREA = "bulan", "wilayah"
# The API's names of what the period form asks for, where they differ from the form's.
FORM_FIELD = {"rinci": "dari", "kode_wilayah": "wilayah"}
NOT_A_MONTH = "Pilih bulan (TTTT-BB, misalnya 2026-03)."


class Column(NamedTuple):
    """A figure of a summary's row: its heading, where it is in the row, how it is written."""
    judul: str
    path: tuple
    digits: int = 0
    unit: str = ""

    def value(self, row):
        for key in self.path:
            row = row[key]
        return row


KEGIATAN = Column("Kegiatan", ("kegiatan", "jumlah"))
SELESAI = Column("Selesai", ("kegiatan", "per_status", "selesai"))
PESERTA = Column("Peserta", ("peserta", "jumlah"))
DITERIMA = Column("Diterima", ("aspirasi", "diterima"))
DISELESAIKAN = Column("Diselesaikan", ("aspirasi", "diselesaikan"))
TEPAT_WAKTU = Column("Tepat waktu", ("aspirasi", "tepat_waktu"))
PERSEN_TEPAT = Column("Aspirasi tepat waktu (%)", ("aspirasi", "persen_tepat_waktu"), unit="%")
JAWABAN = Column("Jawaban survei", ("survei", "jumlah_jawaban"))
# "(1–5)" never broken after its dash: U+2060 joins it to the 5.
KEPERCAYAAN = Column("Kepercayaan (1–\u20605)", ("survei", "rata_kepercayaan"), 2)
KEPUASAN = Column("Kepuasan (1–\u20605)", ("survei", "rata_kepuasan"), 2)


class Trend(NamedTuple):
    """A monthly table with the chart drawn from it: `charted` on the left axis, `right` on an
    axis of its own (another unit), `range` the left axis's fixed bounds."""
    id: str
    judul: str
    columns: tuple
    charted: tuple
    right: Column = None
    range: tuple = None


TRENDS = (Trend("tren-kegiatan", "Kegiatan dan peserta", (KEGIATAN, SELESAI, PESERTA), (KEGIATAN,), PESERTA),
          Trend("tren-aspirasi", "Aspirasi dijawab tepat waktu", (DITERIMA, DISELESAIKAN, TEPAT_WAKTU, PERSEN_TEPAT),
                (PERSEN_TEPAT,), range=(0, 100)),
          Trend("tren-indeks", "Indeks kepercayaan dan kepuasan", (JAWABAN, KEPERCAYAAN, KEPUASAN),
                (KEPERCAYAAN, KEPUASAN), range=(1, 5)))
PER_AREA = (KEGIATAN, PESERTA, PERSEN_TEPAT, JAWABAN, KEPERCAYAAN, KEPUASAN)
BARS = KEGIATAN  # what the per-area bars show until the table is sorted by another figure


def month_name(bulan, short=False):
    """'2026-03' -> 'Maret 2026' ('Mar 2026' when short)."""
    year, month = bulan.split("-")
    name = BULAN[int(month) - 1]
    return f"{name[:3] if short else name} {year}"


def chosen_area():
    """(code, name) of the area asked for (`wilayah`), by default the person's own; None for
    national. The gateway refuses an area the person does not cover (403)."""
    own = akun()["wilayah"] or None
    kode = request.args.get("wilayah", "").strip() or own
    if kode is None:
        return None, "Nasional"
    area = wilayah().get(kode)
    if area is None:
        raise Problem(404, {"detail": f"Wilayah {kode} tidak ada dalam daftar wilayah."})
    return kode, area["nama"]


def choices(kode, nama):
    """The areas the period form offers: the person's own, those one level below it, and the one
    shown when it is neither (reached from a per-area table further down)."""
    mine = akun()
    own = mine["wilayah"] or None
    below = wilayah().children(own) if has_areas_below(own) else []
    listed = [(own or "", mine["nama_wilayah"]), *((area["kode"], area["nama"]) for area in below)]
    return listed if any(code == (kode or "") for code, _ in listed) else [*listed, (kode or "", nama)]


def has_areas_below(kode):
    return kode is None or kode.count(".") < 3  # a village has none


def first_of(text):
    """'2026-03' -> date(2026, 3, 1); None when it is no month."""
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        return None


def period():
    """(dari, sampai, errors): the first days of the months asked for (by default the last MONTHS
    up to this one) and the form's errors by field."""
    this = today().replace(day=1)
    back = this.year * 12 + this.month - MONTHS
    months = {"dari": date(back // 12, back % 12 + 1, 1), "sampai": this}
    errors = {}
    for name in months:
        text = request.args.get(name, "").strip()
        if text:
            months[name] = first_of(text)
            if months[name] is None:
                errors[name] = [NOT_A_MONTH]
    if not errors and months["sampai"] < months["dari"]:
        errors["sampai"] = ["Bulan akhir tidak boleh sebelum bulan awal."]
    return months["dari"], months["sampai"], errors


def rekap_params(kode, dari, sampai, rinci):
    """The summary's query: whole months, from the first day of `dari` to the last of `sampai`."""
    last = sampai.replace(day=calendar.monthrange(sampai.year, sampai.month)[1])
    params = {"dari": dari.isoformat(), "sampai": last.isoformat(), "rinci": rinci}
    return {**params, "kode_wilayah": kode} if kode else params


def bars(rows, column):
    """Each row's bar, as a share (0-100) of the largest value of `column`."""
    top = max((column.value(row) or 0 for row in rows), default=0)
    return [round(100 * (column.value(row) or 0) / top, 1) if top else 0 for row in rows]


@blp.get("")
def beranda():
    kode, nama = chosen_area()
    dari, sampai, errors = period()
    monthly = by_area = None
    if not errors:
        try:
            monthly = call("GET", REKAP, params=rekap_params(kode, dari, sampai, BY_MONTH))
            if has_areas_below(kode):
                by_area = call("GET", REKAP, params=rekap_params(kode, dari, sampai, BY_AREA))["rincian"]
        except Problem as problem:
            if problem.status != 400:
                raise
            errors = {FORM_FIELD.get(name, name): texts for name, texts in form_errors(problem, "dari").items()}
    names = wilayah().names_below(kode) if by_area else {}
    return page(
        "beranda", 400 if errors else 200, kode=kode, nama=nama, choices=choices(kode, nama), errors=errors,
        dari=request.args.get("dari") or dari.isoformat()[:7],
        sampai=request.args.get("sampai") or sampai.isoformat()[:7],
        monthly=monthly, by_area=by_area, names=names, bars=bars(by_area or [], BARS), trends=TRENDS,
        per_area=PER_AREA, bars_of=BARS, month_name=month_name)


@blp.get("/unduh")
def beranda_unduh():
    """The API's export (`format` csv or xlsx) of the summary the dashboard shows (`rinci`
    bulan or wilayah), streamed through with the API's own type and file name."""
    media, rinci = FORMATS.get(request.args.get("format")), request.args.get("rinci")
    if media is None or rinci not in (BY_MONTH, BY_AREA):
        raise Problem(404, {"detail": "Tidak ada unduhan seperti itu."})
    kode, _ = chosen_area()
    dari, sampai, errors = period()
    if errors:
        raise Problem(400, {"detail": " ".join(text for texts in errors.values() for text in texts)})
    return passed_on(send("GET", REKAP, params=rekap_params(kode, dari, sampai, rinci), headers={"Accept": media},
                          stream=True))
