"""(b) Reporting's ingest rate from a pre-filled stream, against a raw nats-py pull consumer
that only decodes and acks the same events from the same server.

Beside the rates, each side's events per CPU-second (the service's from /proc, the raw
consumer's from this process): on a machine other work loads, the rates of two moments
differ by the load, while the CPU each event costs changes much less.

    .venv/bin/python -m benchmarks.ingest [--events 20000] [--database sqlite|postgresql]
                                          [--aiosqlite]
"""

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats

from benchmarks.common import database_url, nats_server, report, start_service
from botram_contracts.events import (
    MSG_ID_HEADER,
    CitizenCheckedInV1,
    ServiceCompletedV1,
    TicketCalledV1,
    TicketRef,
    encode_event,
    make_event,
)
from botram_runtime.stream import ensure_stream

SERVICES = [("dukcapil-kk", "dukcapil"), ("dukcapil-kia", "dukcapil"), ("pmi-donor-darah", "pmi")]


def day_of_events(count: int, seed: int = 1) -> list[bytes]:
    """Check-ins, calls and completions of one busy session, ~300 bytes each."""
    rng = random.Random(seed)
    events: list[bytes] = []
    now = datetime.now(UTC)
    citizen = 0
    while len(events) < count:
        citizen += 1
        service, agency = rng.choice(SERVICES)
        ticket = f"t-{citizen}"
        common = {"session_id": "s-bench", "level": "kecamatan", "kecamatan": "sukatani"}
        ids = {"ticket_id": ticket, "service": service, "agency": agency}
        pseudonym = f"{citizen:064x}"
        ref = TicketRef(**ids, number=f"KK-{citizen:03d}", position=1)
        for data in (
            CitizenCheckedInV1(
                **common,
                check_in_id=f"c-{citizen}",
                citizen=pseudonym,
                sex="F",
                age_band="30-44",
                resident=True,
                priority=False,
                checked_in_at=now,
                tickets=[ref],
            ),
            TicketCalledV1(**common, **ids, number=ref.number, waited_seconds=rng.uniform(0, 3600)),
            ServiceCompletedV1(
                **common,
                **ids,
                check_in_id=f"c-{citizen}",
                citizen=pseudonym,
                outcome="served",
                waited_seconds=10,
                service_seconds=rng.uniform(60, 900),
            ),
        ):
            events.append(encode_event(make_event(data, "registry")))
    return events[:count]


async def fill(nats_url: str, events: list[bytes]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js)
    for start in range(0, len(events), 1000):  # pipelined, 1000 acks in flight
        chunk = events[start : start + 1000]
        await asyncio.gather(
            *(
                js.publish(_subject(payload), payload, headers={MSG_ID_HEADER: f"{start + i}"})
                for i, payload in enumerate(chunk)
            )
        )
    await nc.close()


def _subject(payload: bytes) -> str:
    return str(json.loads(payload)["subject"])


async def raw_consumer(nats_url: str, count: int) -> tuple[float, float]:
    """Decode and ack every event with a plain pull consumer: events per second, and per
    CPU-second of this process (what a loaded machine changes least)."""
    nc = await nats.connect(nats_url)
    subscription = await nc.jetstream().pull_subscribe("botram.>", durable="raw-baseline")
    seen = 0
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):  # bounded: at most one fetch per event
        if seen >= count:
            break
        try:
            messages = await subscription.fetch(500, timeout=2)
        except TimeoutError:
            continue
        for message in messages:
            json.loads(message.data)
            await message.ack()
        seen += len(messages)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await nc.close()
    return seen / elapsed, seen / cpu


def steady_rate(progress: list[tuple[float, float, float]], total: int) -> tuple[float, float]:
    """Events per second and per CPU-second of the service, between the samples where 10 %
    and 90 % of the stream had been counted: once started, before the tail."""
    start = next(p for p in progress if p[1] >= total * 0.1)
    end = next(p for p in progress if p[1] >= total * 0.9)
    if end[0] <= start[0]:
        return float("nan"), float("nan")
    events = end[1] - start[1]
    cpu = end[2] - start[2]
    return events / (end[0] - start[0]), events / cpu if cpu > 0 else float("nan")


def consumed(metrics: str) -> float:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("botram_events_consumed_total{") and 'result="ok"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--aiosqlite",
        action="store_true",
        help="SQLite through plain aiosqlite (BOTRAM_SQLITE_INLINE=false) instead of inline",
    )
    args = parser.parse_args()
    events = day_of_events(args.events)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            asyncio.run(fill(server.url, events))
            baseline, baseline_cpu = asyncio.run(raw_consumer(server.url, args.events))
            started = time.perf_counter()
            reporting = start_service(
                "reporting",
                tmp,
                server.url,
                database_url(args.database, tmp, "reporting"),
                BOTRAM_SQLITE_INLINE=str(not args.aiosqlite).lower(),
            )
            ready = time.perf_counter()
            progress: list[tuple[float, float, float]] = []
            try:
                for _ in range(6000):  # bounded: 10 minutes at most
                    done = consumed(httpx.get(f"{reporting.url}/metrics", timeout=60).text)
                    progress.append((time.perf_counter(), done, reporting.cpu_seconds()))
                    if done >= args.events:
                        break
                    time.sleep(0.1)
            finally:
                reporting.stop()
    finished, done, _ = progress[-1]
    rate = done / (finished - started)
    # Reporting starts consuming before it answers /readyz, so this one is an upper bound.
    after_ready = done / (finished - ready)
    steady, steady_cpu = steady_rate(progress, args.events)
    variant = args.database + (", aiosqlite" if args.aiosqlite else "")
    report(
        f"reporting ingest ({variant})",
        [
            ("events in the stream", f"{args.events:,}"),
            ("reporting (incl. start-up)", f"{rate:,.0f} events/s"),
            ("reporting (from ready, upper bound)", f"{after_ready:,.0f} events/s"),
            ("reporting, steady (10 % -> 90 % of the stream)", f"{steady:,.0f} events/s"),
            ("raw nats-py decode + ack", f"{baseline:,.0f} events/s"),
            ("ratio reporting / raw (incl. start-up)", f"{rate / baseline:.2f}"),
            ("ratio reporting / raw (steady)", f"{steady / baseline:.2f}"),
            ("reporting, steady, per CPU-second", f"{steady_cpu:,.0f} events"),
            ("raw consumer, per CPU-second", f"{baseline_cpu:,.0f} events"),
            ("ratio per CPU-second (load-proof)", f"{steady_cpu / baseline_cpu:.2f}"),
            ("machine load (1 min)", f"{os.getloadavg()[0]:.2f}"),
        ],
        {
            "database": args.database,
            "sqlite_inline": not args.aiosqlite,
            "events": args.events,
            "reporting_rate": round(rate, 1),
            "reporting_rate_from_ready": round(after_ready, 1),
            "raw_rate": round(baseline, 1),
            "ratio": round(rate / baseline, 3),
            "reporting_rate_steady": round(steady, 1),
            "ratio_steady": round(steady / baseline, 3),
            "reporting_per_cpu_second": round(steady_cpu, 1),
            "raw_per_cpu_second": round(baseline_cpu, 1),
            "ratio_cpu": round(steady_cpu / baseline_cpu, 3),
            "load_1min": round(os.getloadavg()[0], 2),
        },
    )


if __name__ == "__main__":
    main()
