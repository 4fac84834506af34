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
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Float, Table, select
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_reporting.domain import Delta, Labels
from botram_runtime.db import upsert_insert
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

__all__ = [
    "AggregateRow",
    "CheckInFact",
    "OutboxEvent",
    "ProcessedEvent",
    "ServiceTable",
    "SessionRow",
    "TicketFact",
    "add_deltas",
    "load_rows",
    "sum_deltas",
    "upsert_rows",
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


# Ids per `IN (…)` list: far below PostgreSQL's 32,767 bind parameters per statement.
IN_CHUNK = 500


def _insert(session: AsyncSession) -> Any:
    return upsert_insert(session)


async def load_rows(
    session: AsyncSession, model: type[ServiceTable], ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The stored rows of `model` with these ids, as plain dicts keyed by id (a query per 500)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # asyncpg reuses prepared statements; after five runs PostgreSQL may keep a generic
        # plan made while the table was small: a sequential scan per `IN` list, 20x slower by
        # 100,000 rows. A custom plan per execution keeps the primary-key index.
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    wanted = list(dict.fromkeys(ids))
    rows: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        result = await connection.execute(select(table).where(table.c.id.in_(chunk)))
        for row in result.mappings():
            rows[row["id"]] = dict(row)
    return rows


async def upsert_rows(
    session: AsyncSession, model: type[ServiceTable], rows: Iterable[dict[str, Any]]
) -> None:
    """Write whole rows (every column, keyed by `id`) with one executemany upsert."""
    values = list(rows)
    if not values:
        return
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name != "id"},
    )
    connection = await session.connection()
    await connection.execute(statement, values)


def sum_deltas(deltas: Iterable[Delta]) -> list[Delta]:
    """One delta per aggregate (name and labels): the sum of the batch's, in first-seen order."""
    sums: dict[tuple[str, Labels], float] = {}
    for delta in deltas:
        key = (delta.name, delta.labels)
        sums[key] = sums.get(key, 0.0) + delta.value
    return [Delta(name, labels, value) for (name, labels), value in sums.items()]


async def add_deltas(
    session: AsyncSession, deltas: list[Delta], encode: Callable[[Labels], str]
) -> None:
    """Add each delta to its aggregate row (insert or increment), in the caller's transaction.

    One executemany upsert. Pass `sum_deltas()`'s output: an aggregate appearing twice in one
    statement would make PostgreSQL refuse to update the same row twice.
    """
    if not deltas:
        return
    table: Table = AggregateRow.__table__  # type: ignore[attr-defined]
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.name, table.c.labels],
        set_={"value": table.c.value + statement.excluded.value},
    )
    connection = await session.connection()
    await connection.execute(
        statement,
        [{"name": d.name, "labels": encode(d.labels), "value": d.value} for d in deltas],
    )
