"""Registry tables, and the queries use cases share.

The only tables in Botram that hold NIK, name and phone (`citizens`). States are the domain's
`StrEnum`s in Python and plain string columns in the database. The check-in's hot path has
prebuilt statements of its own (`issuing`).
"""

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time
from typing import TypeVar

from sqlalchemy import JSON, Column, Index, UniqueConstraint, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import AutoString

from botram_contracts.events.envelope import utc_now
from botram_contracts.events.models import Sex
from botram_contracts.vocabulary import Level, Outcome, SessionStatus
from botram_registry.domain.queue import Waiting
from botram_registry.domain.tickets import OPEN_STATUSES, DeskAction, TicketStatus
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

T = TypeVar("T")

__all__ = [
    "CheckInRow", "CitizenRow", "OfflineCheckInRow", "OutboxEvent", "ProcessedEvent",
    "QueueRow", "ServiceTable", "SessionRow", "TicketActionRow", "TicketRow",
]  # fmt: skip


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""


class SessionRow(ServiceTable, table=True):
    """A session as the registry knows it: learned only from the scheduler's events."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True, max_length=36)
    level: Level = Field(sa_type=AutoString(length=16))
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date
    start: time
    end: time
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: SessionStatus = Field(sa_type=AutoString(length=16))
    updated_at: datetime = Field(default_factory=utc_now)


class CitizenRow(ServiceTable, table=True):
    """Personal data (UU 27/2022). Erased after the retention period; events keep the pseudonym."""

    __tablename__ = "citizens"

    id: str = Field(primary_key=True, max_length=36)
    nik: str | None = Field(default=None, unique=True, max_length=16)
    pseudonym: str = Field(unique=True, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    sex: Sex = Field(sa_type=AutoString(length=1))
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
    # and the same for the priority class, so a new ticket's place in the fair order
    # (`domain.queue.place_of_arrival`) needs no count of the queue.
    called: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    priority_issued: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    priority_called: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    priority_streak: int = 0


class TicketRow(ServiceTable, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("session_id", "service", "seq"),
        # Who waits in a queue, in order: every call reads it (and a repeated check-in).
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
    status: TicketStatus = Field(
        default=TicketStatus.WAITING, index=True, sa_type=AutoString(length=16)
    )
    desk: str | None = Field(default=None, max_length=40)
    outcome: Outcome | None = Field(default=None, sa_type=AutoString(length=16))
    note: str | None = Field(default=None, max_length=500)
    issued_at: datetime = Field(default_factory=utc_now)
    called_at: datetime | None = None
    completed_at: datetime | None = None
    recalls: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # A transfer ends this ticket and issues one for another service, linked both ways.
    transferred_from: str | None = Field(default=None, max_length=36)
    transferred_to: str | None = Field(default=None, max_length=36)
    # The unguessable code of the ticket's public status page (`/t/{code}`, the QR code and
    # the SMS link): the ticket id alone would let anyone follow any ticket.
    status_code: str | None = Field(default=None, max_length=32, unique=True, index=True)
    # A pre-registered ticket checked in on time goes just before this seq (its head start).
    queue_anchor: int | None = None


# A queue's order of arrival within each class (`domain.pre_registration.queue_key`).
QUEUE_ORDER = (
    func.coalesce(col(TicketRow.queue_anchor), col(TicketRow.seq)),
    col(TicketRow.queue_anchor).is_(None),
    col(TicketRow.seq),
)


class TicketActionRow(ServiceTable, table=True):
    """Who did what to a ticket: each desk action, with the desk that acted."""

    __tablename__ = "ticket_actions"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: str = Field(index=True, max_length=36)
    action: DeskAction = Field(sa_type=AutoString(length=16))
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


# --- queries the use cases share -----------------------------------------------------------


async def retry_lost_race(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a transaction; when a concurrent one for the same citizen won the race (a unique
    key refused the insert), run it again: it then finds what the winner stored."""
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


