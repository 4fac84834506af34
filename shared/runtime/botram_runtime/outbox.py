"""The transactional outbox: events are stored with the state change, then relayed to JetStream.

A service never publishes from a request handler. It calls `stage_event()` inside the same
transaction as its state change, so either both are stored or neither is. The `OutboxRelay`
publishes stored events in order, many acks in flight, with `Nats-Msg-Id` = event id: a
publish retried after a lost ack or a crash is dropped by the stream's duplicate window.
"""

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from nats.js import JetStreamContext
from sqlalchemy import BigInteger, Column, Integer, delete, func, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    EVENT_MODELS,
    MSG_ID_HEADER,
    BotramEvent,
    CloudEvent,
    encode_event,
    make_event,
)
from botram_contracts.events.envelope import utc_now
from botram_contracts.subjects import is_private
from botram_runtime.consumers import sleep_unless, stop_task
from botram_runtime.db import SERVICE_INFO, STAGED_EVENTS, Database

log = structlog.get_logger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0
# Published rows are kept a while for audit and troubleshooting, then purged; a private
# event's row (a phone number) goes as soon as the stream has it.
PUBLISHED_RETENTION = timedelta(days=7)
# The PostgreSQL advisory lock a relay holds while it publishes a batch (each service has its
# own database, so one number serves all; "botram-o" in ASCII).
RELAY_LOCK = 0x626F7472616D2D6F
RELAY_LOCK_WAIT = "15s"  # longer than a batch's publish (PUBLISH_TIMEOUT_SECONDS) and mark


class OutboxEvent(SQLModel, table=True):
    """An event waiting to be published (or, once `published_at` is set, already published)."""

    __tablename__ = "outbox_events"

    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event_id: str = Field(unique=True, max_length=36)
    subject: str = Field(max_length=255)
    type: str = Field(max_length=120)
    payload: bytes
    created_at: datetime = Field(default_factory=utc_now)
    published_at: datetime | None = Field(default=None, index=True)
    attempts: int = 0


OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
# Event types whose rows go as soon as the stream has them, like private ones: an anonymous
# survey answer kept beside the row that says which ticket answered could be matched to it.
DELETED_ON_PUBLISH = frozenset(t for t, model in EVENT_MODELS.items() if model.anonymous)
# Rows staged in a session, inserted with one statement just before it commits.
STAGED_ROWS = "botram.outbox_rows"


class ForeignEventError(TypeError):
    """A service tried to publish an event that another service owns."""


def stage_event(session: AsyncSession, data: BotramEvent) -> CloudEvent[Any]:
    """Add an event to the outbox in the caller's transaction; it is published after commit.

    The event's source is its model's producer; a database opened for one service
    (`Database(service=...)`) refuses to stage another service's events, because only the
    owning service publishes an entity's events (the contract).
    """
    owner = session.info.get(SERVICE_INFO)
    if owner is not None and data.producer != owner:
        raise ForeignEventError(
            f"{owner} may not publish {data.event_type} (owned by {data.producer})"
        )
    event = make_event(data)
    session.info[STAGED_EVENTS] = True
    session.info.setdefault(STAGED_ROWS, []).append(
        {
            "event_id": str(event.id),
            "subject": event.subject,
            "type": event.type,
            "payload": encode_event(event),
            "created_at": utc_now(),
            "published_at": None,
            "attempts": 0,
        }
    )
    return event


@sa_event.listens_for(Session, "before_commit")
def _insert_staged_rows(session: Session) -> None:
    # One executemany per commit instead of an ORM object per event: the ORM's unit of work
    # cost more than the insert itself on the check-in path (docs/BENCHMARKS.md).
    rows = session.info.pop(STAGED_ROWS, None)
    if rows:
        session.connection().execute(OUTBOX.insert(), rows)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_staged_rows(session: Session, _transaction: Any) -> None:
    session.info.pop(STAGED_ROWS, None)


