"""Rebuild: replay the stream from its start into emptied reporting tables.

Run it with the reporting service stopped (`python -m botram_reporting rebuild`). It reads
through an ephemeral consumer of its own, so the service's durable consumer keeps its place;
when the service starts again, whatever that consumer redelivers was already claimed by the
rebuild and counts nothing twice. Replayed history publishes no demand ranking.
"""

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from botram_contracts.events import CloudEvent, EventDecodeError, UnknownEventType, decode_event
from botram_contracts.subjects import PUBLIC_EVENT_FAMILIES
from botram_reporting import store
from botram_reporting.deps import Deps
from botram_reporting.usecases.ingest import CONSUMER, apply_events
from botram_runtime.stream import STREAM_NAME

FETCH_TIMEOUT_SECONDS = 2.0
# progress(done, total): called after each batch.
Progress = Callable[[int, int], None]


@dataclass
class Replayed:
    """What a rebuild read from the stream and what it made of it."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    unknown: int = 0
    malformed: int = 0


async def rebuild(deps: Deps, progress: Progress | None = None) -> Replayed:
    """Replay every public event into emptied tables (`deps` must not publish rankings)."""
    nc = await nats.connect(deps.settings.nats_url.split(","), connect_timeout=5)
    counts = Replayed()
    try:
        async with deps.db.transaction() as tx:
            await store.clear_tables(tx, CONSUMER)
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
        total = info.num_pending or 0
        batch = deps.settings.reporting_rebuild_batch_size

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
                    messages = await fetch(min(batch, total - counts.read))
                if messages is None:
                    break
                counts.read += len(messages)
                if counts.read < total:
                    pending = asyncio.create_task(fetch(min(batch, total - counts.read)))
                events: list[CloudEvent[Any]] = []
                for message in messages:
                    try:
                        events.append(decode_event(message.data))
                    except UnknownEventType:
                        counts.unknown += 1
                    except EventDecodeError:
                        counts.malformed += 1
                duplicates = await apply_events(deps, events)
                counts.duplicates += len(duplicates)
                counts.applied += len(events) - len(duplicates)
                if progress is not None:
                    progress(counts.read, total)
        finally:
            if pending is not None:
                pending.cancel()
                with suppress(asyncio.CancelledError):
                    await pending
        await subscription.unsubscribe()
    finally:
        await nc.close()
    return counts
