"""Queue status: per service of a session, who waits, who is at a desk, and how long for."""

from datetime import timedelta

from botram_contracts.vocabulary import SessionStatus
from botram_registry import followups_store, store, survey_store
from botram_registry.deps import Deps
from botram_registry.domain.queue import QueueReport, service_queue
from botram_registry.domain.screens import TicketFollowUpView, TicketStatusView, agency_label
from botram_registry.domain.survey import survey_state
from botram_registry.domain.tickets import TicketStatus
from botram_registry.store import SessionRow, TicketRow
from botram_runtime.errors import NotFound


async def queue_status(deps: Deps, session_id: str) -> QueueReport:
    """Per service: waiting, being served, served so far, and the estimated waits."""
    now = deps.clock()
    since = now - timedelta(minutes=deps.settings.desk_active_minutes)
    async with deps.db.session() as tx:
        session = await tx.get(SessionRow, session_id)
        if session is None:
            raise NotFound("session", session_id)
        tickets = await store.tickets_of_session(tx, session_id)
        streaks = await store.priority_streaks(tx, session_id)
        desks = await store.desks_lately(tx, session_id, since)
    by_service: dict[str, list[TicketRow]] = {}
    for ticket in tickets:
        by_service.setdefault(ticket.service, []).append(ticket)
    services = []
    for code in session.services:
        service = deps.catalogue.get(code)
        services.append(
            service_queue(
                code,
                service.agency,
                by_service.get(code, []),
                priority_streak=streaks.get(code, 0),
                desks_lately=desks.get(code, 0),
                prior_mean_seconds=service.mean_service_minutes * 60,
                priority_per_regular=deps.settings.priority_calls_per_regular,
            )
        )
    return QueueReport(session_id=session_id, status=session.status, services=services)


async def ticket_status(deps: Deps, code: str) -> TicketStatusView:
    """A ticket by its status code, as its holder follows it (404 for an unknown code)."""
    async with deps.db.session() as tx:
        ticket = await store.ticket_by_status_code(tx, code)
        follow_ups = [] if ticket is None else await followups_store.follow_ups_of(tx, ticket.id)
        answered = ticket is not None and await survey_store.answered(tx, ticket.id)
    if ticket is None:
        raise NotFound("ticket", "with this status code", code="ticket-not-found")
    report = await queue_status(deps, ticket.session_id)
    position = wait = None
    if ticket.status == TicketStatus.WAITING:
        queue = next(s for s in report.services if s.service == ticket.service)
        place = next((p for p in queue.positions if p.number == ticket.number), None)
        if place is not None:
            position, wait = place.position, place.estimated_wait_seconds
    service = deps.catalogue.get(ticket.service)
    agency = deps.catalogue.agencies.get(ticket.agency)
    return TicketStatusView(
        number=ticket.number,
        service_name=service.name,
        agency_label=agency_label(ticket.agency, agency.name) if agency else ticket.agency,
        status=TicketStatus(ticket.status),
        session_status=SessionStatus(report.status),
        position=position,
        estimated_wait_seconds=wait,
        desk=ticket.desk if ticket.status != TicketStatus.WAITING else None,
        follow_ups=tuple(
            TicketFollowUpView(kind=f.kind, place=f.place, until=f.until, note=f.note)
            for f in follow_ups
        ),
        survey=survey_state(ticket.status, ticket.outcome, answered),
    )
