"""Reporting tables.

- `aggregates`: the contract's Prometheus counters and histograms as labelled values.
- `sessions`: each session's place, date and status.
- `report_check_ins` and `report_tickets`: one row per check-in and per ticket with the coarse
  attributes and the durations, no personal data (no NIK, name, phone, not even the
  pseudonym). Reports are computed from these facts, so every breakdown (session, kecamatan,
  desa, service, agency, day/week/month) and every percentile is exact, and rows are merged
  field by field so events of different families may arrive in any order.
"""

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
    "CheckInFact",
    "OutboxEvent",
    "ProcessedEvent",
    "ServiceTable",
    "SessionRow",
    "TicketFact",
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


class CheckInFact(ServiceTable, table=True):
    __tablename__ = "report_check_ins"

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    level: str = Field(max_length=16)
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    day: dt.date = Field(index=True, description="Local (WIB) date of the check-in")
    hour: int = Field(description="Local (WIB) hour of the check-in, 0-23")
    sex: str = Field(max_length=1)
    age_band: str = Field(max_length=8)
    resident: bool
    priority: bool


class TicketFact(ServiceTable, table=True):
    __tablename__ = "report_tickets"

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    service: str = Field(max_length=80)
    agency: str = Field(max_length=80)
    # Known once the issuing event (check-in or tickets added) has been applied.
    issued: bool = False
    check_in_id: str | None = Field(default=None, max_length=36)
    level: str | None = Field(default=None, max_length=16)
    kecamatan: str | None = Field(default=None, max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    day: dt.date | None = Field(default=None, index=True)
    called: bool = False
    waited_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # served / referred / rejected / no_show; None while waiting or at the desk.
    outcome: str | None = Field(default=None, max_length=16)
    service_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))


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
