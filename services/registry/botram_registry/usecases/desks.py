"""Desks: calling the next ticket fairly, recalls, completions, no-shows and transfers.

Each action locks its ticket (or queue) for its transaction, so two desks never act on the
same ticket at once, and the domain's transition table says which actions a ticket allows.
"""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.vocabulary import Outcome
from botram_registry import events, store
from botram_registry.deps import Deps
from botram_registry.domain.access import check_desk
from botram_registry.domain.check_in import check_services
from botram_registry.domain.queue import check_queue, next_streak, next_to_call, up_next
from botram_registry.domain.tickets import (
    TRANSFER_OUTCOME,
    CallNext,
    Complete,
    DeskAction,
    DeskStep,
    MarkNoShow,
    Recall,
    Ticket,
    TicketSlip,
    TicketStatus,
    Transfer,
    advance,
    check_not_queued,
    check_transfer,
)
from botram_registry.events import AddedTickets
from botram_registry.store import CheckInRow, SessionRow, TicketActionRow, TicketRow
from botram_registry.usecases.ticketing import TicketOrder, issue_tickets
from botram_runtime import audit
from botram_runtime.actors import Actor
from botram_runtime.errors import NotFound
from botram_runtime.outbox import stage_event


async def call_next(deps: Deps, command: CallNext) -> Ticket:
    """Call the next ticket of a service's queue, fairly; two desks never get the same one."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        session = await tx.get(SessionRow, command.session_id)
        if session is None:
            raise NotFound("session", command.session_id)
        check_queue(command.service, session.services)
        check_services(deps.catalogue, session.services, [command.service])
        check_desk(command.actor, deps.catalogue.get(command.service).agency, command.service)
        queue = await store.lock_queue(tx, command.session_id, command.service)
        waiting = await store.waiting_in(tx, command.session_id, command.service)
        per_regular = deps.settings.priority_calls_per_regular
        chosen = next_to_call(command.service, waiting, queue.priority_streak, per_regular)
        queue.priority_streak = next_streak(chosen, queue.priority_streak)
        queue.called += 1
        queue.priority_called += chosen.priority
        tx.add(queue)
        ticket = await tx.get(TicketRow, chosen.ticket_id)
        assert ticket is not None
        ticket.status = advance(ticket.status, DeskAction.CALL, ticket.number)
        ticket.desk, ticket.called_at = command.desk, now
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.CALL, command.desk, now)
        following = up_next(waiting, chosen, queue.priority_streak, per_regular)
        stage_event(tx, events.ticket_called(ticket, session, now, following, command.actor))
        _audit(tx, command.actor, "call_next", ticket)
    return ticket_of(ticket)


async def recall(deps: Deps, command: Recall) -> Ticket:
    """Call a called ticket again (its holder did not answer yet)."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        ticket, session, status = await _act(tx, command, DeskAction.RECALL)
        ticket.status = status
        ticket.recalls += 1
        ticket.desk = command.desk or ticket.desk
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.RECALL, ticket.desk, now)
        stage_event(tx, events.ticket_recalled(ticket, session, now, command.actor))
        _audit(tx, command.actor, "recall", ticket)
    return ticket_of(ticket)


async def complete(deps: Deps, command: Complete) -> Ticket:
    """Finish a called ticket: served, referred or rejected."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        ticket, session, status = await _act(tx, command, DeskAction.COMPLETE)
        ticket.status, ticket.outcome, ticket.note = status, command.outcome, command.note
        ticket.completed_at = now
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.COMPLETE, command.desk or ticket.desk, now)
        citizen = await store.pseudonym_of(tx, ticket.check_in_id)
        completed = events.service_completed(
            ticket, session, citizen, command.desk, now, command.actor
        )
        stage_event(tx, completed)
        _audit(tx, command.actor, "complete", ticket)
    return ticket_of(ticket)


async def mark_no_show(deps: Deps, command: MarkNoShow) -> Ticket:
    """A called citizen did not come to the desk."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        ticket, session, status = await _act(tx, command, DeskAction.NO_SHOW)
        ticket.status, ticket.completed_at = status, now
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.NO_SHOW, command.desk or ticket.desk, now)
        stage_event(tx, events.ticket_no_show(ticket, session, command.actor))
        _audit(tx, command.actor, "no_show", ticket)
    return ticket_of(ticket)


