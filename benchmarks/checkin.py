"""(a) Check-in throughput and latency: registry HTTP -> database + outbox -> JetStream,
against a bare FastAPI endpoint doing one insert into the same kind of database.

    .venv/bin/python -m benchmarks.checkin [--database sqlite|postgresql] [--seconds 10]

The load comes from `wrk` (Debian package) when it is installed, else from the Python
client in benchmarks/load.py, which itself caps near 200 requests/s here.

Every request carries a front-desk bearer token minted for the run (an embedded key pair under
the run's ./var/auth/, which the registry trusts), so the registry's figures include verifying
it; the baseline receives the same header and ignores it.
"""

import argparse
import asyncio
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
    median,
    nats_server,
    percentile,
    report,
    start_command,
    start_service,
)
from benchmarks.load import LoadResult, closed_loop, nik, open_loop
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


Result = LoadResult | wrk.WrkResult


def p50(result: Result) -> float:
    if isinstance(result, wrk.WrkResult):
        return result.p50_ms
    return median(result.latencies_ms)


def p99(result: Result) -> float:
    if isinstance(result, wrk.WrkResult):
        return result.p99_ms
    return percentile(result.latencies_ms, 99)


def describe(result: Result) -> str:
    return (
        f"{result.rate:,.0f}/s  p50 {p50(result):.1f} ms  "
        f"p99 {p99(result):.1f} ms  errors {result.errors}"
    )


def front_desk_token(tmp: Path) -> str:
    """A front-desk token of the run's embedded issuer (the registry runs in `tmp`)."""
    directory = tmp / "var" / "auth"
    ensure_key_pair(directory)
    return mint_token([Role.FRONT_DESK], subject="benchmark", directory=directory)


def load_runs(
    base_url: str, path: str, args: argparse.Namespace, token: str
) -> tuple[Result, Result]:
    """As many check-ins as the server takes, then a fixed rate (fresh citizens each time)."""
    if wrk.available():
        flat_out = wrk.check_ins(
            base_url,
            path,
            SERVICES,
            seconds=args.seconds,
            connections=args.concurrency,
            token=token,
        )
        fixed = wrk.check_ins(
            base_url,
            path,
            SERVICES,
            seconds=args.seconds,
            offset=10**6,
            rate=args.rate,
            connections=wrk.PACED_CONNECTIONS,
            token=token,
        )
        return flat_out, fixed
    url = base_url + path
    headers = {"Authorization": f"Bearer {token}"}
    flat_out = asyncio.run(closed_loop(url, check_in_body, args.total, args.concurrency, headers))
    fixed = asyncio.run(
        open_loop(url, check_in_body, args.rate, args.seconds, 10**6, headers=headers)
    )
    return flat_out, fixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--total", type=int, default=3000, help="check-ins in the throughput run (without wrk)"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=300.0, help="check-ins/s in the latency run")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
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
                base_max, base_fixed = load_runs(baseline.url, "/v1/check-ins", args, token)
                ours_max, ours_fixed = load_runs(
                    registry.url, f"/v1/sessions/{SESSION}/check-ins", args, token
                )
                deadline = time.monotonic() + 60
                expected = 2 + ours_max.requests + ours_fixed.requests
                while (
                    asyncio.run(stream_count(server.url)) < expected and time.monotonic() < deadline
                ):
                    time.sleep(0.2)
                published = asyncio.run(stream_count(server.url)) - 2
            finally:
                registry.stop()
                baseline.stop()
    report(
        f"check-in ({args.database})",
        [
            (f"registry, {args.concurrency} clients", describe(ours_max)),
            (f"baseline insert, {args.concurrency} clients", describe(base_max)),
            ("ratio registry / baseline", f"{ours_max.rate / base_max.rate:.2f}"),
            (f"registry at {args.rate:.0f}/s", describe(ours_fixed)),
            (f"baseline at {args.rate:.0f}/s", describe(base_fixed)),
            ("check-in events in JetStream", f"{published:,}"),
            ("load generator", "wrk" if wrk.available() else "python httpx"),
        ],
        {
            "database": args.database,
            "registry_rate": round(ours_max.rate, 1),
            "baseline_rate": round(base_max.rate, 1),
            "ratio": round(ours_max.rate / base_max.rate, 3),
            "registry_p50_ms": round(p50(ours_max), 2),
            "registry_p99_ms": round(p99(ours_max), 2),
            "registry_rate_at_fixed": round(ours_fixed.rate, 1),
            "registry_p50_ms_at_rate": round(p50(ours_fixed), 2),
            "registry_p99_ms_at_rate": round(p99(ours_fixed), 2),
            "baseline_p99_ms_at_rate": round(p99(base_fixed), 2),
            "rate": args.rate,
            "load_generator": "wrk" if wrk.available() else "httpx",
            "events_published": published,
            "errors": ours_max.errors + ours_fixed.errors,
        },
    )


if __name__ == "__main__":
    main()
