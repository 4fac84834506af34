"""The idempotent consumer: an event's effect is applied at most once per consumer.

`claim_event()` records the event id in the caller's transaction. If the id was already
recorded, the caller skips the effect and acks: the redelivery changes nothing. Because the
record and the effect commit together, a crash between them leaves neither. `claim_events()`
does the same for a whole batch in one statement (batched consumers).
"""

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events.envelope import utc_now
from botram_runtime.db import dialect_of, upsert_insert


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


# A batch's claims as one statement with one parameter holding every id (a JSON array on
# SQLite, an array on PostgreSQL): no per-row parameters for SQLAlchemy to build, which cost
# more than the insert itself (a quarter of reporting's ingest). SQLite needs the WHERE to
# parse an upsert whose rows come from a SELECT.
_PROCESSED_AT = bindparam("now", type_=DateTime(timezone=True))
_CLAIMS = {
    "sqlite": text(
        "INSERT INTO processed_events (consumer, event_id, processed_at) "
        "SELECT :consumer, value, :now FROM json_each(:ids) WHERE true "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    ).bindparams(_PROCESSED_AT),
    "postgresql": text(
        "INSERT INTO processed_events (consumer, event_id, processed_at) "
        "SELECT :consumer, unnest(CAST(:ids AS varchar[])), :now "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    ).bindparams(_PROCESSED_AT, bindparam("ids", type_=ARRAY(String))),
}


async def claim_events(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """Record a batch of event ids for `consumer`; returns those recorded now (not before).

    One `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING event_id` over the batch's ids,
    passed as one parameter: the ids it returns are the new claims. An id recorded before, or
    by a concurrent transaction that committed first, is not returned, exactly as
    `claim_event()` would answer False for it. Ids repeated in the batch are claimed once.
    (No `SELECT … IN` first: on PostgreSQL a prepared statement's generic plan, chosen while
    the table was small, can turn it into a sequential scan per batch.)
    """
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    dialect = dialect_of(session)
    statement = _CLAIMS[dialect]
    connection = await session.connection()
    result = await connection.execute(
        statement,
        {
            "consumer": consumer,
            "ids": json.dumps(ids) if dialect == "sqlite" else ids,
            "now": utc_now(),
        },
    )
    return {str(event_id) for event_id in result.scalars()}
