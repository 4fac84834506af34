"""(a) Check-in throughput and latency: registry HTTP -> database + outbox -> JetStream,
against a bare FastAPI endpoint doing one insert into the same kind of database.

    .venv/bin/python -m benchmarks.checkin [--database sqlite|postgresql] [--seconds 10]
                                           [--rate 300] [--latency-seconds 60] [--window 10]

The load comes from `wrk` (Debian package; installed when missing and running as root,
otherwise the benchmark stops and says how): a flat-out run of `--seconds` with
`--concurrency` connections, then `--latency-seconds` at `--rate` as consecutive windows of
`--window` seconds, each with its p50, p99 and p99.9; the fixed-rate run starts once the
registry's outbox has published the flat-out run's check-ins. A window whose answered rate stays
below 90 % of the asked one did not measure that rate: its latencies are not printed, the
run says "load generator kept up: NO" and exits with status 3.

Every request carries a front-desk bearer token minted for the run (an embedded key pair under
the run's ./var/auth/, which the registry trusts), so the registry's figures include verifying
it; the baseline receives the same header and ignores it.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import time as Time
from pathlib import Path

import httpx
import nats

from benchmarks import wrk
from benchmarks.common import (
    database_url,
    nats_server,
    report,
    start_command,
    start_service,
)
from benchmarks.load import nik
from botram_cli.nats_server import free_port
from botram_cli.tokens import ensure_key_pair, mint_token
from botram_contracts.events import (
    MSG_ID_HEADER,
    SessionOpenedV1,
    SessionScheduledV1,
    encode_event,
    make_event,
)
from botram_runtime.actors import Role
from botram_runtime.clock import local_today, system_clock

SESSION = "bench-session"
SERVICES = ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]
# How long the outbox may take to publish what the load left behind.
DRAIN_SECONDS = 60


async def announce_session(nats_url: str) -> None:
    common = {
        "session_id": SESSION,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": local_today(system_clock),
    }
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for data in (
        SessionScheduledV1(**common, start=Time(8), end=Time(14), services=SERVICES),
        SessionOpenedV1(**common, opened_at=system_clock()),
    ):
        event = make_event(data, "scheduler")
        await js.publish(event.subject, encode_event(event), headers={MSG_ID_HEADER: str(event.id)})
    await nc.close()


def check_in_body(index: int) -> dict[str, object]:
    return {"nik": nik(index), "name": "Warga Simulasi", "services": SERVICES}


async def wait_session_open(registry_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(150):
            response = await client.get(f"{registry_url}/v1/sessions/{SESSION}/queue")
            if response.status_code == 200 and response.json()["status"] == "opened":
                return
            await asyncio.sleep(0.2)
    raise TimeoutError("the registry never saw the session open")


async def stream_count(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    info = await nc.jetstream().stream_info("BOTRAM")
    await nc.close()
    return int(info.state.messages)


def describe(result: wrk.WrkResult) -> str:
    return (
        f"{result.rate:,.0f}/s  p50 {result.p50_ms:.1f} ms  "
        f"p99 {result.p99_ms:.1f} ms  errors {result.errors}"
    )


def describe_window(result: wrk.WrkResult) -> str:
    """A paced window: its latencies only when it reached the asked rate."""
    if not result.kept_up:
        return f"{result.rate:,.0f}/s: asked rate not reached, no figures"
    return (
        f"{result.rate:,.0f}/s  p50 {result.p50_ms:.1f}  p99 {result.p99_ms:.1f}  "
        f"p99.9 {result.p999_ms:.1f} ms  errors {result.errors}"
    )


def front_desk_token(tmp: Path) -> str:
    """A front-desk token of the run's embedded issuer (the registry runs in `tmp`)."""
    directory = tmp / "var" / "auth"
    ensure_key_pair(directory)
    return mint_token([Role.FRONT_DESK], subject="benchmark", directory=directory)


def flat_out_run(base_url: str, path: str, args: argparse.Namespace, token: str) -> wrk.WrkResult:
    """As many check-ins as the server takes in `--seconds`."""
    return wrk.check_ins(
        base_url,
        path,
        SERVICES,
        seconds=args.seconds,
        connections=args.concurrency,
        token=token,
    )


def paced_run(
    base_url: str, path: str, args: argparse.Namespace, token: str
) -> list[wrk.WrkResult]:
    """A fixed rate in windows (new citizens)."""
    return wrk.paced_windows(
        base_url,
        path,
        SERVICES,
        rate=args.rate,
        seconds=args.latency_seconds,
        window=args.window,
        offset=10**6,
        token=token,
    )


