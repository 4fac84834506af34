"""Pre-registered citizens: their slot is texted once, their contact kept until they check
in, their slot ends (released) or the session ends, and they are told once when their
session is cancelled, moved, or loses a service they registered for.

A citizen both pre-registered and checked in is told by their check-in's contact only: the
check-in (`citizen.contact_shared`, the same phone) drops the pre-registration's contact, and
the session messages skip a pre-registration whose phone a checked-in citizen was told on.
"""

from collections.abc import Collection
from datetime import date, datetime, time

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    CitizenPreRegisteredV1,
    SessionCancelledV1,
    SessionRescheduledV1,
    SessionUpdatedV1,
)
from botram_notifier.deps import Deps
from botram_notifier.domain import messages
from botram_notifier.domain.messages import MessageKind
from botram_notifier.pre_registration_store import PreRegistrationContactRow
from botram_notifier.usecases.known_sessions import next_session_for
from botram_notifier.usecases.message_queue import queue_message
from botram_runtime.clock import JAKARTA, as_utc
from botram_runtime.db import upsert_insert

Row = PreRegistrationContactRow


def releases_at(day: date, slot_end: time) -> datetime:
    """The end of the slot (WIB wall clock on the session's day), as UTC."""
    return as_utc(datetime.combine(day, slot_end, tzinfo=JAKARTA))


async def pre_registered(deps: Deps, tx: AsyncSession, data: CitizenPreRegisteredV1) -> None:
    """Text the slot once, and keep the contact for what may change before the fair."""
    await tx.exec(
        upsert_insert(tx)(Row)
        .values(
            pre_registration_id=data.pre_registration_id,
            session_id=data.session_id,
            phone=data.phone,
            services=list(data.services),
            date=data.date,
            slot_start=data.slot_start,
            slot_end=data.slot_end,
            releases_at=releases_at(data.date, data.slot_end),
            received_at=deps.clock(),
        )
        .on_conflict_do_nothing(index_elements=["pre_registration_id"])
    )
    await queue_message(
        deps,
        tx,
        kind=MessageKind.PRE_REGISTERED,
        key=messages.ticket_key(MessageKind.PRE_REGISTERED, data.pre_registration_id),
        session_id=data.session_id,
        check_in_id=data.pre_registration_id,  # no check-in yet: the pre-registration
        phone=data.phone,
        body=messages.pre_registered(
            data.place,
            data.date,
            (data.slot_start, data.slot_end),
            [deps.service_name(code) for code in data.services],
            data.code,
            data.qr_link,
        ),
    )


async def checked_in(tx: AsyncSession, session_id: str, phone: str) -> None:
    """A citizen of the session checked in with this phone: their check-in's contact tells
    them from now on (a pre-registration checks in with its own phone)."""
    for row in await _of_session(tx, session_id):
        if messages.same_phone(row.phone, phone):
            await tx.delete(row)


async def tell_cancelled(
    deps: Deps, tx: AsyncSession, cancelled: SessionCancelledV1, key: str, told: Collection[str]
) -> None:
    """The session was cancelled: each pre-registered citizen still expected is told once,
    with the reason and the next session nearby offering what they registered for; their
    contact goes (nothing more will happen to that session)."""
    for row in await _expected(deps, tx, cancelled.session_id, told):
        going = await next_session_for(tx, cancelled.kecamatan, cancelled.date, row.services)
        body = messages.session_cancelled(
            cancelled.desa or cancelled.kecamatan, cancelled.date, cancelled.reason, going
        )
        await _tell(deps, tx, row, MessageKind.SESSION_CANCELLED, key, body)
    await forget_session(tx, cancelled.session_id)


async def tell_moved(
    deps: Deps, tx: AsyncSession, moved: SessionRescheduledV1, key: str, told: Collection[str]
) -> None:
    """The session moved to another date: each pre-registered citizen still expected is told
    once, with their slot on the new date (or the new hours when their slot is outside
    them); their contact now lasts until the slot ends on the new date."""
    hours = (moved.start, moved.end) if moved.start and moved.end else None
    text = messages.session_moved(
        moved.desa or moved.kecamatan, moved.previous_date, moved.date, moved.reason
    )
    for row in await _expected(deps, tx, moved.session_id, told):
        slot = messages.slot_after_move((row.slot_start, row.slot_end), hours)
        await _tell(deps, tx, row, MessageKind.SESSION_MOVED, key, f"{text} {slot}")
    for row in await _expected(deps, tx, moved.session_id, ()):  # the released stay so
        row.date = moved.date
        end = row.slot_end if hours is None else max(row.slot_end, hours[1])
        row.releases_at = releases_at(moved.date, end)
        tx.add(row)


async def tell_services_removed(
    deps: Deps, tx: AsyncSession, updated: SessionUpdatedV1, key: str
) -> None:
    """A session update removed services: each pre-registered citizen still expected who
    registered for one is told once which, and whether the rest still stands."""
    offered = set(updated.services)
    for row in await _expected(deps, tx, updated.session_id, ()):
        removed = [code for code in row.services if code not in offered]
        if not removed:
            continue
        kept = [code for code in row.services if code in offered]
        body = messages.services_removed(
            updated.desa or updated.kecamatan,
            row.date,
            [deps.service_name(code) for code in removed],
            [deps.service_name(code) for code in kept],
        )
        await _tell(deps, tx, row, MessageKind.SERVICES_REMOVED, key, body)
        row.services = kept
        tx.add(row)


async def forget_session(tx: AsyncSession, session_id: str) -> None:
    await tx.exec(delete(Row).where(col(Row.session_id) == session_id))


async def _of_session(tx: AsyncSession, session_id: str) -> list[Row]:
    statement = select(Row).where(Row.session_id == session_id)
    return list((await tx.exec(statement.order_by(col(Row.pre_registration_id)))).all())


async def _expected(
    deps: Deps, tx: AsyncSession, session_id: str, told: Collection[str]
) -> list[Row]:
    """The session's pre-registrations whose slot has not ended, but those whose phone was
    already told (the citizen checked in: one message, not two)."""
    now = deps.clock()
    return [
        row
        for row in await _of_session(tx, session_id)
        if as_utc(row.releases_at) > now
        and not any(messages.same_phone(row.phone, phone) for phone in told)
    ]


async def _tell(
    deps: Deps, tx: AsyncSession, row: Row, kind: MessageKind, key: str, body: str
) -> None:
    await queue_message(
        deps,
        tx,
        kind=kind,
        key=messages.session_key(kind, key, row.pre_registration_id),
        session_id=row.session_id,
        check_in_id=row.pre_registration_id,
        phone=row.phone,
        body=body,
    )
