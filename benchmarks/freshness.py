"""(c) End-to-end freshness: a check-in stored by the registry -> counted on reporting's
/metrics, p50/p99 at a fixed rate. Beside it, the bus alone: JetStream publish -> delivery.

    .venv/bin/python -m benchmarks.freshness [--rate 300] [--seconds 10]

The load comes from `wrk` at a paced rate (see benchmarks/wrk.py: no figures when the asked
rate is not reached). Every
`--interval` the benchmark reads how many check-ins the registry has committed (a count of
its `check_ins` table) and how many reporting's /metrics shows, each side on its own clock;
the k-th check-in's freshness is the time from the first sample with k committed to the first
with k counted. Both sides are sampled, so each figure is within one interval (and one
/metrics scrape) of the truth. A tap on the bus times each check-in event's arrival exactly,
which splits the figure into its two legs: the registry's outbox, and reporting.
"""

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


@dataclass
class Freshness:
    """Per check-in (ms): committed -> counted, and its two legs through the bus."""

    total: list[float]
    to_bus: list[float]  # committed -> the event on the bus (the registry's outbox)
    from_bus: list[float]  # the event on the bus -> counted on /metrics (reporting)
    missing: int


def legs(starts: list[float | None], ends: list[float | None]) -> list[float]:
    return [(end - start) * 1000 for start, end in zip(starts, ends, strict=True) if start and end]


async def sample(
    read: Callable[[], Awaitable[int]], into: list[tuple[float, int]], interval: float
) -> None:
    """Append (time, count) every `interval` s until cancelled (each side on its own clock, so
    a slow read of one never delays the samples of the other)."""
    while True:
        into.append((time.perf_counter(), await read()))
        await asyncio.sleep(interval)


async def measure(
    nats_url: str,
    registry_url: str,
    registry_db: str,
    reporting: str,
    args: argparse.Namespace,
    token: str,
) -> tuple[Freshness, wrk.WrkResult]:
    """Freshness of each check-in and its legs, how many were never counted, the load."""
    path = f"/v1/sessions/{SESSION}/check-ins"
    # Every check-in event as it reaches the bus: exact times, not samples.
    on_bus: list[float] = []
    nc = await nats.connect(nats_url)

    async def tap(_: nats.aio.msg.Msg) -> None:
        on_bus.append(time.perf_counter())

    await nc.subscribe("botram.citizen.checked_in.v1.>", cb=tap)
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
    async with httpx.AsyncClient(timeout=10) as client:

        async def count_counted() -> int:
            return checkins_counted((await client.get(f"{reporting}/metrics")).text)

        samplers = [
            asyncio.create_task(sample(count_committed, committed, args.interval)),
            asyncio.create_task(sample(count_counted, counted, args.interval)),
        ]
        deadline = time.perf_counter() + args.seconds + 120
        while time.perf_counter() < deadline:  # bounded
            await asyncio.sleep(0.1)
            if load.done() and committed and counted and counted[-1][1] >= committed[-1][1]:
                break
        for sampler in samplers:
            sampler.cancel()
        await asyncio.gather(*samplers, return_exceptions=True)
    result = await load
    await close()
    await nc.close()
    total = committed[-1][1]
    at_commit = first_reaching(committed, total)
    at_count = first_reaching(counted, total)
    at_bus: list[float | None] = [*on_bus[:total], *[None] * (total - len(on_bus))]
    fresh = legs(at_commit, at_count)
    return Freshness(
        fresh, legs(at_commit, at_bus), legs(at_bus, at_count), total - len(fresh)
    ), result


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


def p50_p99(values: list[float]) -> str:
    return f"{median(values):.0f} / {percentile(values, 99):.0f} ms" if values else "-"


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
                freshness, load = asyncio.run(
                    measure(
                        server.url,
                        registry.url,
                        registry_db,
                        reporting.url,
                        args,
                        front_desk_token(tmp),
                    )
                )
                fresh, missing = freshness.total, freshness.missing
                bus = asyncio.run(bus_round_trip(server.url))
            finally:
                registry.stop()
                reporting.stop()
    rate = load.rate
    latencies = (
        [
            ("committed -> on /metrics p50", f"{median(fresh):.0f} ms"),
            ("committed -> on /metrics p99", f"{percentile(fresh, 99):.0f} ms"),
            ("  committed -> on the bus p50 / p99", p50_p99(freshness.to_bus)),
            ("  on the bus -> on /metrics p50 / p99", p50_p99(freshness.from_bus)),
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
            **(
                {
                    "to_bus_p99_ms": round(percentile(freshness.to_bus, 99), 1),
                    "from_bus_p99_ms": round(percentile(freshness.from_bus, 99), 1),
                }
                if freshness.to_bus and freshness.from_bus
                else {}
            ),
        },
    )
    if not load.kept_up:
        sys.exit(wrk.NOT_KEPT_UP_EXIT)


if __name__ == "__main__":
    main()
