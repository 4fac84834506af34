"""Citizen messages: the queue projection, contacts from the private subject, the sender.

Phone numbers arrive only on `botram.private.>`, are used only to send, never logged, and
are erased when the session closes (or is cancelled and its messages are out).
"""

import asyncio
from contextlib import suppress
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    CitizenContactSharedV1,
    CloudEvent,
    ServiceCompletedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionRescheduledV1,
    TicketCalledV1,
    TicketNoShowV1,
    TicketRef,
)
from botram_notifier.domain import MessageKind, render, tanggal
from botram_notifier.handlers import Notifier
from botram_notifier.providers import MessageProvider, ProviderError
from botram_notifier.store import (
    CitizenMessageRow,
    ContactRow,
    OptOutRow,
    QueueTicketRow,
    new_id,
)
from botram_runtime.db import upsert_insert

log = structlog.get_logger(__name__)

# How long a stopping sender may take to finish the message in hand (the gateway has 10 s).
STOP_GRACE_SECONDS = 12.0


def _insert(session: AsyncSession) -> Any:
    return upsert_insert(session)


async def apply_event(notifier: Notifier, session: AsyncSession, event: CloudEvent[Any]) -> None:
    """Update the queue projection and queue the messages an event calls for."""
    data = event.data
    if isinstance(data, CitizenContactSharedV1):
        await _contact_shared(notifier, session, data)
    elif isinstance(data, TicketCalledV1):
        await _queue_moved(session, data)
        await _announce_turn_near(notifier, session, data.session_id, data.service)
    elif isinstance(data, TicketNoShowV1 | ServiceCompletedV1):
        await _set_status(session, data.ticket_id, "done")
    elif isinstance(data, SessionCancelledV1):
        place = data.desa or data.kecamatan
        await _tell_session(
            notifier,
            session,
            data.session_id,
            MessageKind.SESSION_CANCELLED,
            str(event.id),
            place=_place(place),
            date=tanggal(data.date),
            reason=data.reason,
        )
    elif isinstance(data, SessionRescheduledV1):
        await _tell_session(
            notifier,
            session,
            data.session_id,
            MessageKind.SESSION_MOVED,
            str(event.id),
            place=_place(data.desa or data.kecamatan),
            previous_date=tanggal(data.previous_date),
            date=tanggal(data.date),
            reason=data.reason,
        )
    elif isinstance(data, SessionClosedV1):
        await erase_session(session, data.session_id)


def _place(slug: str) -> str:
    return slug.replace("-", " ").title()


async def _contact_shared(
    notifier: Notifier, session: AsyncSession, data: CitizenContactSharedV1
) -> None:
    await session.exec(
        _insert(session)(ContactRow)
        .values(check_in_id=data.check_in_id, session_id=data.session_id, phone=data.phone)
        .on_conflict_do_update(index_elements=["check_in_id"], set_={"phone": data.phone})
    )
    await _upsert_tickets(
        session, data.session_id, data.check_in_id, data.tickets, notifier.settings.turn_near_ahead
    )
    for ticket in data.tickets:
        minutes = 0.0
        if ticket.service in notifier.catalogue:
            service = notifier.catalogue.get(ticket.service)
            minutes = (ticket.position - 1) * service.mean_service_minutes
            name = service.name
        else:
            name = ticket.service
        await _queue_message(
            notifier,
            session,
            kind=MessageKind.TICKET_ISSUED,
            key=f"{MessageKind.TICKET_ISSUED}:{ticket.ticket_id}",
            session_id=data.session_id,
            check_in_id=data.check_in_id,
            phone=data.phone,
            body=render(
                MessageKind.TICKET_ISSUED,
                number=ticket.number,
                service=name,
                wait_minutes=round(minutes),
            ),
        )


