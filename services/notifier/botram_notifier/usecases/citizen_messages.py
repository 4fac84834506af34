"""The queue projection and the citizen messages events call for (queued, sent later).

Contacts (phone numbers) arrive on `botram.private.>`; ticket events move the queue and tell
citizens whose turn is near; session events tell the session's citizens it was cancelled or
moved, and a closed session's contacts are erased (`retention`), in the notifier's database
and in the private stream.
"""

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    UP_NEXT_LENGTH,
    CitizenContactSharedV1,
    CitizenFollowUpSharedV1,
    CitizenPreRegisteredV1,
    CloudEvent,
    ServiceCompletedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
)
from botram_contracts.vocabulary import Outcome
from botram_notifier.deps import Deps
from botram_notifier.domain import messages
from botram_notifier.domain.messages import MessageKind, QueueStatus
from botram_notifier.store import ContactRow, QueueTicketRow
from botram_notifier.usecases import pre_registered
from botram_notifier.usecases.known_sessions import follow_session, next_session_for
from botram_notifier.usecases.message_queue import queue_message as _queue_message
from botram_notifier.usecases.retention import erase_session
from botram_runtime.db import upsert_insert


async def follow_event(deps: Deps, tx: AsyncSession, event: CloudEvent[Any]) -> None:
    """Update the queue projection and queue the messages an event calls for."""
    data = event.data
    if isinstance(data, CitizenContactSharedV1):
        await _contact_shared(deps, tx, data)
    elif isinstance(data, CitizenPreRegisteredV1):
        await pre_registered.pre_registered(deps, tx, data)
    elif isinstance(data, CitizenFollowUpSharedV1):
        await _follow_up_shared(deps, tx, data)
    elif isinstance(data, TicketCalledV1):
        await _queue_moved(tx, data)
        # A call an offline desk recorded (uploaded hours later, maybe after the close) tells
        # nobody anything: the queue it moved is long past (docs/architecture.md, "Offline
        # village desks"); the next live call tells whoever is near then.
        if not data.recorded_offline:
            await _announce_turn_near(deps, tx, data.session_id, data.service)
    elif isinstance(data, TicketNoShowV1 | ServiceCompletedV1):
        await _set_status(tx, data.ticket_id, QueueStatus.DONE)
        if isinstance(data, ServiceCompletedV1) and data.outcome == Outcome.SERVED:
            await _invite_to_survey(deps, tx, data)
    elif isinstance(data, TicketExpiredV1 | TicketCancelledV1):
        await _set_status(tx, data.ticket_id, QueueStatus.ENDED, only_from=QueueStatus.WAITING)
    elif isinstance(data, SessionCancelledV1):
        await follow_session(tx, data)
        told = await _tell_cancelled(deps, tx, data, str(event.id))
        await pre_registered.tell_cancelled(deps, tx, data, str(event.id), told)
    elif isinstance(data, SessionUpdatedV1):
        await follow_session(tx, data)
        if "services" in data.changed:
            await pre_registered.tell_services_removed(deps, tx, data, str(event.id))
    elif isinstance(data, SessionScheduledV1 | SessionOpenedV1):
        await follow_session(tx, data)
    elif isinstance(data, SessionRescheduledV1):
        await follow_session(tx, data)
        body = messages.session_moved(
            data.desa or data.kecamatan, data.previous_date, data.date, data.reason
        )
        told = await _tell_session(
            deps, tx, data.session_id, MessageKind.SESSION_MOVED, str(event.id), body
        )
        await pre_registered.tell_moved(deps, tx, data, str(event.id), told)
    elif isinstance(data, SessionClosedV1):
        await follow_session(tx, data)
        await _tell_expired(deps, tx, data, str(event.id))
        await erase_session(tx, data.session_id)  # pre-registrations' contacts too
        # The stream's copies too; a failure rolls the erasure back and the event comes again.
        await deps.private_events.purge_session(data.session_id)