async def transfer(deps: Deps, command: Transfer) -> TicketSlip:
    """Send a called citizen to another service: this ticket ends as referred, a new one is
    issued for the other service, linked both ways; the new one."""
    now = deps.clock()
    target = command.service
    async with deps.db.transaction() as tx:
        ticket, session, status = await _act(tx, command, DeskAction.TRANSFER)
        check_transfer(ticket.number, ticket.service, target)
        check_services(deps.catalogue, session.services, [target])
        check_not_queued(target, await store.open_ticket_number(tx, ticket.check_in_id, target))
        check_in = await tx.get(CheckInRow, ticket.check_in_id)
        assert check_in is not None
        [[new]] = await issue_tickets(
            tx,
            deps,
            session,
            [TicketOrder(check_in.id, check_in.priority, [target])],
            now,
            transferred_from=ticket.id,
        )
        if target not in check_in.services:
            check_in.services = [*check_in.services, target]
            tx.add(check_in)
        ticket.status, ticket.outcome, ticket.completed_at = status, TRANSFER_OUTCOME, now
        ticket.note, ticket.transferred_to = command.note, new.ticket_id
        tx.add(ticket)
        store.record_action(tx, ticket.id, DeskAction.TRANSFER, command.desk or ticket.desk, now)
        citizen = await store.pseudonym_of(tx, ticket.check_in_id)
        completed = events.service_completed(
            ticket, session, citizen, command.desk, now, command.actor
        )
        stage_event(tx, completed)
        added = AddedTickets(session, check_in, citizen, "transferred", [new], now)
        stage_event(tx, events.tickets_added(added))
        _audit(tx, command.actor, "transfer", ticket, new_ticket_id=new.ticket_id)
    return new


async def get_ticket(deps: Deps, ticket_id: str, actor: Actor) -> Ticket:
    """A ticket and every desk action on it, oldest first (a desk: of its own agency)."""
    async with deps.db.session() as tx:
        ticket = await tx.get(TicketRow, ticket_id)
        if ticket is None:
            raise NotFound("ticket", ticket_id)
        check_desk(actor, ticket.agency, ticket.service)
        history = await store.history_of(tx, ticket_id)
    return ticket_of(ticket, history)


def _audit(
    tx: AsyncSession, actor: Actor, action: str, ticket: TicketRow, **more: str | None
) -> None:
    audit.record(
        tx,
        actor,
        action,
        session_id=ticket.session_id,
        ticket_id=ticket.id,
        desk=ticket.desk,
        **more,
    )


async def _act(
    tx: AsyncSession, command: Recall | Complete | MarkNoShow | Transfer, action: DeskAction
) -> tuple[TicketRow, SessionRow, TicketStatus]:
    """The ticket (locked), its session, and the status `action` leaves it in; refused when
    the actor is a desk of another agency or the ticket's status does not allow the action."""
    ticket = await store.lock_ticket(tx, command.ticket_id)
    if ticket is None:
        raise NotFound("ticket", command.ticket_id)
    check_desk(command.actor, ticket.agency, ticket.service)
    status = advance(ticket.status, action, ticket.number)
    session = await tx.get(SessionRow, ticket.session_id)
    assert session is not None
    return ticket, session, status


def ticket_of(row: TicketRow, history: Sequence[TicketActionRow] = ()) -> Ticket:
    return Ticket(
        ticket_id=row.id,
        session_id=row.session_id,
        service=row.service,
        agency=row.agency,
        number=row.number,
        status=TicketStatus(row.status),
        desk=row.desk,
        outcome=None if row.outcome is None else Outcome(row.outcome),
        issued_at=row.issued_at,
        called_at=row.called_at,
        completed_at=row.completed_at,
        recalls=row.recalls,
        transferred_from=row.transferred_from,
        transferred_to=row.transferred_to,
        history=tuple(DeskStep(DeskAction(a.action), a.desk, a.at) for a in history),
    )
