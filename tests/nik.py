"""Valid identity numbers for tests, built by the rules of the brief (not taken from anyone)."""
from datetime import date


def make_nik(born=date(1990, 6, 5), female=False, region="327301", sequence=1):
    day = born.day + (40 if female else 0)
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{sequence:04d}"


def make_kk(n):
    return f"3273{n:012d}"


def recipient(n, village="32.73.01.1001", **fields):
    born = date(1970 + n % 40, 1 + n % 12, 1 + n % 28)
    female = n % 2 == 1
    return {"nik": make_nik(born, female, sequence=1 + n % 9999), "no_kk": make_kk(n), "nama": f"Penerima {n}",
            "jenis_kelamin": "P" if female else "L", "tanggal_lahir": born.isoformat(), "kode_wilayah": village,
            "alamat": f"Jl. Contoh No. {n}", **fields}
