"""Registry tables. The only tables in Botram that hold NIK, name and phone (`citizens`)."""

import datetime as dt
from datetime import datetime, time

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from botram_contracts.events.envelope import utc_now
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

__all__ = [
    "CheckInRow",
    "CitizenRow",
    "OfflineCheckInRow",
    "OutboxEvent",
    "ProcessedEvent",
    "QueueRow",
    "ServiceTable",
    "SessionRow",
    "TicketActionRow",
    "TicketRow",
]


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""


class SessionRow(ServiceTable, table=True):
    """A session as the registry knows it: learned only from the scheduler's events."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=36)
    level: str = Field(max_length=16)
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date
    start: time
    end: time
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)
    updated_at: datetime = Field(default_factory=utc_now)


class CitizenRow(ServiceTable, table=True):
    """Personal data (UU 27/2022). Erased after the retention period; events keep the pseudonym."""

    __tablename__ = "citizens"

    id: str = Field(primary_key=True, max_length=36)
    nik: str | None = Field(default=None, unique=True, max_length=16)
    pseudonym: str = Field(unique=True, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    sex: str = Field(max_length=1)
    birth_date: dt.date
    resident: bool
    created_at: datetime = Field(default_factory=utc_now)
    last_seen_at: datetime = Field(default_factory=utc_now)


class CheckInRow(ServiceTable, table=True):
    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("session_id", "citizen_id"),)

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    citizen_id: str = Field(max_length=36)
    priority: bool = False
    # The services in the order the citizen asked for them: tickets are listed in this order.
    services: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Disabilitas / ibu hamil: sensitive (health) data, never published, erased with the NIK.
    priority_reasons: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    # When the server received it; an offline desk's own clock is kept in `recorded_at`.
    checked_in_at: datetime = Field(default_factory=utc_now)
    recorded_at: datetime | None = None
    device_id: str | None = Field(default=None, max_length=80)


class QueueRow(ServiceTable, table=True):
    """One service's queue at one session: numbering and the fairness state of calls."""

    __tablename__ = "queues"

    session_id: str = Field(primary_key=True, max_length=36)
    service: str = Field(primary_key=True, max_length=80)
    issued: int = 0
    # Tickets called from this queue (the only way out of "waiting"): waiting = issued - called,
    # so a new ticket's position needs no count of the queue.
    called: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    priority_streak: int = 0


class TicketRow(ServiceTable, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("session_id", "service", "seq"),
        # Who waits in a queue, in order: the position count of every check-in reads it.
        Index("ix_tickets_queue_waiting", "session_id", "service", "status", "seq"),
    )

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    check_in_id: str = Field(index=True, max_length=36)
    service: str = Field(max_length=80)
    agency: str = Field(max_length=80)
    seq: int
    number: str = Field(max_length=16)
    priority: bool = False
    status: str = Field(default="waiting", index=True, max_length=16)
    desk: str | None = Field(default=None, max_length=40)
    outcome: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=500)
    issued_at: datetime = Field(default_factory=utc_now)
    called_at: datetime | None = None
    completed_at: datetime | None = None
    recalls: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # A transfer ends this ticket and issues one for another service, linked both ways.
    transferred_from: str | None = Field(default=None, max_length=36)
    transferred_to: str | None = Field(default=None, max_length=36)


class TicketActionRow(ServiceTable, table=True):
    """Who did what to a ticket: each desk action, with the desk that acted."""

    __tablename__ = "ticket_actions"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(index=True, max_length=36)
    action: str = Field(max_length=16)
    desk: str | None = Field(default=None, max_length=40)
    at: datetime = Field(default_factory=utc_now)


class OfflineCheckInRow(ServiceTable, table=True):
    """A check-in an offline desk uploaded: its client id makes a replayed upload a no-op."""

    __tablename__ = "offline_check_ins"

    session_id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(primary_key=True, max_length=64)
    # Keyed digest of the item (never a plain hash of a NIK): the same id with other content
    # is a conflict, not a replay.
    fingerprint: str = Field(max_length=64)
    check_in_id: str = Field(max_length=36)
    device_id: str | None = Field(default=None, max_length=80)
    recorded_at: datetime
    received_at: datetime = Field(default_factory=utc_now)
