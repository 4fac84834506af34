"""Follow-ups' tables (a module of its own beside `store`): the follow-ups agencies recorded,
and the phones kept for them after a session.

A phone is erased when its session ends (`store.erase_phones_of_session`), except the phone
of a citizen a desk served or referred, which is copied here per ticket for
`BOTRAM_FOLLOW_UP_CONTACT_DAYS`: the one message a follow-up sends needs it. It goes as soon
as the ticket's follow-up is recorded, or when it expires (`erase_expired_follow_up_contacts`).
"""

import datetime as dt
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import UniqueConstraint, delete
from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import AutoString

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.follow_ups import FollowUpKind
from botram_registry.domain.tickets import TicketStatus
from botram_registry.store import CheckInRow, CitizenRow, ServiceTable, TicketRow


class FollowUpRow(ServiceTable, table=True):
    """What an agency told a ticket's holder after the desk (no personal data)."""

    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("ticket_id", "kind"),)

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(index=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    service: str = Field(max_length=80)
    agency: str = Field(max_length=80)
    kind: FollowUpKind = Field(sa_type=AutoString(length=32))
    place: str = Field(max_length=200)
    until: dt.date | None = None
    note: str | None = Field(default=None, max_length=500)
    actor: str | None = Field(default=None, max_length=255)
    completed_at: datetime | None = None
    followed_up_at: datetime


class FollowUpContactRow(ServiceTable, table=True):
    """Personal data (UU 27/2022): the phone of a served or referred ticket's holder, kept
    after the session only until the ticket's follow-up or `keep_until`."""

    __tablename__ = "follow_up_contacts"

    ticket_id: str = Field(primary_key=True, max_length=36)
    session_id: str = Field(index=True, max_length=36)
    phone: str = Field(max_length=20)
    keep_until: datetime = Field(index=True)


FOLLOWED_UP = (TicketStatus.COMPLETED, TicketStatus.TRANSFERRED)
FOLLOWED_UP_OUTCOMES = (Outcome.SERVED, Outcome.REFERRED)


async def keep_contacts_for_follow_ups(
    tx: AsyncSession, session_id: str, keep_until: datetime
) -> int:
    """Before a session's phones are erased: copy, per served or referred ticket whose holder
    gave a phone and that has no follow-up yet, that phone until `keep_until`; how many."""
    followed_up = select(FollowUpRow.ticket_id).where(FollowUpRow.session_id == session_id)
    rows = await tx.exec(
        select(TicketRow.id, CitizenRow.phone)
        .join(CheckInRow, col(CheckInRow.id) == col(TicketRow.check_in_id))
        .join(CitizenRow, col(CitizenRow.id) == col(CheckInRow.citizen_id))
        .where(
            TicketRow.session_id == session_id,
            col(TicketRow.status).in_(FOLLOWED_UP),
            col(TicketRow.outcome).in_(FOLLOWED_UP_OUTCOMES),
            col(CitizenRow.phone).is_not(None),
            col(TicketRow.id).not_in(followed_up),
        )
    )
    kept = 0
    for ticket_id, phone in rows.all():
        if phone is None or await tx.get(FollowUpContactRow, ticket_id) is not None:
            continue
        tx.add(
            FollowUpContactRow(
                ticket_id=ticket_id, session_id=session_id, phone=phone, keep_until=keep_until
            )
        )
        kept += 1
    return kept


async def take_follow_up_phone(tx: AsyncSession, ticket: TicketRow) -> str | None:
    """The phone to text about a ticket's follow-up, forgotten here once taken: the session's
    own while it lasts, else the one kept for follow-ups (None: no phone, or expired)."""
    kept = await tx.get(FollowUpContactRow, ticket.id)
    if kept is not None:
        await tx.delete(kept)
        return kept.phone
    check_in = await tx.get(CheckInRow, ticket.check_in_id)
    if check_in is None:
        return None
    citizen = await tx.get(CitizenRow, check_in.citizen_id)
    return None if citizen is None else citizen.phone


async def follow_up_of(tx: AsyncSession, ticket_id: str, kind: FollowUpKind) -> FollowUpRow | None:
    statement = select(FollowUpRow).where(
        FollowUpRow.ticket_id == ticket_id, FollowUpRow.kind == kind
    )
    return (await tx.exec(statement)).first()


async def follow_ups_of(tx: AsyncSession, ticket_id: str) -> Sequence[FollowUpRow]:
    statement = (
        select(FollowUpRow)
        .where(FollowUpRow.ticket_id == ticket_id)
        .order_by(col(FollowUpRow.followed_up_at))
    )
    return (await tx.exec(statement)).all()


async def erase_expired_follow_up_contacts(tx: AsyncSession, now: datetime) -> int:
    """The phones kept for follow-ups that never came; how many."""
    result = await tx.exec(
        delete(FollowUpContactRow).where(col(FollowUpContactRow.keep_until) < now)
    )
    return int(result.rowcount or 0)
