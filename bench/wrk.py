"""HTTP load from wrk, a separate process in C (light on the two cores the platform needs):
a number of connections for a number of seconds, measured by bench/report.lua."""
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("report.lua")


@dataclass
class Load:
    rps: float  # answered with 2xx, per second
    p50_ms: float
    p99_ms: float
    failed: int  # socket errors, timeouts and non-2xx answers


def start(url, seconds, connections, headers=None, body=None):
    """wrk running in the background; `body` (JSON text) makes the requests POSTs."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk); `make bench` installs it")
    args = [wrk, f"-t{min(os.cpu_count(), connections)}", f"-c{connections}", f"-d{seconds}s",
            "--timeout", "10s", "-s", str(SCRIPT)]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    env = {**os.environ, "WRK_BODY": body} if body else None
    return subprocess.Popen([*args, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def result(process):
    out, err = process.communicate()
    line = next((line for line in out.splitlines() if line.startswith("BENCH ")), None)
    if process.returncode or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err or out}")
    report = json.loads(line.removeprefix("BENCH "))
    failed = report["errors"] + report["non_2xx"]
    return Load(rps=(report["requests"] - report["non_2xx"]) / (report["duration_us"] / 1e6),
                p50_ms=report["p50_us"] / 1000, p99_ms=report["p99_us"] / 1000, failed=failed)


def run(url, seconds, connections, headers=None, body=None):
    return result(start(url, seconds, connections, headers, body))


def failures(loads):
    """What to say after a figure about its failed requests: nothing, usually."""
    failed = sum(load.failed for load in loads)
    return f" ({failed:,} failed)" if failed else ""
