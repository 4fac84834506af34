"""(d) Reporting's rebuild (replay) rate: `python -m botram_reporting rebuild` over a stream
of N events, against a raw nats-py consumer that only decodes and acks the same events.

    .venv/bin/python -m benchmarks.rebuild [--events 1000000] [--database sqlite|postgresql]
                                           [--batch 5000] [--aiosqlite]
"""

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import child_environment, database_url, nats_server, report
from benchmarks.ingest import day_of_events, fill, raw_consumer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch", type=int, help="BOTRAM_REPORTING_REBUILD_BATCH_SIZE")
    parser.add_argument(
        "--aiosqlite",
        action="store_true",
        help="SQLite through plain aiosqlite (BOTRAM_SQLITE_INLINE=false) instead of inline",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            started = time.perf_counter()
            asyncio.run(fill(server.url, day_of_events(args.events)))
            fill_seconds = time.perf_counter() - started
            baseline, baseline_cpu = asyncio.run(raw_consumer(server.url, args.events))
            env = child_environment(
                BOTRAM_NATS_URL=server.url,
                BOTRAM_DATABASE_URL=database_url(args.database, tmp, "reporting"),
                BOTRAM_LOG_LEVEL="WARNING",
                BOTRAM_SQLITE_INLINE=str(not args.aiosqlite).lower(),
            )
            if args.batch:
                env["BOTRAM_REPORTING_REBUILD_BATCH_SIZE"] = str(args.batch)
            started, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            result = subprocess.run(
                [sys.executable, "-m", "botram_reporting", "rebuild"],
                env=env, cwd=tmp, capture_output=True, text=True, check=False, timeout=3600,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the rebuild, once waited for
            cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    if result.returncode != 0:
        sys.exit(result.stdout[-2000:] + result.stderr[-2000:])
    rate = args.events / seconds
    variant = args.database + (", aiosqlite" if args.aiosqlite else "")
    report(
        f"rebuild ({variant})",
        [
            ("events replayed", f"{args.events:,}"),
            ("rebuild (process start to end)", f"{rate:,.0f} events/s ({seconds:.0f} s)"),
            ("raw nats-py decode + ack", f"{baseline:,.0f} events/s"),
            ("ratio rebuild / raw", f"{rate / baseline:.2f}"),
            ("rebuild, per CPU-second", f"{args.events / cpu:,.0f} events"),
            ("raw consumer, per CPU-second", f"{baseline_cpu:,.0f} events"),
            ("ratio per CPU-second (load-proof)", f"{args.events / cpu / baseline_cpu:.2f}"),
            ("machine load (1 min)", f"{os.getloadavg()[0]:.2f}"),
            ("stream filled at", f"{args.events / fill_seconds:,.0f} events/s (pipelined)"),
        ],
        {
            "database": args.database,
            "sqlite_inline": not args.aiosqlite,
            "batch": args.batch,
            "events": args.events,
            "rebuild_rate": round(rate, 1),
            "raw_rate": round(baseline, 1),
            "ratio": round(rate / baseline, 3),
            "rebuild_per_cpu_second": round(args.events / cpu, 1),
            "raw_per_cpu_second": round(baseline_cpu, 1),
            "ratio_cpu": round(args.events / cpu / baseline_cpu, 3),
            "load_1min": round(os.getloadavg()[0], 2),
        },
    )


if __name__ == "__main__":
    main()
