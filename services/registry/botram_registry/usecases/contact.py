"""Changing a checked-in citizen's contact: a front-desk action of its own, audited.

A repeat check-in never changes a stored name or phone (issue 11, attack 2). A desk officer who
has seen the citizen changes the phone here; the notifier learns the new phone, with the
check-in's open tickets, from the private contact event, exactly as at a first check-in. The
audit entry names the actor and the check-in, never the phone or the name.
"""

from botram_registry import events
from botram_registry.deps import Deps
from botram_registry.domain.check_in import ChangeContact, ContactChanged, require_open
from botram_registry.domain.tickets import TicketStatus
from botram_registry.store import CheckInRow, CitizenRow, SessionRow, tickets_of_check_in
from botram_registry.usecases.check_in import slip_of
from botram_runtime import audit
from botram_runtime.errors import NotFound
from botram_runtime.outbox import stage_event

OPEN = (TicketStatus.WAITING, TicketStatus.CALLED)


async def change_contact(deps: Deps, command: ChangeContact) -> ContactChanged:
    """Store the new phone (and name), and tell the notifier, at a session still open."""
    async with deps.db.transaction() as tx:
        check_in = await tx.get(CheckInRow, command.check_in_id)
        if check_in is None:
            raise NotFound("check-in", command.check_in_id)
        require_open(check_in.session_id, await tx.get(SessionRow, check_in.session_id))
        citizen = await tx.get(CitizenRow, check_in.citizen_id)
        assert citizen is not None
        citizen.phone = command.phone
        if command.name:
            citizen.name = command.name
        tx.add(citizen)
        rows = await tickets_of_check_in(tx, check_in.id)
        slips = [await slip_of(tx, deps, row) for row in rows if row.status in OPEN]
        shared = events.contact_shared(check_in, command.phone, slips)
        if shared is not None:
            stage_event(tx, shared)
        audit.record(
            tx,
            command.actor,
            "change_contact",
            session_id=check_in.session_id,
            check_in_id=check_in.id,
            name_changed="yes" if command.name else None,
        )
    return ContactChanged(check_in.id, check_in.session_id, len(slips))
