"""`POST /api/v1/kegiatan` at 32 connections (validated at the gateway, checked against
organisasi, committed with its event in one transaction), beside bare Nameko RPC echo calls of
the same body from the gateway's client model. Goal: at least 0.50x the echo's calls/s.

For context (no goal), the same calls of a bare Nameko method that commits the body and one
outbox-like document in one transaction: what the database alone adds to an echo."""
from bench import rpc_load, wrk
from bench.report import Row, compare
from bench.runs import alternate, median
from services.stack import stop


def measure(platform, settings):
    body = platform.kegiatan_body()
    echo = rpc_load.start_echo(platform)
    try:
        echoes, writes, commits = alternate(
            "POST /kegiatan", settings.runs,
            lambda: rpc_load.run(platform, settings.seconds, settings.connections, body),
            lambda: wrk.run(f"{platform.base}/api/v1/kegiatan", settings.seconds, settings.connections,
                            headers=platform.headers, body=body),
            lambda: rpc_load.run(platform, settings.seconds, settings.connections, body, method="commit"))
    finally:
        stop([echo])
    figure = f"`POST /api/v1/kegiatan`, {settings.connections} connections"
    return [
        compare(f"{figure}: throughput", median(writes, "rps"), median(echoes, "rps"), "/s", "Nameko RPC echo",
                at_least=0.50, note=wrk.failures(writes)),
        Row(f"{figure}: p50 / p99", f"{median(writes, 'p50_ms'):.1f} / {median(writes, 'p99_ms'):.1f} ms",
            f"echo: {median(echoes, 'p50_ms'):.1f} / {median(echoes, 'p99_ms'):.1f} ms", "", "", None),
        compare(f"{figure}, for context: throughput", median(writes, "rps"), median(commits, "rps"), "/s",
                "Nameko RPC committing one transaction"),
    ]
