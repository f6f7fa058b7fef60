"""The table (each figure beside its baseline from the same run, the ratio and the goal), the
machine it ran on, and the results section of docs/benchmarks.md."""
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata

from bench.stack import ROOT, rabbitmqctl

START, END = "<!-- bench:results -->", "<!-- /bench:results -->"


@dataclass
class Row:
    figure: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None  # None: shown for context, no goal of its own


def number(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def compare(figure, measured, baseline, unit, baseline_name, at_least=None, at_most=None, note=""):
    """A row whose goal is the ratio measured / baseline: at least (throughput) or at most
    (memory); neither for a ratio shown for context. `note` follows the measured value."""
    ratio = measured / baseline
    goal, met = "", None
    if at_least is not None:
        goal, met = f">= {at_least:.2f}x", ratio >= at_least
    elif at_most is not None:
        goal, met = f"<= {at_most:.1f}x", ratio <= at_most
    return Row(figure, f"{number(measured)} {unit}{note}", f"{baseline_name}: {number(baseline)} {unit}",
               f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x", goal, met)


def bound(figure, measured, value, most, unit, baseline="", what=""):
    """A row whose goal is an absolute bound: `value` (`what`, e.g. p99) at most `most` `unit`."""
    return Row(figure, measured, baseline, "", f"{what} <= {most:g} {unit}".strip(), value <= most)


def table(rows):
    lines = ["| figure | measured | baseline (same run) | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {row.figure} | {row.measured} | {row.baseline} | {row.ratio} | {row.goal} | {met} |")
    return "\n".join(lines)


def machine():
    """What the figures depend on: the machine and the versions of what serves the platform."""
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read(), re.MULTILINE)
    with open("/proc/meminfo") as meminfo:
        memory_kib = int(re.search(r"^MemTotal:\s*(\d+)", meminfo.read(), re.MULTILINE).group(1))
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()
    return (f"{os.cpu_count()} cores ({cpu.group(1) if cpu else 'unknown CPU'}), {memory_kib / 2**20:.1f} GiB RAM, "
            f"Linux {platform.release()}; Python {platform.python_version()}, RabbitMQ {rabbitmqctl('version')}, "
            f"SecantusDB {metadata.version('SecantusDB')}, wrk {wrk[1] if len(wrk) > 1 else 'unknown'}")


def code():
    """The commit measured, and whether the code under test differed from it."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()
    changed = git("status", "--porcelain", "--", "services", "gateway")
    return f"commit {git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes to it" if changed else "")


def results(rows, method):
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Run of {date}, {code()}, on {machine()}.\n\n{method}\n\n{table(rows)}\n"


def write_results(path, text):
    """Replace the results section of the page (between its markers), keeping the rest, which
    is written by hand; a page without the markers gets the section at its end."""
    page = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"{START}\n{text}{END}"
    if START in page and END in page:
        page = page[:page.index(START)] + section + page[page.index(END) + len(END):]
    else:
        page = f"{page.rstrip()}\n\n{section}\n"
    path.write_text(page)
