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
import json
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Float, Table, delete, func
from sqlalchemy import select as select_table
from sqlalchemy.orm import registry
from sqlmodel import AutoString, Column, Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.vocabulary import Level, SessionStatus
from botram_reporting.domain.aggregates import Delta, Labels
from botram_reporting.domain.facts import FactBatch, FactKind, Row, TicketOutcome
from botram_reporting.upserts import upsert
from botram_runtime.db import dialect_of, lock_key
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

# The shared tables' models, imported so that migrations see them in SQLModel.metadata.
__all__ = ["OutboxEvent", "ProcessedEvent"]


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
    level: Level = Field(sa_type=AutoString(length=16))
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date
    status: SessionStatus = Field(sa_type=AutoString(length=16))


class CheckInFact(ServiceTable, table=True):
    __tablename__ = "report_check_ins"

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    level: Level = Field(sa_type=AutoString(length=16))
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
    level: Level | None = Field(default=None, sa_type=AutoString(length=16))
    kecamatan: str | None = Field(default=None, max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    day: dt.date | None = Field(default=None, index=True)
    called: bool = False
    waited_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # served / referred / rejected / no_show; None while waiting or at the desk.
    outcome: TicketOutcome | None = Field(default=None, sa_type=AutoString(length=16))
    service_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # From the completion to the agency's first follow-up (a document ready); None: none yet.
    ready_seconds: float | None = Field(default=None, sa_column=Column(Float, nullable=True))


FACT_TABLES: dict[FactKind, type[ServiceTable]] = {
    FactKind.SESSIONS: SessionRow,
    FactKind.CHECK_INS: CheckInFact,
    FactKind.TICKETS: TicketFact,
}
# Ids per `IN (…)` list: far below PostgreSQL's 32,767 bind parameters per statement.
IN_CHUNK = 500


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]  # SQLModel sets it on tables
    return table


# The PostgreSQL advisory lock a batch's transaction holds (one replica applies at a time).
INGEST_LOCK = lock_key("reporting-ingest")


async def lock_ingest(tx: AsyncSession) -> None:
    """Wait until no other replica applies a batch, then hold that right until commit.

    SQLite's `BEGIN IMMEDIATE` already admits one writer at a time.
    """
    if dialect_of(tx) == "postgresql":
        await tx.exec(select(func.pg_advisory_xact_lock(INGEST_LOCK)))


async def load_facts(tx: AsyncSession, ids: dict[FactKind, list[str]]) -> FactBatch:
    """The stored fact rows with these ids, in bulk, as a batch to merge events into."""
    return FactBatch(
        sessions=await load_rows(tx, SessionRow, ids[FactKind.SESSIONS]),
        check_ins=await load_rows(tx, CheckInFact, ids[FactKind.CHECK_INS]),
        tickets=await load_rows(tx, TicketFact, ids[FactKind.TICKETS]),
    )


async def write_facts(tx: AsyncSession, changed: dict[FactKind, list[Row]]) -> None:
    """Upsert changed fact rows: one statement per table."""
    for kind, model in FACT_TABLES.items():
        await upsert_rows(tx, model, changed.get(kind, ()))


async def load_rows(
    session: AsyncSession, model: type[ServiceTable], ids: Iterable[str]
) -> dict[str, Row]:
    """The stored rows of `model` with these ids, as plain dicts keyed by id (a query per 500)."""
    table = _table(model)
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # asyncpg reuses prepared statements; after five runs PostgreSQL may keep a generic
        # plan made while the table was small: a sequential scan per `IN` list, 20x slower by
        # 100,000 rows. A custom plan per execution keeps the primary-key index.
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    wanted = list(dict.fromkeys(ids))
    rows: dict[str, Row] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        result = await connection.execute(select_table(table).where(table.c.id.in_(chunk)))
        for row in result.mappings():
            rows[row["id"]] = dict(row)
    return rows


async def upsert_rows(
    session: AsyncSession, model: type[ServiceTable], rows: Iterable[Row]
) -> None:
    """Write whole rows (every column, keyed by `id`): a row stored already is overwritten.

    One statement per `UPSERT_CHUNK` rows, the rows passed as one JSON parameter (see
    `botram_reporting.upserts`). Callers pass each id once: PostgreSQL refuses a statement that
    updates a row twice.
    """
    table = _table(model)
    cells = itemgetter(*(column.name for column in table.columns))
    await upsert(session, table, "replace", [cells(row) for row in rows])


