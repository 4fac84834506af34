"""Stops in a row under load (tests/faults/test_shutdown.py runs a few): reporting is started
and stopped again and again while events keep arriving; each stop must end within the grace,
and every event must be counted exactly once at the end.

    .venv/bin/python -m benchmarks.faults.stops [--stops 100] [--grace 10]
"""

import argparse
import asyncio
import tempfile
from pathlib import Path

import nats

from benchmarks.common import nats_server, percentile, report
from botram_contracts.events import MSG_ID_HEADER, SessionOpenedV1, encode_event, make_event
from botram_contracts.events.envelope import utc_now
from botram_reporting.main import create_app
from botram_reporting.settings import Settings
from botram_runtime.stream import STREAM_NAME, ensure_streams

OPENED = "botram.session.opened.v1"


async def run(url: str, tmp: Path, stops: int, grace: float) -> tuple[list[float], int, int]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_streams(js)
    published = 0
    publishing = True

    async def publish_steadily() -> None:
        nonlocal published
        while publishing:
            event = make_event(
                SessionOpenedV1(
                    session_id=f"s-{published}",
                    level="kecamatan",
                    kecamatan="sukatani",
                    date=utc_now().date(),
                    opened_at=utc_now(),
                ),
                "scheduler",
            )
            await js.publish(
                event.subject, encode_event(event), headers={MSG_ID_HEADER: str(event.id)}
            )
            published += 1
            await asyncio.sleep(0.002)

    settings = Settings(
        nats_url=url,
        database_url=f"sqlite+aiosqlite:///{tmp / 'reporting.db'}",
        shutdown_grace=grace,
        consumer_lag_poll_seconds=0.005,
        reporting_batch_size=50,
    )
    publisher = asyncio.create_task(publish_steadily())
    clock = asyncio.get_running_loop().time
    durations: list[float] = []
    applied = 0
    for run_index in range(stops + 1):
        last = run_index == stops
        if last:
            publishing = False
            await publisher
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        runtime = app.state.runtime

        def counted(runtime: object = runtime) -> int:
            value = runtime.registry.get_sample_value(  # type: ignore[attr-defined]
                "botram_events_consumed_total",
                {"consumer": "reporting", "type": OPENED, "result": "ok"},
            )
            return int(value or 0)

        for _ in range(600):
            if last:
                info = await js.consumer_info(STREAM_NAME, "reporting")
                if info.num_pending == 0 and not info.num_ack_pending:
                    break
            elif counted() > 0:
                break
            await asyncio.sleep(0.05)
        started = clock()
        await lifespan.__aexit__(None, None, None)
        durations.append(clock() - started)
        applied += counted()
    await nc.close()
    return durations, published, applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stops", type=int, default=100)
    parser.add_argument("--grace", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        with nats_server(tmp) as server:
            durations, published, applied = asyncio.run(
                run(server.url, tmp, args.stops, args.grace)
            )
    over = sum(1 for seconds in durations if seconds > args.grace)
    print(
        f"{published} events, {published - applied} lost, {max(applied - published, 0)} duplicated"
    )
    report(
        "faults: stops in a row under load",
        [
            ("stops", str(len(durations))),
            ("over the grace", str(over)),
            (
                "p50 / p99 / max stop (s)",
                f"{percentile(durations, 50):.3f} / "
                f"{percentile(durations, 99):.3f} / {max(durations):.3f}",
            ),
            ("events published / counted", f"{published} / {applied}"),
        ],
        {
            "stops": len(durations),
            "over_grace": over,
            "max_stop_seconds": max(durations),
            "published": published,
            "counted": applied,
        },
    )


if __name__ == "__main__":
    main()
