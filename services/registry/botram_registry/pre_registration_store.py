"""Pre-registrations: citizens registered ahead of a session with an arrival slot.

Personal data (NIK, name, phone) like `citizens`: this service only, never in an event but
the private one for the notifier. A pre-registration's NIK, name and phone are erased once it
is checked in (the citizen row holds them then) or its session ends.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, time

from sqlalchemy import JSON, Column, Index, UniqueConstraint, func, update
from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import AutoString

from botram_contracts.events.envelope import utc_now
from botram_registry.domain.pre_registration import PreRegistrationStatus, holds_place
from botram_registry.store import ServiceTable, TicketRow


class PreRegistrationRow(ServiceTable, table=True):
    __tablename__ = "pre_registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "pseudonym"),
        Index("ix_pre_registrations_slot", "session_id", "slot_start"),
    )

    id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(max_length=36)
    # The code the QR encodes: the holder's secret, typed or scanned at the fair.
    code: str = Field(max_length=16, unique=True)
    pseudonym: str = Field(max_length=64)
    nik: str | None = Field(default=None, max_length=16)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    priority: bool = False
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    slot_start: time
    slot_end: time
    # The slot's end as a UTC moment: its places are released then.
    releases_at: datetime
    status: PreRegistrationStatus = Field(sa_type=AutoString(length=16))
    check_in_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utc_now)
    checked_in_at: datetime | None = None


async def booked_in_slot(tx: AsyncSession, session_id: str, slot_start: time) -> int:
    """How many pre-registrations a slot has (checked in or not: a slot's capacity is of
    people announced for that window)."""
    statement = select(func.count()).where(
        PreRegistrationRow.session_id == session_id, PreRegistrationRow.slot_start == slot_start
    )
    return int((await tx.exec(statement)).one())


async def booked_by_slot(tx: AsyncSession, session_id: str) -> dict[time, int]:
    statement = (
        select(col(PreRegistrationRow.slot_start), func.count())
        .where(PreRegistrationRow.session_id == session_id)
        .group_by(col(PreRegistrationRow.slot_start))
    )
    return {start: int(count) for start, count in (await tx.exec(statement)).all()}


async def held_places(tx: AsyncSession, session_id: str, now: datetime) -> Counter[str]:
    """Per service: the places pre-registrations still hold (booked, slot not ended)."""
    statement = select(PreRegistrationRow).where(
        PreRegistrationRow.session_id == session_id,
        PreRegistrationRow.status == PreRegistrationStatus.BOOKED,
    )
    held: Counter[str] = Counter()
    for row in (await tx.exec(statement)).all():
        if holds_place(PreRegistrationStatus(row.status), row.releases_at, now):
            held.update(row.services)
    return held


async def has_pre_registrations(tx: AsyncSession, session_id: str) -> bool:
    statement = select(PreRegistrationRow.id).where(PreRegistrationRow.session_id == session_id)
    return (await tx.exec(statement.limit(1))).first() is not None


async def by_pseudonym(
    tx: AsyncSession, session_id: str, pseudonym: str
) -> PreRegistrationRow | None:
    statement = select(PreRegistrationRow).where(
        PreRegistrationRow.session_id == session_id, PreRegistrationRow.pseudonym == pseudonym
    )
    return (await tx.exec(statement)).first()


async def by_code(tx: AsyncSession, code: str) -> PreRegistrationRow | None:
    statement = select(PreRegistrationRow).where(PreRegistrationRow.code == code)
    return (await tx.exec(statement.with_for_update())).first()


async def first_seq_since(
    tx: AsyncSession, session_id: str, service: str, since: datetime
) -> int | None:
    """The number (seq) of the first ticket of a queue issued at or after `since`."""
    statement = select(func.min(TicketRow.seq)).where(
        TicketRow.session_id == session_id,
        TicketRow.service == service,
        col(TicketRow.issued_at) >= since,
    )
    first = (await tx.exec(statement)).one()
    return None if first is None else int(first)


async def erase_personal_data_of_session(tx: AsyncSession, session_id: str) -> None:
    """A session ended: its pre-registrations forget NIK, name and phone."""
    await tx.exec(
        update(PreRegistrationRow)
        .where(col(PreRegistrationRow.session_id) == session_id)
        .values(nik=None, name=None, phone=None)
    )


async def rows_of(tx: AsyncSession, session_id: str) -> Sequence[PreRegistrationRow]:
    statement = select(PreRegistrationRow).where(PreRegistrationRow.session_id == session_id)
    return (await tx.exec(statement)).all()
