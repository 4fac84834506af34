"""Follow-ups: an agency tells the holder of a served or referred ticket that a document is
ready, where and until when (`POST /v1/tickets/{id}/follow-ups`).

One transaction stores the follow-up, stages `botram.service.followed_up.v1` (no personal
data, for the agency's subscribers and reporting) and, when the citizen gave a phone that is
still kept, the private `botram.citizen.follow_up_shared.v1` for the notifier's one message;
the phone kept for it is forgotten here at once.
"""

from uuid import uuid4

from botram_registry import events, followups_store, store
from botram_registry.deps import Deps
from botram_registry.domain.follow_ups import (
    FollowUp,
    RecordFollowUp,
    check_follow_up_access,
    check_until,
    outcome_to_follow_up,
)
from botram_registry.domain.tickets import TicketStatus, seconds_between
from botram_registry.followups_store import FollowUpRow
from botram_registry.store import SessionRow, TicketRow
from botram_runtime import audit
from botram_runtime.clock import local_today
from botram_runtime.errors import Conflict, NotFound
from botram_runtime.outbox import stage_event


async def record_follow_up(deps: Deps, command: RecordFollowUp) -> FollowUp:
    """Record a follow-up on a finished ticket, once per kind (409 for a second one)."""
    now = deps.clock()
    check_until(command.until, local_today(deps.clock))
    async with deps.db.transaction() as tx:
        ticket = await store.lock_ticket(tx, command.ticket_id)
        if ticket is None:
            raise NotFound("ticket", command.ticket_id)
        check_follow_up_access(command.actor, ticket.agency, ticket.service)
        outcome = outcome_to_follow_up(TicketStatus(ticket.status), ticket.outcome)
        if await followups_store.follow_up_of(tx, ticket.id, command.kind) is not None:
            raise Conflict(
                "this ticket already has this follow-up; the citizen was told once",
                code="follow-up-exists",
            )
        session = await tx.get(SessionRow, ticket.session_id)
        assert session is not None  # a ticket is issued only at a known session
        row = FollowUpRow(
            id=str(uuid4()),
            ticket_id=ticket.id,
            session_id=ticket.session_id,
            service=ticket.service,
            agency=ticket.agency,
            kind=command.kind,
            place=command.place,
            until=command.until,
            note=command.note,
            actor=command.actor.sub,
            completed_at=ticket.completed_at,
            followed_up_at=now,
        )
        tx.add(row)
        stage_event(tx, events.followed_up(row, ticket, session, outcome, command.actor))
        phone = await followups_store.take_follow_up_phone(tx, ticket)
        shared = events.follow_up_shared(row, ticket, phone, deps.settings.public_url)
        if shared is not None:
            stage_event(tx, shared)
        audit.record(
            tx,
            command.actor,
            "follow_up",
            session_id=ticket.session_id,
            ticket_id=ticket.id,
            kind=command.kind.value,
        )
    return _follow_up(row, ticket, notified=shared is not None)


def _follow_up(row: FollowUpRow, ticket: TicketRow, *, notified: bool) -> FollowUp:
    return FollowUp(
        follow_up_id=row.id,
        ticket_id=ticket.id,
        number=ticket.number,
        service=row.service,
        agency=row.agency,
        kind=row.kind,
        place=row.place,
        until=row.until,
        note=row.note,
        followed_up_at=row.followed_up_at,
        seconds_since_completion=_since_completion(row),
        citizen_notified=notified,
    )


def _since_completion(row: FollowUpRow) -> float:
    if row.completed_at is None:
        return 0.0
    return seconds_between(row.completed_at, row.followed_up_at)
