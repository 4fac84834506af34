"""Rebuild: replay the stream from its start into emptied reporting tables.

Run it with the reporting service stopped (`python -m botram_reporting rebuild`). The replay
reads through an ephemeral consumer of its own, so the service's durable consumer keeps its
place; when the service starts again, whatever that consumer redelivers was already claimed
by the rebuild and counts nothing twice. Replayed history publishes no demand ranking.
"""

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Protocol

from botram_contracts.events import CloudEvent, EventDecodeError, UnknownEventType, decode_event
from botram_reporting import store, survey_store
from botram_reporting.deps import Deps
from botram_reporting.usecases.ingest import CONSUMER, apply_events

# progress(done, total): called after each batch.
Progress = Callable[[int, int], None]


class Replay(Protocol):
    """The stream's public events from its start: how many, and their payloads by batch."""

    @property
    def total(self) -> int: ...

    def batches(self) -> AsyncGenerator[list[bytes], None]: ...


@dataclass
class Replayed:
    """What a rebuild read from the stream and what it made of it."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    unknown: int = 0
    malformed: int = 0


async def rebuild(deps: Deps, replay: Replay, progress: Progress | None = None) -> Replayed:
    """Empty the tables, then apply every replayed event (`deps` must not publish rankings)."""
    async with deps.db.transaction() as tx:
        await store.clear_tables(tx, CONSUMER)
        await survey_store.clear_answers(tx)
    counts = Replayed()
    async with aclosing(replay.batches()) as batches:
        async for payloads in batches:
            counts.read += len(payloads)
            events: list[CloudEvent[Any]] = []
            for payload in payloads:
                try:
                    events.append(decode_event(payload))
                except UnknownEventType:
                    counts.unknown += 1
                except EventDecodeError:
                    counts.malformed += 1
            duplicates = await apply_events(deps, events)
            counts.duplicates += len(duplicates)
            counts.applied += len(events) - len(duplicates)
            if progress is not None:
                progress(counts.read, replay.total)
    return counts
