"""HTTP load from `wrk` (Debian package `wrk`): a native load generator, so the figures are the
server's and not the Python client's (httpx tops out near 200 requests/s on these 2 cores).

There is no Python fallback for figures: a generator that cannot send at the asked rate
measures itself, not the server (it once printed "34/s, p99 132,474 ms" as a result). `ensure()`
finds wrk or installs it (apt, as root) or stops the benchmark with a clear message, and every
paced run says whether the asked rate was reached (`kept_up`); when it was not, the benchmarks
print no latency figures and exit non-zero.
"""

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
# A paced run whose answered requests fall below this share of the asked rate did not
# measure the asked rate: the load generator did not keep up (or the server refused it).
KEPT_UP_SHARE = 0.9
# Exit status of a benchmark that refused to print figures.
NOT_KEPT_UP_EXIT = 3

INSTALL_HINT = (
    "wrk is not installed, and the check-in benchmarks print no figures without it: a Python "
    "load generator cannot reach their rates on these cores. Install it with "
    "`sudo apt-get install wrk` (Debian, Ubuntu), `brew install wrk` (macOS) or from "
    "https://github.com/wg/wrk, then run the benchmark again."
)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    p999_ms: float = float("nan")
    asked_rate: float | None = None

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds

    @property
    def kept_up(self) -> bool:
        """Whether a paced run answered at least KEPT_UP_SHARE of the asked rate (a flat-out
        run, with no asked rate, always did)."""
        return self.asked_rate is None or self.rate >= KEPT_UP_SHARE * self.asked_rate


def available() -> bool:
    return shutil.which("wrk") is not None


def ensure() -> str:
    """wrk's path: found on PATH, or installed with apt-get when running as root; otherwise
    the benchmark stops here (non-zero exit) saying how to install it."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing it with apt-get (Debian package `wrk`)", flush=True)
        install = ["apt-get", "install", "-y", "wrk"]
        for steps in ([install], [["apt-get", "update"], install]):  # the lists may be stale
            for argv in steps:
                subprocess.run(argv, check=False, capture_output=True, timeout=600)
            found = shutil.which("wrk")
            if found:
                return found
    raise SystemExit(INSTALL_HINT)


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
        "BENCH_THREADS": str(threads),
        "BENCH_RATE": str(rate / connections) if rate else "0",
        "BENCH_CONNECTIONS_PER_THREAD": str(connections / threads),
        "BENCH_TOKEN": token or "",
    }
    completed = subprocess.run(
        [
            ensure(),
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
        p999_ms=figures["p999_ms"],
        asked_rate=rate,
    )


def paced_windows(
    base_url: str,
    path: str,
    services: list[str],
    *,
    rate: float,
    seconds: float,
    window: float,
    offset: int,
    token: str | None = None,
    connections: int = PACED_CONNECTIONS,
) -> list[WrkResult]:
    """`seconds` of check-ins at `rate`, as consecutive runs of `window` seconds, each with its
    own latency histogram (p99 and p99.9 per window). Each window's citizens are new."""
    windows = max(1, round(seconds / window))
    per_window = int(rate * window * 2) + 10_000  # room for a window that overshoots
    return [
        check_ins(
            base_url,
            path,
            services,
            seconds=window,
            offset=offset + index * per_window,
            rate=rate,
            connections=connections,
            token=token,
        )
        for index in range(windows)
    ]