def encode_labels(labels: Labels) -> str:
    return json.dumps(labels, separators=(",", ":"))


def decode_labels(text: str) -> Labels:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


async def add_deltas(session: AsyncSession, deltas: Sequence[Delta]) -> None:
    """Add each delta to its aggregate row (insert or increment), in the caller's transaction.

    One statement per `UPSERT_CHUNK` rows. Pass `sum_deltas()`'s output: an aggregate
    appearing twice in one statement would make PostgreSQL refuse to update the same row twice.
    """
    # In key order: two transactions updating the same rows take their locks in one order,
    # and cannot deadlock (whoever else writes them: a rebuild, a second writer). The tuples
    # follow the table's column order (name, labels, value).
    rows = sorted((d.name, encode_labels(d.labels), d.value) for d in deltas)
    await upsert(session, _table(AggregateRow), "add", rows)


async def stored_aggregates(session: AsyncSession) -> list[Delta]:
    """Every stored aggregate, as the delta that would count it from zero."""
    rows = (await session.exec(select(AggregateRow))).all()
    return [Delta(row.name, decode_labels(row.labels), row.value) for row in rows]


async def all_sessions(session: AsyncSession) -> list[SessionRow]:
    return list((await session.exec(select(SessionRow))).all())


async def session_row(session: AsyncSession, session_id: str) -> SessionRow | None:
    return await session.get(SessionRow, session_id)


async def session_rows(session: AsyncSession, ids: Iterable[str]) -> dict[str, SessionRow]:
    """The stored sessions with these ids, by id (a query per 500)."""
    wanted = list(dict.fromkeys(ids))
    rows: dict[str, SessionRow] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        query = select(SessionRow).where(col(SessionRow.id).in_(wanted[start : start + IN_CHUNK]))
        rows |= {row.id: row for row in (await session.exec(query)).all()}
    return rows


async def report_facts(
    session: AsyncSession,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    level: Level | None = None,
    kecamatan: str | None = None,
    session_id: str | None = None,
) -> tuple[list[CheckInFact], list[TicketFact]]:
    """The check-ins and issued tickets matching a report's filters, by id."""
    check_in_query = select(CheckInFact).where(
        *_filters(CheckInFact, start, end, level, kecamatan, session_id)
    )
    ticket_query = select(TicketFact).where(
        col(TicketFact.issued), *_filters(TicketFact, start, end, level, kecamatan, session_id)
    )
    check_ins = list((await session.exec(check_in_query.order_by(col(CheckInFact.id)))).all())
    tickets = list((await session.exec(ticket_query.order_by(col(TicketFact.id)))).all())
    return check_ins, tickets


def _filters(
    model: type[CheckInFact] | type[TicketFact],
    start: dt.date | None,
    end: dt.date | None,
    level: Level | None,
    kecamatan: str | None,
    session_id: str | None,
) -> list[Any]:
    conditions: list[Any] = []
    if start is not None:
        conditions.append(col(model.day) >= start)
    if end is not None:
        conditions.append(col(model.day) <= end)
    if level is not None:
        conditions.append(col(model.level) == level)
    if kecamatan is not None:
        conditions.append(col(model.kecamatan) == kecamatan)
    if session_id is not None:
        conditions.append(col(model.session_id) == session_id)
    return conditions


async def issued_tickets(
    session: AsyncSession, level: Level, start: dt.date, end: dt.date
) -> list[TicketFact]:
    """Tickets issued at sessions of `level` between two dates (inclusive)."""
    query = select(TicketFact).where(
        col(TicketFact.issued),
        col(TicketFact.level) == level,
        col(TicketFact.day) >= start,
        col(TicketFact.day) <= end,
    )
    return list((await session.exec(query)).all())


async def clear_tables(tx: AsyncSession, consumer: str) -> None:
    """Empty every table the consumer fills, and forget which events it has applied."""
    for model in (AggregateRow, SessionRow, CheckInFact, TicketFact):
        await tx.exec(delete(model))
    await tx.exec(delete(ProcessedEvent).where(col(ProcessedEvent.consumer) == consumer))
