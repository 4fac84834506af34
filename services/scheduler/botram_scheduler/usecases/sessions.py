"""Sessions by hand: put on the calendar, looked up, moved, and opened, closed or cancelled by
a person; each change announced in the same transaction."""

from dataclasses import dataclass
from uuid import uuid4

from botram_contracts.vocabulary import SessionStatus
from botram_runtime import audit
from botram_runtime.actors import Actor
from botram_runtime.clock import local_today
from botram_runtime.outbox import stage_event
from botram_scheduler.deps import Deps
from botram_scheduler.domain.places import place_filter, session_place
from botram_scheduler.domain.sessions import (
    DEFAULT_END,
    DEFAULT_START,
    CancelSession,
    CloseSession,
    CreateSession,
    FindSessions,
    OpenSession,
    Origin,
    RescheduleSession,
    changes_nothing,
    check_actor_may,
    check_reschedulable,
    check_session_times,
    check_transition,
    edited_by_hand,
    quotas,
    session_services,
)
from botram_scheduler.events import rescheduled_event, scheduled_event, status_event
from botram_scheduler.store import SessionRow, page_of, session_row, sessions_where

STATUS_ACTIONS = {
    SessionStatus.OPENED: "open_session",
    SessionStatus.CLOSED: "close_session",
    SessionStatus.CANCELLED: "cancel_session",
}


@dataclass(frozen=True)
class SessionsFound:
    """A page of sessions, by date, and how many match in all."""

    rows: list[SessionRow]
    total: int


async def create_session(deps: Deps, command: CreateSession) -> SessionRow:
    """Put a session on the calendar and announce it."""
    kecamatan, desa = session_place(deps.regions, command.level, command.kecamatan, command.desa)
    services = session_services(deps.catalogue, command.level, command.services)
    start, end = command.start or DEFAULT_START, command.end or DEFAULT_END
    check_session_times(command.date, local_today(deps.clock), start, end)
    now = deps.clock()
    row = SessionRow(
        id=str(uuid4()),
        level=command.level,
        kecamatan=kecamatan,
        desa=desa,
        date=command.date,
        start=start,
        end=end,
        venue=command.venue,
        services=services,
        quotas=quotas(services, deps.rules().quotas(command.level)),
        status=SessionStatus.SCHEDULED,
        origin=Origin.MANUAL,
        created_at=now,
        updated_at=now,
    )
    async with deps.db.transaction() as tx:
        tx.add(row)
        stage_event(tx, scheduled_event(row))
        audit.record(tx, command.actor, "create_session", session_id=row.id)
    return row


async def get_session(deps: Deps, session_id: str) -> SessionRow:
    """One session; 404 when there is none."""
    async with deps.db.session() as tx:
        return await session_row(tx, session_id)


async def list_sessions(deps: Deps, command: FindSessions) -> SessionsFound:
    """Sessions matching the filters, by date, and how many match in all."""
    kecamatan, desa = place_filter(deps.regions, command.kecamatan, command.desa)
    query = sessions_where(
        start=command.start,
        end=command.end,
        kecamatan=kecamatan,
        desa=desa,
        level=command.level,
        status=command.status,
    )
    async with deps.db.session() as tx:
        rows, total = await page_of(tx, query, command.limit, command.offset)
    return SessionsFound(rows, total)


async def reschedule_session(deps: Deps, command: RescheduleSession) -> SessionRow:
    """Move a session to another date and announce it: one that has not opened, or an opened
    one (an operator's call: it is scheduled again, on the new date)."""
    async with deps.db.transaction() as tx:
        row = await session_row(tx, command.session_id)
        check_reschedulable(SessionStatus(row.status), command.actor)
        start, end = command.start or row.start, command.end or row.end
        check_session_times(command.date, local_today(deps.clock), start, end)
        previous = row.date
        row.date, row.start, row.end = command.date, start, end
        # An opened session's desks stop: it opens again on its new date (the registry keeps
        # its waiting tickets; the notifier tells the citizens checked in).
        row.status = SessionStatus.SCHEDULED
        row.status_reason = command.reason
        row.updated_at = deps.clock()
        row.sequence += 1
        row.origin = edited_by_hand(row.origin)
        tx.add(row)
        stage_event(tx, rescheduled_event(row, previous))
        audit.record(tx, command.actor, "reschedule_session", session_id=row.id)
    return row


async def open_session(deps: Deps, command: OpenSession) -> SessionRow:
    """Open the desks (a no-op on an open session), and announce it."""
    return await _change_status(deps, command.actor, command.session_id, SessionStatus.OPENED, None)


async def close_session(deps: Deps, command: CloseSession) -> SessionRow:
    """Close the desks (a no-op on a closed session), and announce it."""
    return await _change_status(deps, command.actor, command.session_id, SessionStatus.CLOSED, None)


async def cancel_session(deps: Deps, command: CancelSession) -> SessionRow:
    """Cancel a session (an opened one by an operator only: an emergency), with the reason
    citizens will be told; the registry ends its waiting tickets cancelled."""
    return await _change_status(
        deps, command.actor, command.session_id, SessionStatus.CANCELLED, command.reason
    )


async def _change_status(
    deps: Deps, actor: Actor, session_id: str, target: SessionStatus, reason: str | None
) -> SessionRow:
    async with deps.db.transaction() as tx:
        row = await session_row(tx, session_id)
        if changes_nothing(row.status, target):
            return row  # the clock may have done it already
        check_transition(row.status, target)
        check_actor_may(actor, SessionStatus(row.status), target)
        now = deps.clock()
        row.status = target
        row.updated_at = now
        row.status_reason = reason or row.status_reason
        row.sequence += 1
        tx.add(row)
        stage_event(tx, status_event(row, now))
        audit.record(tx, actor, STATUS_ACTIONS[target], session_id=row.id)
    return row
