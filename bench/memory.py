"""Resident memory (VmRSS) of each service process and gateway worker, idle and at its peak
under load, beside a bare Nameko service (bench/echo_service.py, run by the same runner) idle
and at its peak under the RPC echo load. Goal: at most 1.5x.

The platform's load is mixed so that every service works: wrk at 32 connections in all, spread
over `GET /units/{id}` (organisasi), `POST /kegiatan` (kegiatan and organisasi; its events reach
notifikasi), `GET /bantuan/program` (bantuan) and `GET /notifikasi` (notifikasi)."""
import statistics
import threading

from bench import rpc_load, wrk
from bench.report import compare
from bench.runs import alternate
from services.stack import stop

SAMPLE_SECONDS = 0.2


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Peaks:
    """The highest RSS of each process ({label: pid}) while the block runs."""

    def __init__(self, pids):
        self.pids = pids
        self.peak = {label: 0.0 for label in pids}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_done)

    def _sample(self):
        for label, pid in self.pids.items():
            self.peak[label] = max(self.peak[label], rss_mib(pid))

    def _sample_until_done(self):
        while not self._done.wait(SAMPLE_SECONDS):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()
        self._sample()


def mixed_load(platform, settings, body):
    unit = platform.unit()["id"]
    api = f"{platform.base}/api/v1"
    targets = [(f"{api}/units/{unit}", None), (f"{api}/kegiatan", body), (f"{api}/bantuan/program", None),
               (f"{api}/notifikasi", None)]
    loads = [wrk.start(url, settings.seconds, settings.connections // len(targets), platform.headers, payload)
             for url, payload in targets]
    for load in loads:
        wrk.result(load)


def measure(platform, settings):
    body = platform.kegiatan_body()
    pids = platform.pids()
    idle = {label: rss_mib(pid) for label, pid in pids.items()}
    echo = rpc_load.start_echo(platform)
    try:
        bare_idle = rss_mib(echo.pid)

        def bare_loaded():
            with Peaks({"echo": echo.pid}) as peaks:
                rpc_load.run(platform, settings.seconds, settings.connections, body)
            return peaks.peak["echo"]

        def platform_loaded():
            with Peaks(pids) as peaks:
                mixed_load(platform, settings, body)
            return peaks.peak

        bare_peaks, platform_peaks = alternate("memory under load", settings.runs, bare_loaded, platform_loaded)
    finally:
        stop([echo])
    bare_peak = statistics.median(bare_peaks)
    rows = []
    for label in pids:
        rows.append(compare(f"RSS of {label}, idle", idle[label], bare_idle, "MiB", "bare Nameko service",
                            at_most=1.5))
        rows.append(compare(f"RSS of {label}, under load", statistics.median(peak[label] for peak in platform_peaks),
                            bare_peak, "MiB", "bare Nameko service", at_most=1.5))
    return rows
