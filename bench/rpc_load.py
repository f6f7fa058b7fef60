"""The RPC baseline: a bare Nameko echo service, called the way the gateway calls services
(gateway/rpc.py's RpcClient, one pika connection per thread) from as many processes as the
gateway has workers, with as many calls in flight in all as the HTTP figures have connections.

Each load process is `python -m bench.rpc_load AMQP_URI THREADS START SECONDS PAYLOAD METHOD`: from
the moment START (time.monotonic, the same clock in every process) its threads call for SECONDS;
it prints the calls' latencies as JSON."""
import json
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from bench.stack import ROOT
from gateway.rpc import RpcClient
from services.common.config import settings as platform_settings
from services.stack import wait_for

SERVICE = "bench_echo"
# Time for the load processes to start and connect before they all begin at once.
STARTUP_SECONDS = 2


@dataclass
class Calls:
    rps: float
    p50_ms: float
    p99_ms: float


def start_echo(platform):
    process = platform.launch("echo", ["-m", "services.common.runner", "bench.echo_service:EchoService"])
    wait_for(lambda: "started" in platform.log("echo"), "the echo service", 30, [process])
    return process


def run(platform, seconds, connections, payload, method="echo"):
    """Calls/s and latency of `connections` calls of the echo service's `method` in flight for
    `seconds`; each call carries `payload` (JSON text) there and back."""
    workers = platform_settings().gateway_workers
    start = time.monotonic() + STARTUP_SECONDS
    processes = [subprocess.Popen([sys.executable, "-m", "bench.rpc_load", platform.amqp_uri,
                                   str(connections // workers), str(start), str(seconds), payload, method],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
                 for _ in range(workers)]
    latencies = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"the RPC load process failed ({process.returncode})")
        latencies += json.loads(out)
    centiles = statistics.quantiles(latencies, n=100)
    return Calls(rps=len(latencies) / seconds, p50_ms=centiles[49] * 1000, p99_ms=centiles[98] * 1000)


def main(amqp_uri, threads, start, seconds, payload, method):
    client = RpcClient(amqp_uri, timeout=10)
    value = json.loads(payload)
    latencies = []

    def caller():
        client.call(SERVICE, method, value)  # connects before the clock starts
        time.sleep(max(0.0, start - time.monotonic()))
        while (sent := time.monotonic()) < start + seconds:
            client.call(SERVICE, method, value)
            latencies.append(time.monotonic() - sent)

    callers = [threading.Thread(target=caller) for _ in range(threads)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join()
    print(json.dumps(latencies))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6])
