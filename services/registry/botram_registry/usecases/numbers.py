"""Desks by a ticket's number (`KK-012`, as the citizen shows it): find it, call it out of turn.

A citizen who stepped out comes back with their slip: the desk finds the ticket by its
number and calls it before its turn; the call is recorded as out of turn (history, audit,
`ticket.called` with `out_of_turn`) and leaves the queue's fairness streak alone.
"""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_registry import events, store
from botram_registry.deps import Deps
from botram_registry.domain.access import check_desk
from botram_registry.domain.queue import Waiting, up_next
from botram_registry.domain.tickets import CallNumber, DeskAction, Ticket, advance
from botram_registry.store import SessionRow, TicketRow
from botram_registry.usecases.desks import ticket_of
from botram_runtime import audit
from botram_runtime.actors import Actor
from botram_runtime.errors import NotFound
from botram_runtime.outbox import stage_event


async def ticket_by_number(deps: Deps, session_id: str, number: str, actor: Actor) -> Ticket:
    """A session's ticket by its number, with its history (a desk: of its own agency)."""
    async with deps.db.session() as tx:
        ticket = await _find(tx, session_id, number)
        check_desk(actor, ticket.agency, ticket.service)
        history = await store.history_of(tx, ticket.id)
    return ticket_of(ticket, history)


async def call_number(deps: Deps, command: CallNumber) -> Ticket:
    """Call a waiting ticket by its number, out of turn (refused unless it waits: 409)."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        found = await _find(tx, command.session_id, command.number)
        check_desk(command.actor, found.agency, found.service)
        # The queue first, as a call-next does: two desks never call one ticket.
        queue = await store.lock_queue(tx, found.session_id, found.service)
        ticket = await store.lock_ticket(tx, found.id)
        assert ticket is not None
        ticket.status = advance(ticket.status, DeskAction.CALL_OUT_OF_TURN, ticket.number)
        waiting = await store.waiting_in(tx, ticket.session_id, ticket.service)
        queue.called += 1
        queue.priority_called += ticket.priority
        tx.add(queue)
        ticket.desk, ticket.called_at = command.desk, now
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.CALL_OUT_OF_TURN, command.desk, now)
        session = await tx.get(SessionRow, ticket.session_id)
        assert session is not None
        chosen = Waiting(ticket.id, ticket.priority, ticket.number)
        per_regular = deps.settings.priority_calls_per_regular
        following = up_next(waiting, chosen, queue.priority_streak, per_regular)
        called = events.ticket_called(ticket, session, now, following, command.actor, True)
        stage_event(tx, called)
        audit.record(
            tx,
            command.actor,
            "call_out_of_turn",
            session_id=ticket.session_id,
            ticket_id=ticket.id,
            desk=ticket.desk,
        )
    return ticket_of(ticket)


async def _find(tx: AsyncSession, session_id: str, number: str) -> TicketRow:
    statement = select(TicketRow).where(
        TicketRow.session_id == session_id, TicketRow.number == number.upper()
    )
    ticket = (await tx.exec(statement)).first()
    if ticket is None:
        raise NotFound("ticket", number)
    return ticket
