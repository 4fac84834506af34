"""Check-ins/s of one registry replica against two behind the same PostgreSQL, same run.

    .venv/bin/python -m benchmarks.replicas [--seconds 10] [--concurrency 32]

One nats-server, one PostgreSQL database, two registry processes on it (the second starts
after the first migrated). wrk drives the first replica alone, then both at once (half the
connections each, different citizens); the figure is the sum of the two against the one.
Every accepted check-in must reach the stream (requests still in flight when wrk stops are
committed too, but not counted by wrk: the stream may hold a few more).
"""

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import wrk
from benchmarks.checkin import (
    SERVICES,
    SESSION,
    announce_session,
    front_desk_token,
    stream_count,
    wait_session_open,
)
from benchmarks.common import database_url, nats_server, report, start_service

PATH = f"/v1/sessions/{SESSION}/check-ins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    wrk.ensure()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        token = front_desk_token(tmp)
        with nats_server(tmp) as server:
            url = database_url("postgresql", tmp, "registry")
            first = start_service("registry", tmp, server.url, url)
            second = start_service("registry", tmp, server.url, url)
            try:
                asyncio.run(announce_session(server.url))
                for replica in (first, second):
                    asyncio.run(wait_session_open(replica.url))
                one = wrk.check_ins(
                    first.url, PATH, SERVICES, seconds=args.seconds,
                    connections=args.concurrency, token=token,
                )  # fmt: skip
                with ThreadPoolExecutor(2) as pool:
                    runs = [
                        pool.submit(
                            wrk.check_ins,
                            replica.url,
                            PATH,
                            SERVICES,
                            seconds=args.seconds,
                            connections=args.concurrency // 2,
                            offset=(n + 1) * 10**6,
                            token=token,
                        )
                        for n, replica in enumerate((first, second))
                    ]
                    both = [run.result() for run in runs]
                accepted = one.requests - one.errors + sum(r.requests - r.errors for r in both)
                deadline = time.monotonic() + 60
                while (
                    asyncio.run(stream_count(server.url)) < accepted + 2
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.2)
                published = asyncio.run(stream_count(server.url)) - 2
            finally:
                first.stop()
                second.stop()
    two_rate = sum(run.rate for run in both)
    report(
        "registry replicas (postgresql)",
        [
            (f"one replica, {args.concurrency} connections", f"{one.rate:,.0f}/s"),
            (
                f"two replicas, {args.concurrency // 2} connections each",
                f"{two_rate:,.0f}/s ({' + '.join(f'{r.rate:,.0f}' for r in both)})",
            ),
            ("ratio two / one", f"{two_rate / one.rate:.2f}"),
            ("p99 one / two", f"{one.p99_ms:.0f} ms / {max(r.p99_ms for r in both):.0f} ms"),
            ("accepted check-ins / events in the stream", f"{accepted:,} / {published:,}"),
        ],
        {
            "one_rate": round(one.rate, 1),
            "two_rate": round(two_rate, 1),
            "ratio": round(two_rate / one.rate, 3),
            "accepted": accepted,
            "published": published,
            "errors": one.errors + sum(r.errors for r in both),
        },
    )


if __name__ == "__main__":
    main()
