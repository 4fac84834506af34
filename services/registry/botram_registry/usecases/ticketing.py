"""Issuing tickets, for check-ins and for transfers: numbering, the quota, storing.

Not a capability of its own: the check-in and the desks' transfer both issue tickets here,
inside their own transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.reference import Catalogue
from botram_registry import issuing
from botram_registry.domain.tickets import TicketSlip, TicketStatus, check_quota, ticket_number
from botram_registry.store import SessionRow


@dataclass(frozen=True, slots=True)
class TicketOrder:
    """The tickets one check-in asks for: a distinct service code each, in the citizen's order."""

    check_in_id: str
    priority: bool
    codes: Sequence[str]


async def issue_tickets(
    tx: AsyncSession,
    catalogue: Catalogue,
    session: SessionRow,
    orders: Sequence[TicketOrder],
    now: datetime,
    transferred_from: str | None = None,
) -> list[list[TicketSlip]]:
    """Issue the tickets of several check-ins at one session, in order, in the caller's
    transaction; one list of tickets per order. A quota overrun fails them all.

    Each queue's numbering is advanced once for the whole group, which also locks it
    (PostgreSQL) until commit. Every ticket still waiting is ahead of the new ones:
    position = seq - called.
    """
    wanted: dict[str, int] = {}
    for order in orders:
        for code in order.codes:
            wanted[code] = wanted.get(code, 0) + 1
    next_seq: dict[str, int] = {}
    called: dict[str, int] = {}
    # One lock order for every transaction: two check-ins never deadlock on queue rows.
    for code in sorted(wanted):
        issued, called[code] = await issuing.count_issued(tx, session.id, code, wanted[code])
        check_quota(catalogue.get(code).name, issued, session.quotas.get(code))
        next_seq[code] = issued - wanted[code] + 1
    rows: list[dict[str, Any]] = []
    slips: list[list[TicketSlip]] = []
    for order in orders:
        tickets = []
        for code in order.codes:
            service = catalogue.get(code)
            seq = next_seq[code]
            next_seq[code] += 1
            ticket_id = str(uuid4())
            number = ticket_number(service.ticket_prefix, seq)
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
                    "issued_at": now,
                    "called_at": None,
                    "completed_at": None,
                    "recalls": 0,
                    "transferred_from": transferred_from,
                    "transferred_to": None,
                }
            )
            tickets.append(
                TicketSlip(
                    ticket_id=ticket_id,
                    service=code,
                    agency=service.agency,
                    number=number,
                    position=seq - called[code],
                    transferred_from=transferred_from,
                )
            )
        slips.append(tickets)
    await issuing.insert_tickets(tx, rows)
    return slips