async def _upsert_tickets(
    session: AsyncSession,
    session_id: str,
    check_in_id: str,
    tickets: list[TicketRef],
    near: int,
) -> None:
    for ticket in tickets:
        await session.exec(
            _insert(session)(QueueTicketRow)
            .values(
                ticket_id=ticket.ticket_id,
                session_id=session_id,
                service=ticket.service,
                check_in_id=check_in_id,
                number=ticket.number,
                position=ticket.position,
                status="waiting",
                # Already near the desk when issued: the number message says so (wait ~0).
                turn_near_sent=ticket.position - 1 <= near,
            )
            .on_conflict_do_nothing(index_elements=["ticket_id"])
        )


async def _set_status(session: AsyncSession, ticket_id: str, status: str) -> None:
    await session.exec(
        update(QueueTicketRow)
        .where(col(QueueTicketRow.ticket_id) == ticket_id)
        .values(status=status)
    )


async def _queue_moved(session: AsyncSession, called: TicketCalledV1) -> None:
    """A desk called a ticket: every other waiting ticket of that queue moves up one place.

    Positions from the registry are "waiting tickets ahead + 1" when issued; each later
    call of another ticket brings ours one place closer. A priority ticket issued after ours
    and called first makes us look one place closer than we are: the message comes a
    little early, never late. A call seen before the contact arrived is not counted: the
    message comes a little late then, which only happens in the first seconds.
    """
    await _set_status(session, called.ticket_id, "called")
    await session.exec(
        update(QueueTicketRow)
        .where(
            col(QueueTicketRow.session_id) == called.session_id,
            col(QueueTicketRow.service) == called.service,
            col(QueueTicketRow.status) == "waiting",
            col(QueueTicketRow.ticket_id) != called.ticket_id,
            col(QueueTicketRow.position) > 1,
        )
        .values(position=QueueTicketRow.position - 1)  # type: ignore[operator]
    )


async def _announce_turn_near(
    notifier: Notifier, session: AsyncSession, session_id: str, service: str
) -> None:
    """Tell each waiting citizen with k or fewer tickets ahead, once per ticket."""
    k = notifier.settings.turn_near_ahead
    near = (
        await session.exec(
            select(QueueTicketRow, ContactRow)
            .join(ContactRow, col(ContactRow.check_in_id) == col(QueueTicketRow.check_in_id))
            .where(
                QueueTicketRow.session_id == session_id,
                QueueTicketRow.service == service,
                QueueTicketRow.status == "waiting",
                col(QueueTicketRow.turn_near_sent).is_(False),
                col(QueueTicketRow.position) <= k + 1,
            )
        )
    ).all()
    name = notifier.catalogue.get(service).name if service in notifier.catalogue else service
    for ticket, contact in near:
        ahead = ticket.position - 1
        await _queue_message(
            notifier,
            session,
            kind=MessageKind.TURN_NEAR,
            key=f"{MessageKind.TURN_NEAR}:{ticket.ticket_id}",
            session_id=session_id,
            check_in_id=contact.check_in_id,
            phone=contact.phone,
            body=render(MessageKind.TURN_NEAR, number=ticket.number, service=name, ahead=ahead),
        )
        ticket.turn_near_sent = True
        session.add(ticket)


async def _tell_session(
    notifier: Notifier,
    session: AsyncSession,
    session_id: str,
    kind: MessageKind,
    event_id: str,
    **values: Any,
) -> None:
    contacts = (
        await session.exec(select(ContactRow).where(ContactRow.session_id == session_id))
    ).all()
    for contact in contacts:
        await _queue_message(
            notifier,
            session,
            kind=kind,
            key=f"{kind}:{event_id}:{contact.check_in_id}",
            session_id=session_id,
            check_in_id=contact.check_in_id,
            phone=contact.phone,
            body=render(kind, **values),
        )


