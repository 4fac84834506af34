"""(c) End-to-end freshness: a check-in accepted by the registry -> counted on reporting's
/metrics, p50/p99 at a fixed rate. Beside it, the bus alone: JetStream publish -> delivery.

    .venv/bin/python -m benchmarks.freshness [--rate 300] [--seconds 10]
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import nats

from benchmarks.checkin import SESSION, announce_session, check_in_body, wait_session_open
from benchmarks.common import database_url, median, nats_server, percentile, report, start_service

SCRAPE_INTERVAL = 0.02


def checkins_counted(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("botram_checkins_total{")
    )


async def measure(registry: str, reporting: str, rate: float, seconds: float) -> list[float]:
    total = int(rate * seconds)
    accepted: list[float] = [0.0] * total
    counted_at: list[float] = [0.0] * total
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=128)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(index: int, planned: float) -> None:
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            response = await client.post(
                f"{registry}/v1/sessions/{SESSION}/check-ins", json=check_in_body(10**7 + index)
            )
            assert response.status_code == 201, response.text
            accepted[index] = time.perf_counter()

        async def scrape() -> None:
            seen = 0
            deadline = time.perf_counter() + seconds + 120
            while seen < total and time.perf_counter() < deadline:
                count = int(checkins_counted((await client.get(f"{reporting}/metrics")).text))
                now = time.perf_counter()
                # Counting order is not check-in order: stamp the earliest accepted ones.
                for index in sorted(range(total), key=lambda i: accepted[i] or 1e18)[seen:count]:
                    counted_at[index] = now
                seen = max(seen, count)
                await asyncio.sleep(SCRAPE_INTERVAL)
            done.set()

        started = time.perf_counter() + 0.2
        scraper = asyncio.create_task(scrape())
        await asyncio.gather(*(one(i, started + i / rate) for i in range(total)))
        await done.wait()
        await scraper
    return [(c - a) * 1000 for a, c in zip(accepted, counted_at, strict=True) if a and c]


async def bus_round_trip(nats_url: str, samples: int = 500) -> list[float]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    latencies: list[float] = []
    received = asyncio.Queue[float]()

    async def on_message(message: nats.aio.msg.Msg) -> None:
        received.put_nowait(time.perf_counter())
        await message.ack()

    await js.subscribe("botram.bench.>", cb=on_message, durable="bench-rt", manual_ack=True)
    for index in range(samples):
        sent = time.perf_counter()
        await js.publish(f"botram.bench.{index}", b"{}")
        latencies.append((await asyncio.wait_for(received.get(), 5) - sent) * 1000)
    await nc.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            fast = {"BOTRAM_OUTBOX_POLL_SECONDS": "0.2"}
            registry = start_service(
                "registry", tmp, server.url, database_url(args.database, tmp, "registry"), **fast
            )
            reporting = start_service(
                "reporting", tmp, server.url, database_url(args.database, tmp, "reporting"), **fast
            )
            try:
                asyncio.run(announce_session(server.url))
                asyncio.run(wait_session_open(registry.url))
                fresh = asyncio.run(measure(registry.url, reporting.url, args.rate, args.seconds))
                bus = asyncio.run(bus_round_trip(server.url))
            finally:
                registry.stop()
                reporting.stop()
    report(
        f"freshness ({args.database})",
        [
            ("check-ins", f"{len(fresh):,} at {args.rate:.0f}/s"),
            ("accepted -> on /metrics p50", f"{median(fresh):.0f} ms"),
            ("accepted -> on /metrics p99", f"{percentile(fresh, 99):.0f} ms"),
            (
                "JetStream publish -> delivery p50 / p99",
                f"{median(bus):.1f} / {percentile(bus, 99):.1f} ms",
            ),
            ("metrics scrape interval", f"{SCRAPE_INTERVAL * 1000:.0f} ms"),
        ],
        {
            "database": args.database,
            "rate": args.rate,
            "p50_ms": round(median(fresh), 1),
            "p99_ms": round(percentile(fresh, 99), 1),
            "bus_p50_ms": round(median(bus), 2),
            "bus_p99_ms": round(percentile(bus, 99), 2),
        },
    )


if __name__ == "__main__":
    main()
