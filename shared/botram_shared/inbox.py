"""The idempotent consumer: an event's effect is applied at most once per consumer.

`claim_event()` records the event id in the caller's transaction. If the id was already
recorded, the caller skips the effect and acks: the redelivery changes nothing. Because the
record and the effect commit together, a crash between them leaves neither.
"""

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_shared.events.envelope import utc_now


class ProcessedEvent(SQLModel, table=True):
    """An event id a consumer has already applied."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True, max_length=80)
    event_id: str = Field(primary_key=True, max_length=36)
    processed_at: datetime = Field(default_factory=utc_now)


async def claim_event(session: AsyncSession, consumer: str, event_id: str) -> bool:
    """Record `event_id` for `consumer`; False when it was recorded before (a duplicate)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ProcessedEvent)
        .values(consumer=consumer, event_id=event_id, processed_at=utc_now())
        .on_conflict_do_nothing()
    )
    result = await session.exec(statement)
    return bool(result.rowcount)
