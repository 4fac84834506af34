"""Scheduler tables: the sessions of the Botram calendar (plus the shared outbox/inbox)."""

import datetime as dt
from datetime import datetime, time

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from botram_contracts.events.envelope import utc_now
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

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
    level: str = Field(index=True, max_length=16)
    kecamatan: str = Field(index=True, max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date = Field(index=True)
    start: time
    end: time
    venue: str | None = Field(default=None, max_length=200)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(index=True, max_length=16)
    origin: str = Field(default="manual", max_length=16)
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

    level: str = Field(primary_key=True, max_length=16)
    ranking_id: str = Field(max_length=36)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    period_from: dt.date
    period_to: dt.date
    published_at: datetime
    received_at: datetime = Field(default_factory=utc_now)
