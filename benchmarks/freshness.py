"""(c) End-to-end freshness: a check-in stored by the registry -> counted on reporting's
/metrics, p50/p99 at a fixed rate. Beside it, the bus alone: JetStream publish -> delivery.

    .venv/bin/python -m benchmarks.freshness [--rate 300] [--seconds 10]

The load comes from `wrk` at a paced rate (see benchmarks/wrk.py: no figures when the asked
rate is not reached). Every
`--interval` the benchmark reads how many check-ins the registry has committed (a count of
its `check_ins` table) and how many reporting's /metrics shows; the k-th check-in's
freshness is the time from the first sample with k committed to the first with k counted.
Both sides are sampled, so each figure is within one interval of the truth.
"""

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import nats
from sqlalchemy.engine import make_url

from benchmarks import wrk
from benchmarks.checkin import (
    SERVICES,
    SESSION,
    announce_session,
    front_desk_token,
    wait_session_open,
)
from benchmarks.common import database_url, median, nats_server, percentile, report, start_service


def checkins_counted(text: str) -> int:
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("botram_checkins_total{")
        )
    )


async def committed_counter(
    url: str,
) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[None]]]:
    """A reader of how many check-ins the registry's database holds, and its closer."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(f"file:{parsed.database}?mode=ro", uri=True)

        async def count_sqlite() -> int:
            return int(connection.execute("SELECT count(*) FROM check_ins").fetchone()[0])

        async def close_sqlite() -> None:
            connection.close()

        return count_sqlite, close_sqlite
    pg = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))

    async def count_pg() -> int:
        return int(await pg.fetchval("SELECT count(*) FROM check_ins"))

    return count_pg, pg.close


def first_reaching(samples: list[tuple[float, int]], total: int) -> list[float | None]:
    """For k = 1..total: the time of the first sample whose count is at least k."""
    times: list[float | None] = [None] * total
    reached = 0
    for moment, count in samples:
        while reached < min(count, total):
            times[reached] = moment
            reached += 1
    return times


async def measure(
    registry_url: str, registry_db: str, reporting: str, args: argparse.Namespace, token: str
) -> tuple[list[float], int, wrk.WrkResult]:
    """Freshness of each check-in (ms), how many were never counted, the load's result."""
    path = f"/v1/sessions/{SESSION}/check-ins"
    load = asyncio.create_task(
        asyncio.to_thread(
            wrk.check_ins,
            registry_url,
            path,
            SERVICES,
            seconds=args.seconds,
            offset=10**7,
            rate=args.rate,
            connections=args.connections,
            token=token,
        )
    )
    count_committed, close = await committed_counter(registry_db)
    committed: list[tuple[float, int]] = []
    counted: list[tuple[float, int]] = []
    started = time.perf_counter()
    deadline = started + args.seconds + 120
    async with httpx.AsyncClient(timeout=10) as client:
        while time.perf_counter() < deadline:  # bounded
            now = time.perf_counter()
            committed.append((now, await count_committed()))
            metrics = await client.get(f"{reporting}/metrics")
            counted.append((time.perf_counter(), checkins_counted(metrics.text)))
            if load.done() and counted[-1][1] >= committed[-1][1]:
                break
            await asyncio.sleep(args.interval)
    result = await load
    await close()
    total = committed[-1][1]
    at_commit = first_reaching(committed, total)
    at_count = first_reaching(counted, total)
    fresh = [
        (c - a) * 1000 for a, c in zip(at_commit, at_count, strict=True) if a is not None and c
    ]
    return fresh, total - len(fresh), result


async def bus_round_trip(nats_url: str, samples: int = 500) -> list[float]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    latencies: list[float] = []
    received = asyncio.Queue[float]()

    async def on_message(message: nats.aio.msg.Msg) -> None:
        received.put_nowait(time.perf_counter())
        await message.ack()

    # A stream of its own: BOTRAM holds only the event families of the contract.
    await js.add_stream(name="BENCH", subjects=["bench.>"])
    await js.subscribe("bench.>", cb=on_message, durable="bench-rt", manual_ack=True)
    for index in range(samples):
        sent = time.perf_counter()
        await js.publish(f"bench.{index}", b"{}")
        latencies.append((await asyncio.wait_for(received.get(), 5) - sent) * 1000)
    await nc.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=wrk.PACED_CONNECTIONS)
    parser.add_argument("--interval", type=float, default=0.01, help="sampling interval, s")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    wrk.ensure()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            registry_db = database_url(args.database, tmp, "registry")
            registry = start_service("registry", tmp, server.url, registry_db)
            reporting = start_service(
                "reporting", tmp, server.url, database_url(args.database, tmp, "reporting")
            )
            try:
                asyncio.run(announce_session(server.url))
                asyncio.run(wait_session_open(registry.url))
                fresh, missing, load = asyncio.run(
                    measure(registry.url, registry_db, reporting.url, args, front_desk_token(tmp))
                )
                bus = asyncio.run(bus_round_trip(server.url))
            finally:
                registry.stop()
                reporting.stop()
    rate = load.rate
    latencies = (
        [
            ("committed -> on /metrics p50", f"{median(fresh):.0f} ms"),
            ("committed -> on /metrics p99", f"{percentile(fresh, 99):.0f} ms"),
        ]
        if load.kept_up
        else [("committed -> on /metrics", "asked rate not reached, no figures")]
    )
    report(
        f"freshness ({args.database})",
        [
            ("check-ins", f"{len(fresh):,} at {rate:.0f}/s (asked {args.rate:.0f}/s)"),
            *latencies,
            ("never counted", str(missing)),
            (
                "JetStream publish -> delivery p50 / p99",
                f"{median(bus):.1f} / {percentile(bus, 99):.1f} ms",
            ),
            ("sampling interval", f"{args.interval * 1000:.0f} ms"),
            ("load generator kept up", "yes" if load.kept_up else "NO"),
            ("machine load (1 min)", f"{os.getloadavg()[0]:.2f}"),
        ],
        {
            "database": args.database,
            "rate": args.rate,
            "achieved_rate": round(rate, 1),
            "kept_up": load.kept_up,
            **(
                {"p50_ms": round(median(fresh), 1), "p99_ms": round(percentile(fresh, 99), 1)}
                if load.kept_up
                else {}
            ),
            "never_counted": missing,
            "bus_p50_ms": round(median(bus), 2),
            "bus_p99_ms": round(percentile(bus, 99), 2),
        },
    )
    if not load.kept_up:
        sys.exit(wrk.NOT_KEPT_UP_EXIT)


if __name__ == "__main__":
    main()
