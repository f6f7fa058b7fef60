"""`GET /api/v1/units/{id}` at 32 connections, beside a bare gunicorn+Flask hello with the same
worker settings. Goals: at least 0.30x the hello's req/s, p99 at most 50 ms."""
from bench import wrk
from bench.report import bound, compare
from bench.runs import alternate, median
from services.stack import free_port, ready, stop, wait_for


def measure(platform, settings):
    port = free_port()
    hello = platform.launch("hello", ["-m", "gunicorn", "-c", "python:gateway.gunicorn_conf", "bench.hello:app"],
                            GATEWAY_PORT=str(port))
    hello_url = f"http://127.0.0.1:{port}/"
    wait_for(lambda: ready(hello_url), "the hello app", 30, [hello])
    unit_url = f"{platform.base}/api/v1/units/{platform.unit()['id']}"
    try:
        hellos, reads = alternate(
            "GET /units/{id}", settings.runs,
            lambda: wrk.run(hello_url, settings.seconds, settings.connections),
            lambda: wrk.run(unit_url, settings.seconds, settings.connections, headers=platform.headers))
    finally:
        stop([hello])
    figure = f"`GET /api/v1/units/{{id}}`, {settings.connections} connections"
    return [
        compare(f"{figure}: throughput", median(reads, "rps"), median(hellos, "rps"), "req/s",
                "gunicorn+Flask hello", at_least=0.30, note=wrk.failures(reads)),
        bound(f"{figure}: p50 / p99", f"{median(reads, 'p50_ms'):.1f} / {median(reads, 'p99_ms'):.1f} ms",
              median(reads, "p99_ms"), 50, "ms",
              f"hello: {median(hellos, 'p50_ms'):.1f} / {median(hellos, 'p99_ms'):.1f} ms", what="p99"),
    ]
