"""Imports, beside raw `insert_many` of the same documents into the same database: into an empty
twin collection with the same indexes, so that the ratio shows what the import adds to the
database's own work.
- the official area list (91,599 rows) with `bkpm wilayah import`, as a user runs it: at least
  0.80x, and under 30 s;
- a recipient CSV of 100,000 valid rows in one `POST /api/v1/bantuan/penerima/impor`, timed
  until its job (`GET /api/v1/jobs/{id}`) is done: at least 0.50x."""
import csv
import io
import time
from dataclasses import dataclass
from datetime import date

import requests

from bench.report import Row, bound, compare
from bench.runs import alternate, median
from bench.stack import WILAYAH_CSV, reset_collection
from services.bantuan.repository import PENERIMA, BantuanRepository
from services.common.mongo import new_id, utcnow
from services.organisasi.repository import WILAYAH, OrganisasiRepository

PENERIMA_ROWS = 100_000
# The villages recipients live in: this many, spread over the whole list.
VILLAGES = 1_000
# How often the import's job is asked whether it is done.
JOB_POLL_SECONDS = 0.2
PENERIMA_COLUMNS = ("nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_wilayah", "alamat", "telepon")


@dataclass
class Timing:
    seconds: float
    rows_per_second: float


def timing(rows, seconds):
    return Timing(seconds, rows / seconds)


def raw_insert(db, collection, indexes, documents):
    """Seconds to insert_many `documents` into an empty twin of `collection`."""
    twin = f"bench_{collection}"
    reset_collection(db, twin, indexes)
    start = time.perf_counter()
    db[twin].insert_many(documents, ordered=False)
    return time.perf_counter() - start


def read_wilayah():
    with open(WILAYAH_CSV, encoding="utf-8-sig", newline="") as lines:
        return [(row["kode"], row["nama"]) for row in csv.DictReader(lines)]


def measure_wilayah(platform, settings):
    areas = read_wilayah()
    stamp = utcnow()
    # What the import writes for a new code (OrganisasiRepository.apply_wilayah_plan).
    documents = [{"_id": kode, "nama": nama, "aktif": True, "diperbarui": stamp} for kode, nama in areas]
    db, indexes = platform.db("organisasi"), OrganisasiRepository.INDEXES[WILAYAH]
    raws, imports = alternate(
        "area list import", settings.runs,
        lambda: timing(len(areas), raw_insert(db, WILAYAH, indexes, documents)),
        lambda: timing(len(areas), platform.import_wilayah()))
    figure = f"area list import ({len(areas):,} rows, `bkpm wilayah import`)"
    return [
        compare(f"{figure}: rows/s", median(imports, "rows_per_second"), median(raws, "rows_per_second"), "rows/s",
                "insert_many", at_least=0.80),
        bound(f"{figure}: time", f"{median(imports, 'seconds'):.1f} s", median(imports, "seconds"), 30, "s",
              f"insert_many: {median(raws, 'seconds'):.1f} s"),
    ]


def penerima_rows(count):
    """`count` valid recipients, as an operator's file would hold them: NIKs issued in the
    district of their village, born on the date the NIK says (women: day + 40), unique by
    (birth year, sequence); four to a household (No. KK)."""
    villages = [kode for kode, _ in read_wilayah() if kode.count(".") == 3]
    villages = villages[::len(villages) // VILLAGES][:VILLAGES]
    rows = []
    for n in range(count):
        village = villages[n % len(villages)]
        district = village.rsplit(".", 1)[0].replace(".", "")
        female = n % 2 == 1
        born = date(1960 + n // 9999, 1 + n % 12, 1 + n % 28)
        nik = f"{district}{born.day + 40 * female:02d}{born.month:02d}{born.year % 100:02d}{1 + n % 9999:04d}"
        rows.append({"nik": nik, "no_kk": f"{district}{n // 4:010d}", "nama": f"Penerima {n}",
                     "jenis_kelamin": "P" if female else "L", "tanggal_lahir": born.isoformat(),
                     "kode_wilayah": village, "alamat": f"Jl. Melati No. {1 + n % 200}", "telepon": f"0812{n:08d}"})
    return rows


def as_csv(rows):
    text = io.StringIO()
    writer = csv.DictWriter(text, PENERIMA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def measure_penerima(platform, settings):
    platform.load_reference()
    rows = penerima_rows(PENERIMA_ROWS)
    body = as_csv(rows)
    stamp = utcnow()
    # What the import writes for each row (BantuanRepository.insert_new_penerima).
    documents = [{"_id": new_id(), "telepon": None, "dicatat": stamp, **row, "dicatat_oleh": "bench"} for row in rows]
    db, indexes = platform.db("bantuan"), BantuanRepository.INDEXES[PENERIMA]

    def post_file():
        reset_collection(db, PENERIMA, indexes)  # every run imports new recipients
        start = time.perf_counter()
        response = requests.post(f"{platform.base}/api/v1/bantuan/penerima/impor", data=body, timeout=300,
                                 headers={**platform.headers, "Content-Type": "text/csv"})
        if response.status_code == 413:
            return None  # reported as such: the figure is one file, as an operator sends it
        if response.status_code != 202:
            raise RuntimeError(f"recipient import: {response.status_code} {response.text[:500]}")
        location, job = f"{platform.base}{response.headers['Location']}", response.json()
        while job["status"] in ("antri", "berjalan"):
            time.sleep(JOB_POLL_SECONDS)
            response = requests.get(location, headers=platform.headers, timeout=30)
            job = response.json()
        seconds = time.perf_counter() - start
        if job["status"] != "selesai" or job["ditambahkan"] != len(rows):
            raise RuntimeError(f"recipient import: {response.status_code} {response.text[:500]}")
        return timing(len(rows), seconds)

    raws, imports = alternate(
        "recipient CSV import", settings.runs,
        lambda: timing(len(rows), raw_insert(db, PENERIMA, indexes, documents)), post_file)
    figure = f"recipient CSV import ({len(rows):,} rows, {len(body) / 2**20:.1f} MiB, to its job's end)"
    if None in imports:
        return [Row(f"{figure}: rows/s", "refused: 413, the file is over the gateway's body limit",
                    f"insert_many: {median(raws, 'rows_per_second'):,.0f} rows/s", "", ">= 0.50x", False)]
    return [compare(f"{figure}: rows/s", median(imports, "rows_per_second"), median(raws, "rows_per_second"),
                    "rows/s", "insert_many", at_least=0.50, note=f" ({median(imports, 'seconds'):.1f} s)")]
