"""HTTP load from `wrk` (Debian package `wrk`): a native load generator, so the figures are the
server's and not the Python client's (httpx tops out near 200 requests/s on these 2 cores)."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("checkin.lua")
# Connections for a paced (fixed-rate) run: each waits connections/rate seconds between
# requests, long beside a response time, so the achieved rate stays near the asked one.
PACED_CONNECTIONS = 128


@dataclass(frozen=True)
class WrkResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds


def available() -> bool:
    return shutil.which("wrk") is not None


def check_ins(
    base_url: str,
    path: str,
    services: list[str],
    *,
    seconds: float,
    connections: int = 32,
    offset: int = 0,
    rate: float | None = None,
    token: str | None = None,
) -> WrkResult:
    """POST a check-in of a different citizen per request for `seconds`.

    With `rate`, each connection waits 1/(rate/connections) s between its requests (wrk's
    `delay()`), scaled once a second to make up for the response times (checkin.lua): an
    approximately fixed rate, with latency measured from each send. With `token`, every request
    carries it as a bearer token (the registry verifies it on each check-in).
    """
    threads = min(2, connections)
    environment = os.environ | {
        "BENCH_PATH": path,
        "BENCH_SERVICES": ",".join(services),
        "BENCH_OFFSET": str(offset),
        "BENCH_RATE": str(rate / connections) if rate else "0",
        "BENCH_CONNECTIONS_PER_THREAD": str(connections / threads),
        "BENCH_TOKEN": token or "",
    }
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(SCRIPT),
            base_url,
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
    )
    line = next(x for x in completed.stdout.splitlines() if x.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        requests=figures["requests"],
        errors=figures["non_2xx"] + figures["socket_errors"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
    )
