"""`make bench`: start the platform, measure each figure beside its baseline in the same run,
print the table and write it, with the date and the machine, into docs/benchmarks.md.

    python -m bench [--seconds 10] [--runs 3] [--rate 20] [--only read,write] [--no-docs]

BENCH_SECONDS and BENCH_RUNS set the defaults of --seconds and --runs. A run with --only
(or --no-docs) prints its table and leaves docs/benchmarks.md alone.
"""
import argparse
import logging
import os
import sys
from dataclasses import dataclass

from bench import events, imports, memory, read, web, write
from bench.report import results, table, write_results
from bench.stack import ROOT, Platform

CONNECTIONS = 32
# In this order: the area list comes first (the other figures need it), memory while the
# services are fresh, and the recipient import, which leaves bantuan holding its memory, last.
FIGURES = {"wilayah": imports.measure_wilayah, "memory": memory.measure, "read": read.measure,
           "write": write.measure, "events": events.measure, "web": web.measure,
           "penerima": imports.measure_penerima}


@dataclass(frozen=True)
class Settings:
    seconds: int
    runs: int
    rate: int  # writes per second for the event latency
    connections: int = CONNECTIONS


def method(settings, names, load_before):
    return (f"Method: {settings.runs} runs of each figure and of its baseline, taken in turn; medians quoted. "
            f"HTTP loads from wrk ({settings.connections} connections, {settings.seconds} s a run); the RPC echo "
            f"from the gateway's RpcClient ({settings.connections} calls in flight over as many processes as "
            f"gateway workers); event latency at a steady {settings.rate} writes/s; Lighthouse {settings.runs} times "
            f"on each page, medians against the budgets. Figures: {', '.join(names)}. "
            f"Load average of the machine before the run: {load_before:.2f} (what else was running).")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)),
                        help="length of each load run (default 10, or BENCH_SECONDS)")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)),
                        help="runs of each figure and baseline (default 3, or BENCH_RUNS)")
    parser.add_argument("--rate", type=int, default=20, help="writes per second for the event latency (default 20)")
    parser.add_argument("--only", type=lambda text: text.split(","), metavar="NAMES",
                        help=f"only these figures, comma separated: {','.join(FIGURES)}")
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    args = parser.parse_args()
    names = args.only or list(FIGURES)
    unknown = set(names) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    # Progress of the bench (and of the launcher it borrows); not the chatter of pika and the like.
    logging.basicConfig(level=logging.WARNING, format="[bench] %(message)s", stream=sys.stderr)
    for name in ("bench", "bkpm.stack"):
        logging.getLogger(name).setLevel(logging.INFO)
    settings = Settings(seconds=args.seconds, runs=args.runs, rate=args.rate)
    load_before = os.getloadavg()[0]

    rows = []
    with Platform() as platform:
        for name in (name for name in FIGURES if name in names):
            logging.getLogger("bench").info("measuring %s", name)
            rows += FIGURES[name](platform, settings)
    print(table(rows))
    if not (args.only or args.no_docs):
        write_results(ROOT / "docs" / "benchmarks.md", results(rows, method(settings, names, load_before)))


if __name__ == "__main__":
    main()
