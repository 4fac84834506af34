"""The idempotent consumer: an event's effect is applied at most once per consumer.

`claim_event()` records the event id in the caller's transaction. If the id was already
recorded, the caller skips the effect and acks: the redelivery changes nothing. Because the
record and the effect commit together, a crash between them leaves neither. `claim_events()`
does the same for a whole batch in one statement (batched consumers).
"""

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events.envelope import utc_now
from botram_runtime.db import upsert_insert


class ProcessedEvent(SQLModel, table=True):
    """An event id a consumer has already applied."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True, max_length=80)
    event_id: str = Field(primary_key=True, max_length=36)
    processed_at: datetime = Field(default_factory=utc_now)


async def claim_event(session: AsyncSession, consumer: str, event_id: str) -> bool:
    """Record `event_id` for `consumer`; False when it was recorded before (a duplicate)."""
    insert = upsert_insert(session)
    statement = (
        insert(ProcessedEvent)
        .values(consumer=consumer, event_id=event_id, processed_at=utc_now())
        .on_conflict_do_nothing()
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def claim_events(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Record a batch of event ids for `consumer`; returns those recorded now (not before).

    One `INSERT … ON CONFLICT DO NOTHING RETURNING event_id` over the batch (SQLAlchemy pages
    it under the database's bind-parameter limit): the ids it returns are the new claims. An
    id recorded before, or by a concurrent transaction that committed first, is not returned,
    exactly as `claim_event()` would answer False for it. Ids repeated in the batch are claimed
    once. (No `SELECT … IN` first: on PostgreSQL a prepared statement's generic plan, chosen
    while the table was small, can turn it into a sequential scan per batch.)
    """
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    insert = upsert_insert(session)
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    statement = insert(table).on_conflict_do_nothing().returning(table.c.event_id)
    now = utc_now()
    connection = await session.connection()
    result = await connection.execute(
        statement, [{"consumer": consumer, "event_id": i, "processed_at": now} for i in ids]
    )
    return {str(event_id) for event_id in result.scalars()}
