"""The area reference as the pages need it: the areas one level down (the cascading picker, an
index's rows), one area with the areas above it (a page's heading), and what a visitor typed
into an area field, a code or a name, made a code. Lists and single areas are kept in this
worker's memory for an hour, as long as the gateway lets browsers keep them: the reference
changes by decree, a few times a year."""
import re
import threading
import time
from collections import OrderedDict

from services.common.access import KODE_WILAYAH_PATTERN
from web.gateway import Problem

CACHE_SECONDS = 3600
# Every list of areas below a district is a few dozen names: a few thousand entries are the
# areas people actually look at, not the whole reference.
CACHE_ENTRIES = 4096
MIN_NAME_LENGTH = 3


class _Memory:
    """At most `entries` answers, each for `seconds`, the least recently used forgotten first."""

    def __init__(self, seconds, entries):
        self.seconds, self.entries = seconds, entries
        self._answers = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, load):
        now = time.monotonic()
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None and kept[0] > now:
                self._answers.move_to_end(key)
                return kept[1]
        value = load()  # outside the lock: a slow gateway must not hold every other thread up
        with self._lock:
            self._answers[key] = (now + self.seconds, value)
            self._answers.move_to_end(key)
            while len(self._answers) > self.entries:
                self._answers.popitem(last=False)
        return value


class Resolved:
    """What an area field said: a `kode`, several `candidates` to choose from, or an `error`."""

    def __init__(self, kode=None, candidates=(), error=None):
        self.kode, self.candidates, self.error = kode, list(candidates), error


def label(area):
    """'Tembalang, Kota Semarang, Jawa Tengah': the area and those above it, nearest first."""
    return ", ".join([area["nama"], *(parent["nama"] for parent in reversed(area.get("induk") or []))])


class AreaReference:
    def __init__(self, gateway, seconds=CACHE_SECONDS, entries=CACHE_ENTRIES):
        self.gateway = gateway
        self._memory = _Memory(seconds, entries)

    def children(self, induk=None):
        """The current areas one level below `induk` (None: the provinces)."""
        params = {"induk": induk} if induk else {}
        return self._memory.get(("anak", induk), lambda: self.gateway.get("/api/v1/wilayah", **params)["items"])

    def get(self, kode):
        """One area with those above it, or None when the reference does not list `kode`."""
        def load():
            try:
                return self.gateway.get(f"/api/v1/wilayah/{kode}")
            except Problem as problem:
                if problem.status in (400, 404):
                    return None
                raise
        if not re.fullmatch(KODE_WILAYAH_PATTERN, kode or ""):
            return None
        return self._memory.get(("satu", kode), load)

    def names_below(self, induk):
        return {area["kode"]: area["nama"] for area in self.children(induk)}

    def resolve(self, text):
        """A code or a name, as typed, made an area: a listed code is taken as it is; a name is
        looked up (`/api/v1/wilayah?q=`), one match taken, several offered to choose from (even
        when one is named exactly so: "Makassar" is a city as much as its district)."""
        text = " ".join((text or "").split())
        if not text:
            return Resolved(error="Pilih atau ketik wilayah.")
        if re.fullmatch(r"[0-9.]+", text):
            area = self.get(text)
            if area is None or not area["aktif"]:
                return Resolved(error=f"Kode wilayah {text} tidak ada dalam daftar wilayah yang berlaku.")
            return Resolved(kode=area["kode"])
        if len(text) < MIN_NAME_LENGTH:
            return Resolved(error=f"Ketik paling sedikit {MIN_NAME_LENGTH} huruf nama wilayah, atau kodenya.")
        try:
            found = self.gateway.get("/api/v1/wilayah", q=text)["items"]
        except Problem as problem:
            if problem.status != 400:
                raise
            return Resolved(error=" ".join(problem.errors.get("q", [])) or problem.detail)
        if len(found) == 1:
            return Resolved(kode=found[0]["kode"])
        if not found:
            return Resolved(error=f"Tidak ada wilayah bernama \u201c{text}\u201d. Periksa ejaannya atau ketik kodenya.")
        return Resolved(candidates=[{"kode": area["kode"], "label": label(area)} for area in found])