class OutboxRelay:
    """Publishes outbox rows to JetStream until stopped; wakes early when told of new rows."""

    def __init__(
        self,
        database: Database,
        jetstream: Callable[[], JetStreamContext],
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        on_published: Callable[[int], None] | None = None,
    ) -> None:
        self._database = database
        self._jetstream = jetstream
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._on_published = on_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.last_error: str | None = None

    def notify(self) -> None:
        """Tell the relay that new events were committed."""
        self._wake.set()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace: float = 10.0) -> bool:
        """Stop within `grace` seconds: the batch in flight finishes, then one last flush
        publishes what was committed meanwhile (unless the bus is failing). Bounded: never
        a bare cancel-and-await on a task awaiting nats-py; returns whether it ended in time.
        """
        self._stopping.set()
        self._wake.set()
        stopped = await stop_task(self._task, grace)
        self._task = None
        return stopped

    async def _run(self) -> None:
        backoff = self._poll_seconds
        purge_due = utc_now()
        failing = False
        while not self._stopping.is_set():
            # Cleared before the pass, not after: rows committed while a batch is being
            # published wake the next pass at once instead of waiting for another commit
            # (or the poll).
            self._wake.clear()
            try:
                published = await self.publish_pending()
                self.last_error = None
                failing = False
                backoff = self._poll_seconds
                if published == self._batch_size:
                    continue  # more are waiting: no sleep
                if utc_now() >= purge_due:
                    await self.purge_published()
                    purge_due = utc_now() + timedelta(hours=1)
            except Exception as error:  # the bus or the database is down: keep the rows, retry
                self.last_error = type(error).__name__
                failing = True
                log.warning("outbox_publish_failed", error=repr(error), retry_in=backoff)
                backoff = min(backoff * 2, 30.0)
            if self._stopping.is_set():
                break
            if failing:
                self._wake.clear()  # retried after the back-off, not at the next commit
            await sleep_unless(self._wake, backoff)
        if not failing:
            await self._flush()

    async def _flush(self) -> None:
        """Publish what is left at stop (the caller bounds the time it may take)."""
        try:
            while await self.publish_pending() == self._batch_size:
                pass
        except Exception as error:  # kept in the outbox: published at the next start
            log.warning("outbox_flush_failed", error=repr(error))

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events in order; return how many were published.

        On PostgreSQL several replicas of a service share the outbox: the batch is claimed in
        one transaction that holds the outbox's advisory lock (one relay publishes at a time,
        so rows reach the stream in `seq` order) and locks its rows `FOR UPDATE SKIP LOCKED`,
        publishes them, marks them and commits. A relay that finds the lock taken waits for
        it, then reads only what is still unpublished. SQLite is one process per file: its
        relay reads, publishes and marks in separate short transactions, never holding the
        write lock during a publish.
        """
        if self._database.is_sqlite:
            async with self._database.session() as session:
                rows = (await session.exec(_pending(self._batch_size))).all()
            if not rows:
                return 0
            results = await self._publish(rows)
            async with self._database.transaction() as session:
                await _mark(session, rows, results)
        else:
            async with self._database.transaction() as session:
                # Wait for a relay of another replica to finish its batch (bounded by its
                # publish timeout), then read what it left: no row twice, none out of order.
                connection = await session.connection()
                await connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{RELAY_LOCK_WAIT}'")
                await session.exec(select(func.pg_advisory_xact_lock(RELAY_LOCK)))
                query = _pending(self._batch_size).with_for_update(skip_locked=True)
                rows = (await session.exec(query)).all()
                if not rows:
                    return 0
                results = await self._publish(rows)
                await _mark(session, rows, results)
        published = sum(1 for result in results if not _failed(result))
        if self._on_published is not None and published:
            self._on_published(published)
        failures = [result for result in results if _failed(result)]
        if failures:
            raise RuntimeError(f"{len(failures)} of {len(rows)} publishes failed: {failures[0]!r}")
        return published

    async def _publish(self, rows: Sequence[OutboxEvent]) -> list[object]:
        js = self._jetstream()
        # Pipelined: all publishes in flight at once, acks awaited together.
        return await asyncio.gather(
            *(
                js.publish(
                    row.subject,
                    row.payload,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    headers={MSG_ID_HEADER: row.event_id},
                )
                for row in rows
            ),
            return_exceptions=True,
        )

    async def purge_published(self) -> int:
        """Delete rows published longer ago than the retention period."""
        async with self._database.transaction() as session:
            result = await session.exec(
                delete(OutboxEvent).where(
                    col(OutboxEvent.published_at) < utc_now() - PUBLISHED_RETENTION
                )
            )
        return int(result.rowcount or 0)

    async def pending_count(self) -> int:
        """How many events wait to be published (a readiness and metrics figure)."""
        async with self._database.session() as session:
            count = await session.exec(
                select(func.count()).where(col(OutboxEvent.published_at).is_(None))
            )
            return int(count.one())


def _pending(limit: int) -> Any:
    return (
        select(OutboxEvent)
        .where(col(OutboxEvent.published_at).is_(None))
        .order_by(col(OutboxEvent.seq))
        .limit(limit)
    )


async def _mark(session: AsyncSession, rows: Sequence[OutboxEvent], results: list[object]) -> None:
    """Record a batch's outcome: published rows marked (private ones deleted), failures counted."""
    outcomes = list(zip(rows, results, strict=True))
    done = [row.seq for row, result in outcomes if not _failed(result) and not _deleted(row)]
    # Personal data (a phone for the notifier) is kept no longer than it takes to publish.
    done_private = [row.seq for row, result in outcomes if not _failed(result) and _deleted(row)]
    failed = [row.seq for row, result in outcomes if _failed(result)]
    if done:
        await session.exec(
            update(OutboxEvent)
            .where(col(OutboxEvent.seq).in_(done))
            .values(published_at=utc_now(), attempts=OutboxEvent.attempts + 1)
        )
    if done_private:
        await session.exec(delete(OutboxEvent).where(col(OutboxEvent.seq).in_(done_private)))
    if failed:
        await session.exec(
            update(OutboxEvent)
            .where(col(OutboxEvent.seq).in_(failed))
            .values(attempts=OutboxEvent.attempts + 1)
        )


def _deleted(row: OutboxEvent) -> bool:
    """A row to delete once published: a private event's, or an anonymous one's."""
    return is_private(row.subject) or row.type in DELETED_ON_PUBLISH


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)