async def lock_ticket(tx: AsyncSession, ticket_id: str) -> TicketRow | None:
    """The ticket, locked until the transaction ends (PostgreSQL; SQLite locks the database)."""
    statement = select(TicketRow).where(TicketRow.id == ticket_id).with_for_update()
    return (await tx.exec(statement)).first()


async def lock_queue(tx: AsyncSession, session_id: str, service: str) -> QueueRow:
    """The queue row (created if it is the first of its queue), locked for this transaction."""
    queue = (
        await tx.exec(
            select(QueueRow)
            .where(QueueRow.session_id == session_id, QueueRow.service == service)
            .with_for_update()
        )
    ).first()
    if queue is None:
        queue = QueueRow(session_id=session_id, service=service)
        tx.add(queue)
        await tx.flush()
    return queue


async def waiting_in(tx: AsyncSession, session_id: str, service: str) -> list[Waiting]:
    """The waiting tickets of a queue, in order of arrival (`QUEUE_ORDER`)."""
    rows = (
        await tx.exec(
            select(TicketRow.id, TicketRow.priority, TicketRow.number)
            .where(
                TicketRow.session_id == session_id,
                TicketRow.service == service,
                TicketRow.status == TicketStatus.WAITING,
            )
            .order_by(*QUEUE_ORDER)
        )
    ).all()
    return [Waiting(ticket_id, priority, number) for ticket_id, priority, number in rows]


async def priority_streak(tx: AsyncSession, session_id: str, service: str) -> int:
    """The priority calls a queue's desks made in a row so far (0 before its first ticket)."""
    statement = select(QueueRow.priority_streak).where(
        QueueRow.session_id == session_id, QueueRow.service == service
    )
    return (await tx.exec(statement)).first() or 0


async def tickets_of_check_in(tx: AsyncSession, check_in_id: str) -> Sequence[TicketRow]:
    return (await tx.exec(select(TicketRow).where(TicketRow.check_in_id == check_in_id))).all()


async def services_ticketed(tx: AsyncSession, check_in_id: str) -> set[str]:
    """The services a check-in has a ticket for (in any status)."""
    statement = select(TicketRow.service).where(TicketRow.check_in_id == check_in_id)
    return set((await tx.exec(statement)).all())


async def open_ticket_number(tx: AsyncSession, check_in_id: str, service: str) -> str | None:
    """The number of the check-in's ticket for `service` still waiting or called, if any."""
    statement = select(TicketRow.number).where(
        TicketRow.check_in_id == check_in_id,
        TicketRow.service == service,
        col(TicketRow.status).in_(OPEN_STATUSES),
    )
    return (await tx.exec(statement)).first()


async def phone_of(tx: AsyncSession, citizen_id: str) -> str | None:
    """The phone stored for a citizen (None: never given, or erased)."""
    citizen = await tx.get(CitizenRow, citizen_id)
    return None if citizen is None else citizen.phone


async def pseudonym_of(tx: AsyncSession, check_in_id: str) -> str:
    """The pseudonym of the citizen of a check-in."""
    statement = (
        select(CitizenRow.pseudonym)
        .join(CheckInRow, col(CheckInRow.citizen_id) == col(CitizenRow.id))
        .where(CheckInRow.id == check_in_id)
    )
    return (await tx.exec(statement)).one()


def record_action(
    tx: AsyncSession, ticket_id: str, action: DeskAction, desk: str | None, at: datetime
) -> None:
    tx.add(TicketActionRow(ticket_id=ticket_id, action=action, desk=desk, at=at))


async def history_of(tx: AsyncSession, ticket_id: str) -> Sequence[TicketActionRow]:
    """Every desk action on a ticket, oldest first."""
    statement = (
        select(TicketActionRow)
        .where(TicketActionRow.ticket_id == ticket_id)
        .order_by(col(TicketActionRow.id))
    )
    return (await tx.exec(statement)).all()


async def tickets_of_session(tx: AsyncSession, session_id: str) -> Sequence[TicketRow]:
    """A session's tickets, in their queues' order of arrival."""
    statement = select(TicketRow).where(TicketRow.session_id == session_id).order_by(*QUEUE_ORDER)
    return (await tx.exec(statement)).all()


