"""Sessions, learned only from the scheduler's events."""

from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    BotramEvent,
    CloudEvent,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
)
from botram_contracts.vocabulary import SessionStatus
from botram_registry import events, followups_store, pre_registration_store, store
from botram_registry.deps import Deps
from botram_registry.domain.screens import OfferedService, OpenSession, quota_left
from botram_registry.domain.tickets import TicketStatus, end_of_wait
from botram_registry.store import SessionRow
from botram_registry.usecases.display import label_of
from botram_runtime.bus import RetryLater
from botram_runtime.clock import local_today
from botram_runtime.outbox import stage_event

# The status a session has after each lifecycle event.
STATUS_AFTER: dict[type[BotramEvent], SessionStatus] = {
    SessionOpenedV1: SessionStatus.OPENED,
    SessionClosedV1: SessionStatus.CLOSED,
    SessionCancelledV1: SessionStatus.CANCELLED,
}

# A session that ended: nobody at it needs a message any more.
ENDED = frozenset({SessionStatus.CLOSED, SessionStatus.CANCELLED})


async def apply_session_event(deps: Deps, tx: AsyncSession, event: CloudEvent[Any]) -> None:
    """Keep the local copy of a session in step with the scheduler (the runtime applies each
    event once, in the transaction `tx`)."""
    data = event.data
    session = await tx.get(SessionRow, data.session_id)
    if isinstance(data, SessionScheduledV1):
        session = _scheduled(session, data)
    elif session is None:
        # A lifecycle event overtook the session's announcement: apply it once that arrives.
        raise RetryLater(f"session {data.session_id} not known yet")
    elif isinstance(data, SessionRescheduledV1):
        session.date = data.date
        session.start, session.end = data.start or session.start, data.end or session.end
        if session.status == SessionStatus.OPENED:
            # Moved while open (an operator's call): no check-ins until it opens again on
            # its new date; the tickets still waiting keep their numbers and places.
            session.status = SessionStatus.SCHEDULED
    elif isinstance(data, SessionUpdatedV1):
        # The event carries the whole new state: a raised quota admits more check-ins at
        # once (each check-in reads the quota here), an added service takes them.
        session.services, session.quotas = list(data.services), dict(data.quotas)
        session.start, session.end = data.start, data.end
    elif (status := STATUS_AFTER.get(type(data))) is not None:
        session.status = status
        if status in ENDED:
            reason = data.reason if isinstance(data, SessionCancelledV1) else None
            await _end_waiting(deps, tx, session, status, reason)
            # The contract: a phone is deleted after the session (the NIK and name follow
            # the personal-data retention; the notifier already had the phone it needed),
            # except, for a bounded time, that of a citizen served or referred, whom an
            # agency's follow-up may text (followups_store; docs/architecture.md).
            await _keep_contacts_for_follow_ups(deps, tx, session.id)
            await store.erase_phones_of_session(tx, session.id)
            await pre_registration_store.erase_personal_data_of_session(tx, session.id)
    session.updated_at = deps.clock()
    tx.add(session)


async def _keep_contacts_for_follow_ups(deps: Deps, tx: AsyncSession, session_id: str) -> None:
    days = deps.settings.follow_up_contact_days
    if days > 0:
        keep_until = deps.clock() + timedelta(days=days)
        await followups_store.keep_contacts_for_follow_ups(tx, session_id, keep_until)


async def _end_waiting(
    deps: Deps, tx: AsyncSession, session: SessionRow, status: SessionStatus, reason: str | None
) -> None:
    """The tickets still waiting when a session ends end with it, each with its event (a
    redelivered lifecycle event finds none waiting any more, and publishes nothing again)."""
    now = deps.clock()
    for ticket in await store.tickets_of_session(tx, session.id):
        ended = end_of_wait(TicketStatus(ticket.status), status)
        if ended is None:
            continue
        ticket.status, ticket.completed_at = ended, now
        tx.add(ticket)
        stage_event(tx, events.waiting_ended(ticket, session, now, reason))


def _scheduled(session: SessionRow | None, data: SessionScheduledV1) -> SessionRow:
    """The session as announced (a repeated announcement keeps the status it has)."""
    if session is None:
        return SessionRow(
            id=data.session_id,
            status=SessionStatus.SCHEDULED,
            level=data.level,
            kecamatan=data.kecamatan,
            desa=data.desa,
            date=data.date,
            start=data.start,
            end=data.end,
            services=list(data.services),
            quotas=dict(data.quotas),
        )
    session.level, session.kecamatan, session.desa = data.level, data.kecamatan, data.desa
    session.date, session.start, session.end = data.date, data.start, data.end
    session.services, session.quotas = list(data.services), dict(data.quotas)
    return session


async def open_sessions(deps: Deps) -> list[OpenSession]:
    """Today's open sessions, each service offered with who waits and the quota left."""
    async with deps.db.session() as tx:
        sessions = await store.opened_sessions(tx, local_today(deps.clock))
        queues = {s.id: await store.issued_by_service(tx, s.id) for s in sessions}
    return [
        OpenSession(
            session_id=session.id,
            level=session.level,
            kecamatan=session.kecamatan,
            desa=session.desa,
            date=session.date,
            services=tuple(
                _offered(
                    deps, code, session.quotas.get(code), *queues[session.id].get(code, (0, 0))
                )
                for code in session.services
            ),
        )
        for session in sessions
        for counts in [queues[session.id]]
    ]


def _offered(deps: Deps, code: str, quota: int | None, issued: int, waiting: int) -> OfferedService:
    service = deps.catalogue.get(code)
    return OfferedService(
        code=code,
        name=service.name,
        agency=service.agency,
        agency_label=label_of(deps, service.agency),
        waiting=waiting,
        quota_left=quota_left(quota, issued),
    )
