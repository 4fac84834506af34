"""The calendar as the scheduler's session events tell it: kept to point citizens whose
session was cancelled to the next session nearby (no personal data here)."""

from collections.abc import Sequence
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    BotramEvent,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
)
from botram_notifier.domain.next_session import STILL_AHEAD, Candidate, next_session
from botram_notifier.store import KnownSessionRow

STATUS_AFTER: dict[type[BotramEvent], str] = {
    SessionOpenedV1: "opened",
    SessionClosedV1: "closed",
    SessionCancelledV1: "cancelled",
}
# How far ahead the calendar is read for a next session (the rotations fill a year).
HORIZON = 500


async def follow_session(tx: AsyncSession, data: BotramEvent) -> None:
    """Keep the session's row in step with its event (an event about a session announced
    before this table existed is skipped: there is nothing to point citizens to there)."""
    row = await tx.get(KnownSessionRow, getattr(data, "session_id", ""))
    if isinstance(data, SessionScheduledV1):
        announced = KnownSessionRow(
            session_id=data.session_id,
            level=data.level,
            kecamatan=data.kecamatan,
            desa=data.desa,
            date=data.date,
            start=data.start,
            end=data.end,
            venue=data.venue,
            services=list(data.services),
            status=row.status if row is not None else "scheduled",  # a repeat keeps it
        )
        row = await tx.merge(announced)
    elif row is None:
        return
    elif isinstance(data, SessionRescheduledV1):
        row.date = data.date
        row.start, row.end = data.start or row.start, data.end or row.end
        row.status = "scheduled"  # a session moved while open opens again on its new day
    elif isinstance(data, SessionUpdatedV1):
        row.start, row.end, row.venue = data.start, data.end, data.venue
        row.services = list(data.services)
    elif (status := STATUS_AFTER.get(type(data))) is not None:
        row.status = status
    else:
        return
    tx.add(row)


async def next_session_for(
    tx: AsyncSession, kecamatan: str, day: date, services: Sequence[str]
) -> Candidate | None:
    """The next session for a citizen of a session at `kecamatan` on `day` who came for
    `services` (`domain.next_session` says how it is chosen)."""
    rows = (
        await tx.exec(
            select(KnownSessionRow)
            .where(col(KnownSessionRow.date) > day, col(KnownSessionRow.status).in_(STILL_AHEAD))
            .order_by(col(KnownSessionRow.date), col(KnownSessionRow.start))
            .limit(HORIZON)
        )
    ).all()
    candidates = [
        Candidate(
            session_id=row.session_id,
            kecamatan=row.kecamatan,
            desa=row.desa,
            date=row.date,
            start=row.start,
            venue=row.venue,
            services=tuple(row.services),
            status=row.status,
        )
        for row in rows
    ]
    return next_session(candidates, kecamatan, day, services)