async def _contact_shared(deps: Deps, tx: AsyncSession, data: CitizenContactSharedV1) -> None:
    """A citizen shared a phone: remember it, follow the tickets, tell each number."""
    await pre_registered.checked_in(tx, data.session_id, data.phone)
    insert = upsert_insert(tx)
    await tx.exec(
        insert(ContactRow)
        .values(
            check_in_id=data.check_in_id,
            session_id=data.session_id,
            phone=data.phone,
            received_at=deps.clock(),
        )
        .on_conflict_do_update(index_elements=["check_in_id"], set_={"phone": data.phone})
    )
    near = deps.settings.turn_near_ahead
    for ticket in data.tickets:
        await tx.exec(
            insert(QueueTicketRow)
            .values(
                ticket_id=ticket.ticket_id,
                session_id=data.session_id,
                service=ticket.service,
                check_in_id=data.check_in_id,
                number=ticket.number,
                position=ticket.position,
                status=QueueStatus.WAITING,
                turn_near_sent=messages.is_turn_near(ticket.position, near),
                status_link=(data.status_links or {}).get(ticket.ticket_id),
            )
            .on_conflict_do_nothing(index_elements=["ticket_id"])
        )
    for ticket in data.tickets:
        mean_minutes = 0.0
        if ticket.service in deps.catalogue:
            mean_minutes = deps.catalogue.get(ticket.service).mean_service_minutes
        body = messages.ticket_issued(
            ticket.number,
            deps.service_name(ticket.service),
            ticket.position,
            mean_minutes,
            (data.status_links or {}).get(ticket.ticket_id),
        )
        await _queue_message(
            deps,
            tx,
            kind=MessageKind.TICKET_ISSUED,
            key=messages.ticket_key(MessageKind.TICKET_ISSUED, ticket.ticket_id),
            session_id=data.session_id,
            check_in_id=data.check_in_id,
            phone=data.phone,
            body=body,
        )


async def _follow_up_shared(deps: Deps, tx: AsyncSession, data: CitizenFollowUpSharedV1) -> None:
    """An agency's follow-up (a document ready): one message per follow-up, with the phone
    that came with it (forgotten once sent: `AFTER_THE_SESSION`)."""
    await _queue_message(
        deps,
        tx,
        kind=MessageKind.DOCUMENT_READY,
        key=messages.ticket_key(MessageKind.DOCUMENT_READY, data.follow_up_id),
        session_id=data.session_id,
        check_in_id=data.check_in_id,
        phone=data.phone,
        body=messages.document_ready(
            data.number,
            deps.service_name(data.service),
            data.place,
            data.until,
            data.note,
            data.status_link,
        ),
    )


async def _invite_to_survey(deps: Deps, tx: AsyncSession, served: ServiceCompletedV1) -> None:
    """A served ticket whose holder shared a phone, with a status link: invite to the survey
    (on the ticket's status page; no link, no message)."""
    ticket = await tx.get(QueueTicketRow, served.ticket_id)
    if ticket is None or not ticket.status_link or ticket.check_in_id is None:
        return
    contact = await tx.get(ContactRow, ticket.check_in_id)
    if contact is None:
        return
    await _queue_message(
        deps,
        tx,
        kind=MessageKind.SURVEY_INVITED,
        key=messages.ticket_key(MessageKind.SURVEY_INVITED, served.ticket_id),
        session_id=served.session_id,
        check_in_id=ticket.check_in_id,
        phone=contact.phone,
        body=messages.survey_invited(deps.service_name(served.service), ticket.status_link),
    )


async def _set_status(
    tx: AsyncSession, ticket_id: str, status: QueueStatus, only_from: QueueStatus | None = None
) -> None:
    statement = update(QueueTicketRow).where(col(QueueTicketRow.ticket_id) == ticket_id)
    if only_from is not None:
        statement = statement.where(col(QueueTicketRow.status) == only_from)
    await tx.exec(statement.values(status=status))


async def _still_waiting(
    tx: AsyncSession, session_id: str, statuses: tuple[QueueStatus, ...] = messages.STILL_WAITING
) -> list[tuple[QueueTicketRow, ContactRow]]:
    """The session's tickets in `statuses` (by default still waiting, or ended waiting), with
    their holder's contact."""
    rows = await tx.exec(
        select(QueueTicketRow, ContactRow)
        .join(ContactRow, col(ContactRow.check_in_id) == col(QueueTicketRow.check_in_id))
        .where(
            QueueTicketRow.session_id == session_id,
            col(QueueTicketRow.status).in_(statuses),
        )
        .order_by(col(QueueTicketRow.check_in_id), col(QueueTicketRow.number))
    )
    return list(rows.all())


async def _tell_cancelled(
    deps: Deps, tx: AsyncSession, cancelled: SessionCancelledV1, key: str
) -> list[str]:
    """The session was cancelled (an emergency, when it was open): each citizen not yet
    served is told once, with the reason and the next session nearby that offers what they
    came for; their tickets end with the session. Returns the phones told (pre-registered
    citizens are told by `pre_registered.tell_cancelled`, but not twice)."""
    by_check_in: dict[str, tuple[ContactRow, list[str]]] = {}
    for ticket, contact in await _still_waiting(tx, cancelled.session_id, messages.INTERRUPTED):
        by_check_in.setdefault(contact.check_in_id, (contact, []))[1].append(ticket.service)
        # ended with the session: nothing more to tell them
        await _set_status(tx, ticket.ticket_id, QueueStatus.DONE)
    for check_in_id, (contact, services) in by_check_in.items():
        going = await next_session_for(tx, cancelled.kecamatan, cancelled.date, services)
        body = messages.session_cancelled(
            cancelled.desa or cancelled.kecamatan, cancelled.date, cancelled.reason, going
        )
        await _queue_message(
            deps,
            tx,
            kind=MessageKind.SESSION_CANCELLED,
            key=messages.session_key(MessageKind.SESSION_CANCELLED, key, check_in_id),
            session_id=cancelled.session_id,
            check_in_id=check_in_id,
            phone=contact.phone,
            body=body,
        )
    return [contact.phone for contact, _ in by_check_in.values()]


