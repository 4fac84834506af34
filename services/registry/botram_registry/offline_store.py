"""Offline desks' uploads beyond check-ins: the desk actions applied (so a replay is a no-op),
and how an uploaded item finds its ticket.

Kept apart from `store` (at its size limit); its table is on the same metadata.
"""

from datetime import datetime

from sqlmodel import Field, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events.envelope import utc_now
from botram_registry.domain.offline_actions import TicketReference
from botram_registry.store import OfflineCheckInRow, ServiceTable, TicketRow
from botram_runtime.errors import Invalid, NotFound


class OfflineActionRow(ServiceTable, table=True):
    """A desk action an offline desk uploaded and the registry applied: its client id makes a
    replayed upload a no-op (an action refused or in conflict is not kept: a replay is judged
    again, and changes nothing either)."""

    __tablename__ = "offline_actions"

    session_id: str = Field(primary_key=True, max_length=36)
    client_id: str = Field(primary_key=True, max_length=64)
    # Keyed digest of the item: the same id with other content is a conflict, not a replay.
    fingerprint: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    ticket_id: str = Field(max_length=36)
    device_id: str | None = Field(default=None, max_length=80)
    recorded_at: datetime
    received_at: datetime = Field(default_factory=utc_now)


async def client_id_taken(tx: AsyncSession, session_id: str, client_id: str) -> bool:
    """Whether an offline check-in of the session already has this client id."""
    return await tx.get(OfflineCheckInRow, (session_id, client_id)) is not None


async def find_ticket(tx: AsyncSession, session_id: str, ref: TicketReference) -> TicketRow:
    """The session's ticket an item names (by id, by number, or by its offline check-in and
    service); 404 when there is none, 422 when the check-in has several and no service is given."""
    if ref.ticket_id is not None:
        ticket = await tx.get(TicketRow, ref.ticket_id)
        if ticket is None or ticket.session_id != session_id:
            raise NotFound("ticket", ref.ticket_id)
        return ticket
    if ref.number is not None:
        statement = select(TicketRow).where(
            TicketRow.session_id == session_id, TicketRow.number == ref.number.upper()
        )
        found = (await tx.exec(statement)).first()
        if found is None:
            raise NotFound("ticket", ref.number)
        return found
    assert ref.check_in is not None  # the schema asks for one of the three
    uploaded = await tx.get(OfflineCheckInRow, (session_id, ref.check_in))
    if uploaded is None:
        raise NotFound("offline check-in", ref.check_in, code="ticket-not-found")
    statement = select(TicketRow).where(TicketRow.check_in_id == uploaded.check_in_id)
    if ref.service is not None:
        statement = statement.where(TicketRow.service == ref.service)
    # A transfer's new ticket comes last: the one the citizen holds now.
    tickets = (await tx.exec(statement.order_by(col(TicketRow.issued_at)))).all()
    if not tickets:
        raise NotFound("ticket", f"{ref.check_in}/{ref.service}")
    if ref.service is None and len({t.service for t in tickets}) > 1:
        raise Invalid(
            f"check-in {ref.check_in} has tickets for several services: name the service",
            code="service-required",
        )
    return tickets[-1]
