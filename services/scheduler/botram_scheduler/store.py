"""Scheduler tables: the sessions of the Botram calendar and the latest demand rankings (plus
the shared outbox/inbox), and the queries use cases share."""

import datetime as dt
from collections.abc import Sequence
from datetime import datetime, time

from sqlalchemy import JSON, Column, and_, func, or_
from sqlalchemy.orm import registry
from sqlmodel import AutoString, Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from botram_contracts.events.envelope import utc_now
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.db import dialect_of
from botram_runtime.errors import NotFound
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent
from botram_scheduler.domain.sessions import Origin

__all__ = [
    "DemandRankingRow",
    "OutboxEvent",
    "ProcessedEvent",
    "ServiceTable",
    "SessionRow",
]


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""


class SessionRow(ServiceTable, table=True):
    """One Botram session (a kecamatan Saturday, a desa Tuesday/Thursday, or an ad-hoc one)."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=36)
    # Enums in Python, plain strings in the database (no DB enum: no migration per new value).
    level: Level = Field(sa_type=AutoString(length=16), index=True)
    kecamatan: str = Field(index=True, max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date = Field(index=True)
    start: time
    end: time
    venue: str | None = Field(default=None, max_length=200)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: SessionStatus = Field(sa_type=AutoString(length=16), index=True)
    origin: Origin = Field(default=Origin.MANUAL, sa_type=AutoString(length=16))
    status_reason: str | None = Field(default=None, max_length=500)
    # The rotation slot a generated session fills ("desa:0:cikarang-selatan/ciantra"): how
    # generating again finds it instead of creating it twice.
    rotation_key: str | None = Field(default=None, max_length=120, unique=True, index=True)
    ranking_id: str | None = Field(default=None, max_length=36)
    # Bumped on every change citizens' calendars must pick up (iCalendar SEQUENCE).
    sequence: int = Field(default=0)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class DemandRankingRow(ServiceTable, table=True):
    """The latest demand ranking reporting published, one per level."""

    __tablename__ = "demand_rankings"

    level: Level = Field(sa_type=AutoString(length=16), primary_key=True)
    ranking_id: str = Field(max_length=36)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    period_from: dt.date
    period_to: dt.date
    published_at: datetime
    received_at: datetime = Field(default_factory=utc_now)


BY_DATE = (col(SessionRow.date), col(SessionRow.start), col(SessionRow.id))


async def session_row(tx: AsyncSession, session_id: str) -> SessionRow:
    """The session with this id; 404 `session-not-found` when there is none."""
    row = await tx.get(SessionRow, session_id)
    if row is None:
        raise NotFound("session", session_id)
    return row


def sessions_where(
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kecamatan: str | None = None,
    desa: str | None = None,
    level: Level | None = None,
    status: SessionStatus | None = None,
) -> SelectOfScalar[SessionRow]:
    """Sessions in [start, end] of a place, level and status (None: any)."""
    query = select(SessionRow)
    if start is not None:
        query = query.where(col(SessionRow.date) >= start)
    if end is not None:
        query = query.where(col(SessionRow.date) <= end)
    if kecamatan is not None:
        query = query.where(SessionRow.kecamatan == kecamatan)
    if desa is not None:
        query = query.where(SessionRow.desa == desa)
    if level is not None:
        query = query.where(SessionRow.level == level)
    if status is not None:
        query = query.where(SessionRow.status == status)
    return query


async def page_of(
    tx: AsyncSession, query: SelectOfScalar[SessionRow], limit: int, offset: int
) -> tuple[list[SessionRow], int]:
    """One page of the sessions a query selects, by date, and how many it selects in all."""
    total = (await tx.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = (await tx.exec(query.order_by(*BY_DATE).limit(limit).offset(offset))).all()
    return list(rows), int(total)


async def sessions_the_clock_may_move(tx: AsyncSession, today: dt.date) -> Sequence[SessionRow]:
    """Scheduled sessions of today and opened sessions of today or before."""
    query = select(SessionRow).where(
        or_(
            and_(col(SessionRow.status) == SessionStatus.SCHEDULED, col(SessionRow.date) == today),
            and_(col(SessionRow.status) == SessionStatus.OPENED, col(SessionRow.date) <= today),
        )
    )
    return (await tx.exec(query)).all()


async def rotation_sessions(tx: AsyncSession, start: dt.date, end: dt.date) -> Sequence[SessionRow]:
    """The generated sessions (those with a rotation slot) dated in [start, end]."""
    query = select(SessionRow).where(
        col(SessionRow.rotation_key).is_not(None),
        col(SessionRow.date) >= start,
        col(SessionRow.date) <= end,
    )
    return (await tx.exec(query)).all()


async def sessions_of_slots(tx: AsyncSession, keys: Sequence[str]) -> Sequence[SessionRow]:
    """The sessions filling these rotation slots, wherever they are dated."""
    if not keys:
        return []
    query = select(SessionRow).where(col(SessionRow.rotation_key).in_(keys))
    return (await tx.exec(query)).all()


# The PostgreSQL advisory lock that serialises generations (any 64-bit number no other lock of
# this database uses; "botram-g" in ASCII).
GENERATION_LOCK = 0x626F7472616D2D67


async def lock_calendar_for_generation(tx: AsyncSession) -> None:
    """Hold the calendar for this transaction against other generations, on every instance.

    Generation reads what is stored, then inserts what is missing: two at once would both
    insert the same slot. On PostgreSQL a transaction-scoped advisory lock makes the second
    wait for the first to commit, then read what it stored; SQLite's `BEGIN IMMEDIATE`
    already admits one writing transaction at a time.
    """
    if dialect_of(tx) == "postgresql":
        await tx.exec(select(func.pg_advisory_xact_lock(GENERATION_LOCK)))