def wait_for_stream(nats_url: str, expected: int, seconds: float) -> int:
    """Wait (at most `seconds`) until JetStream holds `expected` messages; how many it holds."""
    deadline = time.monotonic() + seconds
    count = asyncio.run(stream_count(nats_url))
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        count = asyncio.run(stream_count(nats_url))
    return count


def window_figures(windows: list[wrk.WrkResult]) -> list[dict[str, float | bool]]:
    return [
        {"rate": round(w.rate, 1), "kept_up": w.kept_up}
        | ({"p50_ms": w.p50_ms, "p99_ms": w.p99_ms, "p999_ms": w.p999_ms} if w.kept_up else {})
        for w in windows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=300.0, help="check-ins/s in the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="the flat-out run's length")
    parser.add_argument(
        "--latency-seconds", type=float, default=60.0, help="the fixed-rate run's length"
    )
    parser.add_argument(
        "--window", type=float, default=10.0, help="p99 and p99.9 per window of this many s"
    )
    args = parser.parse_args()
    wrk.ensure()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        token = front_desk_token(tmp)
        with nats_server(tmp) as server:
            registry = start_service(
                "registry", tmp, server.url, database_url(args.database, tmp, "registry")
            )
            port = free_port()
            baseline = start_command(
                "baseline",
                [sys.executable, "-m", "benchmarks.baseline_app"],
                tmp,
                port,
                BASELINE_DATABASE_URL=database_url(args.database, tmp, "baseline"),
                BASELINE_PORT=str(port),
            )
            try:
                asyncio.run(announce_session(server.url))
                asyncio.run(wait_session_open(registry.url))
                base_max = flat_out_run(baseline.url, "/v1/check-ins", args, token)
                base_windows = paced_run(baseline.url, "/v1/check-ins", args, token)
                ours_path = f"/v1/sessions/{SESSION}/check-ins"
                ours_max = flat_out_run(registry.url, ours_path, args, token)
                # The fixed-rate run starts once the outbox has published the flat-out run's
                # check-ins: its windows measure the steady rate, not a backlog's drain.
                wait_for_stream(server.url, 2 + ours_max.requests, DRAIN_SECONDS)
                ours_windows = paced_run(registry.url, ours_path, args, token)
                expected = 2 + ours_max.requests + sum(w.requests for w in ours_windows)
                published = wait_for_stream(server.url, expected, DRAIN_SECONDS) - 2
            finally:
                registry.stop()
                baseline.stop()
    kept_up = all(w.kept_up for w in ours_windows + base_windows)
    rows = [
        (f"registry, {args.concurrency} clients", describe(ours_max)),
        (f"baseline insert, {args.concurrency} clients", describe(base_max)),
        ("ratio registry / baseline", f"{ours_max.rate / base_max.rate:.2f}"),
    ]
    for index, (ours, base) in enumerate(zip(ours_windows, base_windows, strict=True)):
        span = f"{index * args.window:.0f}-{(index + 1) * args.window:.0f} s"
        rows.append((f"registry at {args.rate:.0f}/s, {span}", describe_window(ours)))
        rows.append((f"baseline at {args.rate:.0f}/s, {span}", describe_window(base)))
    rows += [
        ("check-in events in JetStream", f"{published:,}"),
        (
            "load generator kept up",
            "yes" if kept_up else f"NO: below {wrk.KEPT_UP_SHARE:.0%} of the asked rate",
        ),
        ("machine load (1 min)", f"{os.getloadavg()[0]:.2f}"),
    ]
    figures: dict[str, object] = {
        "database": args.database,
        "registry_rate": round(ours_max.rate, 1),
        "baseline_rate": round(base_max.rate, 1),
        "ratio": round(ours_max.rate / base_max.rate, 3),
        "registry_p50_ms": round(ours_max.p50_ms, 2),
        "registry_p99_ms": round(ours_max.p99_ms, 2),
        "rate": args.rate,
        "window_seconds": args.window,
        "registry_windows": window_figures(ours_windows),
        "baseline_windows": window_figures(base_windows),
        "load_generator": "wrk",
        "kept_up": kept_up,
        "events_published": published,
        "errors": ours_max.errors + sum(w.errors for w in ours_windows),
    }
    report(f"check-in ({args.database})", rows, figures)
    if not kept_up:
        sys.exit(wrk.NOT_KEPT_UP_EXIT)


if __name__ == "__main__":
    main()