async def _tell_expired(deps: Deps, tx: AsyncSession, closed: SessionClosedV1, key: str) -> None:
    """The session closed: each citizen whose tickets still waited is told once (all their
    numbers in one message) where to find the next sessions; the message outlives the
    contact erasure that follows, until it is sent."""
    by_check_in: dict[str, tuple[ContactRow, list[tuple[str, str]]]] = {}
    for ticket, contact in await _still_waiting(tx, closed.session_id):
        numbers = by_check_in.setdefault(contact.check_in_id, (contact, []))[1]
        numbers.append((ticket.number, deps.service_name(ticket.service)))
    place = closed.desa or closed.kecamatan
    for check_in_id, (contact, numbers) in by_check_in.items():
        await _queue_message(
            deps,
            tx,
            kind=MessageKind.TICKETS_EXPIRED,
            key=messages.session_key(MessageKind.TICKETS_EXPIRED, key, check_in_id),
            session_id=closed.session_id,
            check_in_id=check_in_id,
            phone=contact.phone,
            body=messages.tickets_expired(place, numbers, deps.settings.schedule_url),
        )


async def _queue_moved(tx: AsyncSession, called: TicketCalledV1) -> None:
    """A desk called a ticket: the other waiting tickets of that queue move.

    Positions from the registry are places in its fair order (priority tickets interleaved
    with regular ones), when issued and, for the first `UP_NEXT_LENGTH` tickets, after each call
    (`up_next`); `messages.position_after_call` keeps the projection in that order. A call
    seen before the contact arrived is not counted: the message comes a little late then,
    which only happens in the first seconds.
    """
    await _set_status(tx, called.ticket_id, QueueStatus.CALLED)
    waiting = (
        await tx.exec(
            select(QueueTicketRow).where(
                QueueTicketRow.session_id == called.session_id,
                QueueTicketRow.service == called.service,
                QueueTicketRow.status == QueueStatus.WAITING,
                QueueTicketRow.ticket_id != called.ticket_id,
            )
        )
    ).all()
    if called.up_next is None:  # published before registries said who comes next
        for ticket in waiting:
            ticket.position = messages.position_without_order(ticket.position)
            tx.add(ticket)
        return
    places = {t.ticket_id: place for place, t in enumerate(called.up_next, start=1)}
    everyone_named = len(called.up_next) < UP_NEXT_LENGTH
    for ticket in waiting:
        ticket.position = messages.position_after_call(
            ticket.position, places.get(ticket.ticket_id), len(places), everyone_named
        )
        tx.add(ticket)


async def _announce_turn_near(deps: Deps, tx: AsyncSession, session_id: str, service: str) -> None:
    """Tell each waiting citizen with k or fewer tickets ahead, once per ticket."""
    last_near = messages.last_near_position(deps.settings.turn_near_ahead)
    near = (
        await tx.exec(
            select(QueueTicketRow, ContactRow)
            .join(ContactRow, col(ContactRow.check_in_id) == col(QueueTicketRow.check_in_id))
            .where(
                QueueTicketRow.session_id == session_id,
                QueueTicketRow.service == service,
                QueueTicketRow.status == QueueStatus.WAITING,
                col(QueueTicketRow.turn_near_sent).is_(False),
                col(QueueTicketRow.position) <= last_near,
            )
        )
    ).all()
    name = deps.service_name(service)
    for ticket, contact in near:
        await _queue_message(
            deps,
            tx,
            kind=MessageKind.TURN_NEAR,
            key=messages.ticket_key(MessageKind.TURN_NEAR, ticket.ticket_id),
            session_id=session_id,
            check_in_id=contact.check_in_id,
            phone=contact.phone,
            body=messages.turn_near(ticket.number, name, ticket.position),
        )
        ticket.turn_near_sent = True
        tx.add(ticket)


async def _tell_session(
    deps: Deps,
    tx: AsyncSession,
    session_id: str,
    kind: MessageKind,
    event_id: str,
    body: str,
) -> list[str]:
    """The same message to every checked-in citizen of the session who shared a phone (a
    session moved while open); returns the phones told."""
    contacts = (await tx.exec(select(ContactRow).where(ContactRow.session_id == session_id))).all()
    for contact in contacts:
        await _queue_message(
            deps,
            tx,
            kind=kind,
            key=messages.session_key(kind, event_id, contact.check_in_id),
            session_id=session_id,
            check_in_id=contact.check_in_id,
            phone=contact.phone,
            body=body,
        )
    return [contact.phone for contact in contacts]