async def _queue_message(
    notifier: Notifier,
    session: AsyncSession,
    *,
    kind: MessageKind,
    key: str,
    session_id: str,
    check_in_id: str,
    phone: str,
    body: str,
) -> None:
    await session.exec(
        _insert(session)(CitizenMessageRow)
        .values(
            id=new_id(),
            dedupe_key=key[:200],
            session_id=session_id,
            check_in_id=check_in_id,
            kind=kind.value,
            body=body,
            phone=phone,
            status="pending",
            created_at=notifier.clock(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


async def erase_session(session: AsyncSession, session_id: str) -> None:
    """The session is over: its phone numbers, unsent messages and queue go."""
    await session.exec(delete(ContactRow).where(col(ContactRow.session_id) == session_id))
    await session.exec(
        delete(CitizenMessageRow).where(
            col(CitizenMessageRow.session_id) == session_id, CitizenMessageRow.status == "pending"
        )
    )
    await session.exec(
        update(CitizenMessageRow)
        .where(col(CitizenMessageRow.session_id) == session_id)
        .values(phone=None)
    )
    await session.exec(delete(QueueTicketRow).where(col(QueueTicketRow.session_id) == session_id))
    log.info("session_contacts_erased", session_id=session_id)


async def opt_out(notifier: Notifier, phone: str) -> None:
    async with notifier.db.transaction() as session:
        await session.exec(
            _insert(session)(OptOutRow)
            .values(phone=phone, at=notifier.clock())
            .on_conflict_do_nothing(index_elements=["phone"])
        )
    log.info("citizen_opted_out")


class MessageSender:
    """Sends queued messages through the provider, honouring opt-outs and the rate limit."""

    def __init__(self, notifier: Notifier, provider: MessageProvider) -> None:
        self.notifier = notifier
        self.provider = provider
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="citizen-messages")

    async def stop(self) -> None:
        """Finish the message being sent (bounded), then stop: never cut a statement short."""
        self._stopping.set()
        self.ready.set()
        if self._task is not None:
            _, late = await asyncio.wait([self._task], timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await self.provider.close()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self.ready.clear()
            try:
                await self.send_pending()
            except Exception as error:
                log.warning("citizen_messages_failed", error=repr(error))
            if self._stopping.is_set():
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    self.ready.wait(), timeout=self.notifier.settings.sms_poll_seconds
                )

    async def send_pending(self) -> int:
        async with self.notifier.db.session() as session:
            ids = (
                await session.exec(
                    select(CitizenMessageRow.id)
                    .where(CitizenMessageRow.status == "pending")
                    .order_by(col(CitizenMessageRow.created_at))
                    .limit(100)
                )
            ).all()
        for message_id in ids:
            if self._stopping.is_set():
                break
            await self._send(message_id)
        return len(ids)

    async def _send(self, message_id: str) -> None:
        notifier = self.notifier
        now = notifier.clock()
        async with notifier.db.session() as session:
            message = await session.get(CitizenMessageRow, message_id)
            if message is None or message.status != "pending" or message.phone is None:
                return
            opted_out = await session.get(OptOutRow, message.phone)
            sent_last_hour = (
                await session.exec(
                    select(func.count())
                    .select_from(CitizenMessageRow)
                    .where(
                        CitizenMessageRow.phone == message.phone,
                        CitizenMessageRow.status == "sent",
                        col(CitizenMessageRow.sent_at) >= now - timedelta(hours=1),
                    )
                )
            ).one()
        status, reason = "sent", None
        if opted_out is not None:
            status, reason = "skipped", "opted out"
        elif sent_last_hour >= notifier.settings.sms_max_per_phone_per_hour:
            status, reason = "skipped", "rate limited"
        else:
            try:
                await self.provider.send(
                    message.phone, message.body, message_id=message.id, kind=message.kind
                )
            except ProviderError as error:
                status, reason = "failed", str(error)[:200]
        async with notifier.db.transaction() as session:
            await session.exec(
                update(CitizenMessageRow)
                .where(col(CitizenMessageRow.id) == message_id)
                .values(status=status, reason=reason, sent_at=now if status == "sent" else None)
            )
        notifier.metrics.messages.labels(message.kind, status).inc()
        if status != "sent":
            log.info(
                "citizen_message_not_sent",
                message_id=message_id,
                kind=message.kind,
                result=status,
                reason=reason,
            )
