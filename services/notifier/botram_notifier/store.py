"""Notifier tables: agency subscriptions and deliveries; the queue projection and contacts."""

import datetime as dt
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import AutoString, Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events.envelope import utc_now
from botram_notifier.domain.deliveries import AttemptOutcome, DeliveryStatus
from botram_notifier.domain.messages import MessageKind, MessageStatus, QueueStatus
from botram_runtime.errors import NotFound
from botram_runtime.inbox import ProcessedEvent
from botram_runtime.outbox import OutboxEvent

__all__ = [
    "AttemptRow",
    "CitizenMessageRow",
    "ContactRow",
    "DeliveryRow",
    "KnownSessionRow",
    "OptOutRow",
    "OutboxEvent",
    "ProcessedEvent",
    "QueueTicketRow",
    "ServiceTable",
    "SubscriptionRow",
]


def new_id() -> str:
    return str(uuid.uuid4())


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""


class SubscriptionRow(ServiceTable, table=True):
    """An agency's webhook endpoint and what it wants to receive."""

    __tablename__ = "subscriptions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency: str = Field(index=True, max_length=80)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    services: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    secret: str = Field(max_length=100)
    # The secret before the last rotation: it keeps signing until `previous_secret_until`.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = None
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)
    # First failure since the last success: the clock of the auto-disable rule.
    failing_since: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)


class DeliveryRow(ServiceTable, table=True):
    """One event for one subscription: pending until delivered or dead-lettered (failed)."""

    __tablename__ = "deliveries"
    # An event becomes at most one delivery per subscription: redelivered events and replays
    # reuse it, they never make a new one.
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    subscription_id: str = Field(foreign_key="subscriptions.id", index=True, max_length=36)
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=120)
    agency: str = Field(max_length=80)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=AutoString(length=16))
    attempts: int = 0
    # Position in the retry schedule (reset by a manual retry).
    retries_done: int = 0
    next_attempt_at: datetime = Field(default_factory=utc_now)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None


class AttemptRow(ServiceTable, table=True):
    """One HTTP attempt of a delivery: every attempt is kept."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    delivery_id: str = Field(foreign_key="deliveries.id", index=True, max_length=36)
    number: int
    at: datetime = Field(default_factory=utc_now)
    outcome: AttemptOutcome = Field(sa_type=AutoString(length=16))
    status_code: int | None = None
    latency_ms: float = 0.0
    error: str | None = Field(default=None, max_length=500)


class QueueTicketRow(ServiceTable, table=True):
    """The tickets of citizens who shared a phone, and how far each is from the desk.

    `position` is "tickets ahead + 1" in the registry's fair order of calls: its position at
    issue, then as each call's `up_next` places it (`messages.position_after_call`).
    """

    __tablename__ = "queue_tickets"
    __table_args__ = (Index("ix_queue_tickets_queue", "session_id", "service", "status"),)

    ticket_id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(max_length=36)
    service: str = Field(max_length=80)
    check_in_id: str | None = Field(default=None, index=True, max_length=36)
    number: str = Field(max_length=20)
    position: int
    status: QueueStatus = Field(default=QueueStatus.WAITING, sa_type=AutoString(length=16))
    turn_near_sent: bool = False
    # The ticket's public status page (a secret of its holder, from the private subject):
    # once served, the SMS inviting to the satisfaction survey links to it.
    status_link: str | None = Field(default=None, max_length=300)


class ContactRow(ServiceTable, table=True):
    """A checked-in citizen's phone (from the private subject), erased after the session
    (at its close, or by the retention sweep when it never closes)."""

    __tablename__ = "contacts"

    check_in_id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    phone: str = Field(max_length=20)
    received_at: datetime = Field(default_factory=utc_now, index=True)


class OptOutRow(ServiceTable, table=True):
    """A phone number that asked not to receive messages, as its keyed hash (HMAC-SHA256 with
    `BOTRAM_OPT_OUT_KEY`): kept, that is the point of it, but never in clear."""

    __tablename__ = "opt_outs"

    phone_hash: str = Field(primary_key=True, max_length=64)
    at: datetime = Field(default_factory=utc_now)


class CitizenMessageRow(ServiceTable, table=True):
    """A message to a citizen: queued, then sent, skipped or failed."""

    __tablename__ = "citizen_messages"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    # One message per (kind, ticket or session, check-in): redelivered events send nothing new.
    dedupe_key: str = Field(unique=True, max_length=200)
    session_id: str = Field(index=True, max_length=36)
    check_in_id: str = Field(max_length=36)
    kind: MessageKind = Field(sa_type=AutoString(length=30))
    body: str = Field(max_length=1000)
    # Erased with the session's contacts; None once erased.
    phone: str | None = Field(default=None, max_length=20)
    status: MessageStatus = Field(default=MessageStatus.PENDING, sa_type=AutoString(length=16))
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utc_now)
    sent_at: datetime | None = None


class KnownSessionRow(ServiceTable, table=True):
    """The calendar as session events tell it (no personal data): where citizens whose
    session was cancelled can go next (`domain.next_session`)."""

    __tablename__ = "known_sessions"
    __table_args__ = (Index("ix_known_sessions_date_status", "date", "status"),)

    session_id: str = Field(primary_key=True, max_length=36)
    level: str = Field(max_length=16)
    kecamatan: str = Field(max_length=80)
    desa: str | None = Field(default=None, max_length=80)
    date: dt.date
    start: dt.time
    end: dt.time
    venue: str | None = Field(default=None, max_length=200)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)


# --- queries the use cases share -----------------------------------------------------------


async def load_subscription(tx: AsyncSession, subscription_id: str) -> SubscriptionRow:
    row = await tx.get(SubscriptionRow, subscription_id)
    if row is None:
        raise NotFound("subscription", subscription_id)
    return row


async def load_delivery(tx: AsyncSession, delivery_id: str) -> DeliveryRow:
    row = await tx.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotFound("delivery", delivery_id)
    return row


async def attempts_of(tx: AsyncSession, ids: Iterable[str]) -> dict[str, list[AttemptRow]]:
    """The attempts of these deliveries, in order, by delivery id."""
    ids = list(ids)
    if not ids:
        return {}
    rows = (
        await tx.exec(
            select(AttemptRow)
            .where(col(AttemptRow.delivery_id).in_(ids))
            .order_by(col(AttemptRow.id))
        )
    ).all()
    found: dict[str, list[AttemptRow]] = {}
    for row in rows:
        found.setdefault(row.delivery_id, []).append(row)
    return found
