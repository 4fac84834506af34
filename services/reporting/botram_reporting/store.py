"""Reporting tables: aggregates as labelled counters, and each session's level and status."""

import datetime as dt

from sqlalchemy import Float
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_reporting.domain import Delta
from botram_shared.inbox import ProcessedEvent
from botram_shared.outbox import OutboxEvent

__all__ = [
    "AggregateRow",
    "OutboxEvent",
    "ProcessedEvent",
    "ServiceTable",
    "SessionRow",
    "add_deltas",
]


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""


class AggregateRow(ServiceTable, table=True):
    __tablename__ = "aggregates"

    name: str = Field(primary_key=True, max_length=80)
    labels: str = Field(primary_key=True, max_length=400, description="JSON array of label pairs")
    value: float = Field(default=0.0, sa_column=Column(Float, nullable=False))


class SessionRow(ServiceTable, table=True):
    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=36)
    level: str = Field(max_length=16)
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date
    status: str = Field(max_length=16)


async def add_deltas(session: AsyncSession, deltas: list[Delta], encode: object) -> None:
    """Add each delta to its aggregate row (insert or increment), in the caller's transaction."""
    if not deltas:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for delta in deltas:
        statement = insert(AggregateRow).values(
            name=delta.name,
            labels=encode(delta.labels),
            value=delta.value,  # type: ignore[operator]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["name", "labels"],
            set_={"value": AggregateRow.value + statement.excluded.value},  # type: ignore[operator]
        )
        await session.exec(statement)  # type: ignore[call-overload]
