"""Rebuild: replay the stream from its start into emptied reporting tables.

Run it with the reporting service stopped (`python -m botram_reporting rebuild`). It reads
through an ephemeral consumer of its own, so the service's durable consumer keeps its place;
when the service starts again, whatever that consumer redelivers was already claimed by the
rebuild and counts nothing twice. Replayed history publishes no demand ranking.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import delete
from sqlmodel import col

from botram_contracts.events import CloudEvent, EventDecodeError, UnknownEventType, decode_event
from botram_contracts.subjects import PUBLIC_EVENT_FAMILIES
from botram_reporting.handlers import CONSUMER, Reporting, apply_events
from botram_reporting.metrics import Aggregates
from botram_reporting.settings import Settings
from botram_reporting.store import AggregateRow, CheckInFact, SessionRow, TicketFact
from botram_runtime.db import Database
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.stream import STREAM_NAME

FETCH_TIMEOUT_SECONDS = 2.0
# progress(done, total): called after each batch.
Progress = Callable[[int, int], None]


async def clear_tables(db: Database) -> None:
    """Empty every table the consumer fills, in one transaction."""
    async with db.transaction() as session:
        for model in (AggregateRow, SessionRow, CheckInFact, TicketFact):
            await session.exec(delete(model))  # type: ignore[call-overload]
        await session.exec(
            delete(ProcessedEvent).where(col(ProcessedEvent.consumer) == CONSUMER)  # type: ignore[call-overload]
        )


async def rebuild(
    settings: Settings, migrations: Any, progress: Progress | None = None
) -> dict[str, int]:
    """Replay every public event into fresh tables; returns what was read and applied."""
    db = Database(settings.resolved_database_url(), sqlite_inline=settings.sqlite_inline)
    nc = await nats.connect(settings.nats_url.split(","), connect_timeout=5)
    counts = {"read": 0, "applied": 0, "duplicates": 0, "unknown": 0, "malformed": 0}
    try:
        await db.migrate(migrations)
        await clear_tables(db)
        reporting = Reporting(
            db=db,
            aggregates=Aggregates(),
            demand_window_days=settings.demand_window_days,
            publish_rankings=False,
        )
        js = nc.jetstream()
        subscription = await js.pull_subscribe(
            "",
            stream=STREAM_NAME,
            config=ConsumerConfig(
                filter_subjects=list(PUBLIC_EVENT_FAMILIES),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60.0,
            ),
        )
        info = await subscription.consumer_info()
        total = info.num_pending
        batch = settings.reporting_rebuild_batch_size

        async def fetch(size: int) -> list[Msg] | None:
            try:
                return await subscription.fetch(size, timeout=FETCH_TIMEOUT_SECONDS)
            except TimeoutError:
                return None  # the stream holds fewer messages than counted (purged meanwhile)

        # The next batch is fetched while this one is decoded and applied.
        pending = asyncio.create_task(fetch(min(batch, total))) if total else None
        try:
            while pending is not None:
                messages = await pending
                pending = None
                if messages is None:  # once more, without racing a batch being applied
                    messages = await fetch(min(batch, total - counts["read"]))
                if messages is None:
                    break
                counts["read"] += len(messages)
                if counts["read"] < total:
                    pending = asyncio.create_task(fetch(min(batch, total - counts["read"])))
                events: list[CloudEvent[Any]] = []
                for message in messages:
                    try:
                        events.append(decode_event(message.data))
                    except UnknownEventType:
                        counts["unknown"] += 1
                    except EventDecodeError:
                        counts["malformed"] += 1
                duplicates = await apply_events(reporting, events)
                counts["duplicates"] += len(duplicates)
                counts["applied"] += len(events) - len(duplicates)
                if progress is not None:
                    progress(counts["read"], total)
        finally:
            if pending is not None:
                pending.cancel()
                with suppress(asyncio.CancelledError):
                    await pending
        await subscription.unsubscribe()
    finally:
        await nc.close()
        await db.dispose()
    return counts
