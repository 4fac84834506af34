"""Issuing tickets, for check-ins and for transfers: numbering, the quota, storing.

Not a capability of its own: the check-in and the desks' transfer both issue tickets here,
inside their own transaction.
"""

import dataclasses
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.ids import new_id_text
from botram_registry import issuing, pre_registration_store
from botram_registry.deps import Deps
from botram_registry.domain.queue import QueueShape, place_in_queue, place_of_arrival
from botram_registry.domain.tickets import TicketSlip, TicketStatus, check_quota, ticket_number
from botram_registry.store import SessionRow, priority_streak, waiting_in

# A ticket's status code: 128 random bits, 22 URL-safe characters.
STATUS_CODE_BYTES = 16


@dataclass(frozen=True, slots=True)
class TicketOrder:
    """The tickets one check-in asks for: a distinct service code each, in the citizen's order."""

    check_in_id: str
    priority: bool
    codes: Sequence[str]
    # A pre-registered citizen on time joins ahead of the tickets issued since then
    # (`domain.pre_registration`: the head start); None: at the end of the queue.
    ahead_of_since: datetime | None = None


async def issue_tickets(
    tx: AsyncSession,
    deps: Deps,
    session: SessionRow,
    orders: Sequence[TicketOrder],
    now: datetime,
    transferred_from: str | None = None,
    issued_at: datetime | None = None,
) -> list[list[TicketSlip]]:
    """Issue the tickets of several check-ins at one session, in order, in the caller's
    transaction; one list of tickets per order. A quota overrun fails them all. `issued_at`
    (default `now`): when an offline desk recorded the check-in.

    Each queue's numbering is advanced once for the whole group, which also locks it
    (PostgreSQL) until commit. Each ticket's position is its place in the fair order when it
    joins (`place_of_arrival`), from the queue's counters: no count of the queue.
    """
    wanted: Counter[str] = Counter()
    wanted_priority: Counter[str] = Counter()
    for order in orders:
        wanted.update(order.codes)
        if order.priority:
            wanted_priority.update(order.codes)
    next_seq: dict[str, int] = {}
    shapes: dict[str, QueueShape] = {}
    held = await _held_places(tx, session, wanted, now)
    # One lock order for every transaction: two check-ins never deadlock on queue rows.
    for code in sorted(wanted):
        counts = await issuing.count_issued(
            tx, session.id, code, wanted[code], wanted_priority[code]
        )
        quota = session.quotas.get(code)
        check_quota(deps.catalogue.get(code).name, counts.issued + held[code], quota)
        before = counts.without(wanted[code], wanted_priority[code])
        next_seq[code] = before.issued + 1
        shapes[code] = before.shape(deps.settings.priority_calls_per_regular)
    rows: list[dict[str, Any]] = []
    slips: list[list[TicketSlip]] = []
    for order in orders:
        tickets = []
        for code in order.codes:
            service = deps.catalogue.get(code)
            seq = next_seq[code]
            next_seq[code] += 1
            position = place_of_arrival(shapes[code], order.priority)
            shapes[code] = shapes[code].joined_by(order.priority)
            anchor = None
            if order.ahead_of_since is not None:
                since = order.ahead_of_since
                anchor = await pre_registration_store.first_seq_since(tx, session.id, code, since)
            ticket_id = new_id_text()
            number = ticket_number(service.ticket_prefix, seq)
            status_code = secrets.token_urlsafe(STATUS_CODE_BYTES)
            rows.append(
                {
                    "id": ticket_id,
                    "session_id": session.id,
                    "check_in_id": order.check_in_id,
                    "service": code,
                    "agency": service.agency,
                    "seq": seq,
                    "number": number,
                    "priority": order.priority,
                    "status": TicketStatus.WAITING,
                    "desk": None,
                    "outcome": None,
                    "note": None,
                    "issued_at": issued_at or now,
                    "called_at": None,
                    "completed_at": None,
                    "recalls": 0,
                    "transferred_from": transferred_from,
                    "transferred_to": None,
                    "status_code": status_code,
                    "queue_anchor": anchor,
                }
            )
            tickets.append(
                TicketSlip(
                    ticket_id=ticket_id,
                    service=code,
                    agency=service.agency,
                    number=number,
                    position=position,
                    transferred_from=transferred_from,
                    status_code=status_code,
                )
            )
        slips.append(tickets)
    await issuing.insert_tickets(tx, rows)
    if any(order.ahead_of_since is not None for order in orders):
        # Ahead of some walk-ins: the place is not the end of its class, so read it.
        slips = [[await _placed(tx, deps, session.id, slip) for slip in s] for s in slips]
    return slips


async def _held_places(
    tx: AsyncSession, session: SessionRow, wanted: Counter[str], now: datetime
) -> Counter[str]:
    """Places pre-registrations still hold in the quotas of the services wanted."""
    if not any(session.quotas.get(code) is not None for code in wanted):
        return Counter()
    return await pre_registration_store.held_places(tx, session.id, now)


async def _placed(tx: AsyncSession, deps: Deps, session_id: str, slip: TicketSlip) -> TicketSlip:
    waiting = await waiting_in(tx, session_id, slip.service)
    streak = await priority_streak(tx, session_id, slip.service)
    per_regular = deps.settings.priority_calls_per_regular
    position = place_in_queue(waiting, slip.ticket_id, streak, per_regular)
    return dataclasses.replace(slip, position=position)