async def priority_streaks(tx: AsyncSession, session_id: str) -> dict[str, int]:
    """Per service of a session: the priority calls made in a row so far."""
    queues = (await tx.exec(select(QueueRow).where(QueueRow.session_id == session_id))).all()
    return {queue.service: queue.priority_streak for queue in queues}


async def desks_lately(tx: AsyncSession, session_id: str, since: datetime) -> dict[str, int]:
    """Per service of a session: how many named desks acted on its tickets since `since`."""
    pairs = (
        await tx.exec(
            select(TicketRow.service, TicketActionRow.desk)
            .join(TicketRow, col(TicketRow.id) == col(TicketActionRow.ticket_id))
            .where(
                TicketRow.session_id == session_id,
                col(TicketActionRow.desk).is_not(None),
                col(TicketActionRow.at) >= since,
            )
            .distinct()
        )
    ).all()
    desks: dict[str, int] = {}
    for service, _ in pairs:
        desks[service] = desks.get(service, 0) + 1
    return desks


async def ticket_by_status_code(tx: AsyncSession, code: str) -> TicketRow | None:
    return (await tx.exec(select(TicketRow).where(TicketRow.status_code == code))).first()


async def latest_calls(tx: AsyncSession, session_id: str, limit: int) -> Sequence[TicketRow]:
    """A session's tickets called last (by their latest call), newest first."""
    statement = (
        select(TicketRow)
        .where(TicketRow.session_id == session_id, col(TicketRow.called_at).is_not(None))
        .order_by(col(TicketRow.called_at).desc(), col(TicketRow.seq).desc())
        .limit(limit)
    )
    return (await tx.exec(statement)).all()


async def issued_by_service(tx: AsyncSession, session_id: str) -> dict[str, tuple[int, int]]:
    """Per service of a session: (tickets issued, tickets still waiting)."""
    queues = (await tx.exec(select(QueueRow).where(QueueRow.session_id == session_id))).all()
    return {queue.service: (queue.issued, queue.issued - queue.called) for queue in queues}


async def opened_sessions(tx: AsyncSession, on: dt.date) -> Sequence[SessionRow]:
    opened = SessionRow.status == SessionStatus.OPENED
    statement = select(SessionRow).where(opened, SessionRow.date == on).order_by("kecamatan")
    return (await tx.exec(statement)).all()


async def erase_phones_of_session(tx: AsyncSession, session_id: str) -> None:
    """Erase the phone of every citizen checked in at a session."""
    at_session = select(CheckInRow.citizen_id).where(CheckInRow.session_id == session_id)
    await tx.exec(
        update(CitizenRow)
        .where(col(CitizenRow.id).in_(at_session), col(CitizenRow.phone).is_not(None))
        .values(phone=None)
    )


async def erase_ticket_notes(tx: AsyncSession, ended_before: datetime) -> int:
    """Erase the desks' notes on tickets completed before then; how many."""
    result = await tx.exec(
        update(TicketRow)
        .where(col(TicketRow.completed_at) < ended_before, col(TicketRow.note).is_not(None))
        .values(note=None)
    )
    return int(result.rowcount or 0)


async def erase_personal_data(tx: AsyncSession, not_seen_since: datetime) -> int:
    """Erase NIK, name, phone and priority reasons of the citizens not seen since then;
    how many citizens that was."""
    expired = list(
        (
            await tx.exec(
                select(CitizenRow.id).where(
                    col(CitizenRow.last_seen_at) < not_seen_since,
                    col(CitizenRow.nik).is_not(None)
                    | col(CitizenRow.name).is_not(None)
                    | col(CitizenRow.phone).is_not(None),
                )
            )
        ).all()
    )
    if expired:
        await tx.exec(
            update(CitizenRow)
            .where(col(CitizenRow.id).in_(expired))
            .values(nik=None, name=None, phone=None)
        )
        await tx.exec(
            update(CheckInRow)
            .where(col(CheckInRow.citizen_id).in_(expired))
            .values(priority_reasons=[])
        )
    return len(expired)
