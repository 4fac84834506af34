"""Personal data goes when it is no longer needed: a closed session's phone numbers, the
phones of a session that never closed, a pre-registration's phone once its slot ended, and
old deliveries."""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import DeliveryStatus
from botram_notifier.domain.messages import AFTER_THE_SESSION, MessageStatus
from botram_notifier.pre_registration_store import PreRegistrationContactRow
from botram_notifier.store import (
    AttemptRow,
    CitizenMessageRow,
    ContactRow,
    DeliveryRow,
    QueueTicketRow,
)
from botram_runtime.db import take_job_lock

log = structlog.get_logger(__name__)


async def erase_session(tx: AsyncSession, session_id: str, *, keep_final: bool = True) -> None:
    """The session is over: its phone numbers, unsent messages and queue go (except the
    messages its end calls for, still to send: the sender forgets their phone once done,
    and the sweep after `contact_retention_hours` if they never go, `keep_final=False`)."""
    final = (
        col(CitizenMessageRow.kind).in_(AFTER_THE_SESSION)
        & (col(CitizenMessageRow.status) == MessageStatus.PENDING)
        if keep_final
        else None
    )
    await tx.exec(delete(ContactRow).where(col(ContactRow.session_id) == session_id))
    await tx.exec(
        delete(PreRegistrationContactRow).where(
            col(PreRegistrationContactRow.session_id) == session_id
        )
    )
    pending = delete(CitizenMessageRow).where(
        col(CitizenMessageRow.session_id) == session_id,
        col(CitizenMessageRow.status) == MessageStatus.PENDING,
    )
    forget = update(CitizenMessageRow).where(col(CitizenMessageRow.session_id) == session_id)
    if final is not None:
        pending, forget = pending.where(~final), forget.where(~final)
    await tx.exec(pending)
    await tx.exec(forget.values(phone=None))
    await tx.exec(delete(QueueTicketRow).where(col(QueueTicketRow.session_id) == session_id))
    log.info("session_contacts_erased", session_id=session_id)


@dataclass(frozen=True, slots=True)
class Swept:
    sessions: int
    deliveries: int


async def sweep(deps: Deps) -> Swept:
    """What outlived its retention goes: the phones of sessions whose contacts arrived longer
    ago than `contact_retention_hours` (closed or not: a session nobody closed keeps no phone
    for ever), and finished deliveries (payload and attempts) older than
    `delivery_retention_days`."""
    now = deps.clock()
    contacts_before = now - timedelta(hours=deps.settings.contact_retention_hours)
    deliveries_before = now - timedelta(days=deps.settings.delivery_retention_days)
    async with deps.db.transaction() as tx:
        if not await take_job_lock(tx, "notifier-retention"):
            return Swept(sessions=0, deliveries=0)  # another replica sweeps now
        sessions = set(
            (
                await tx.exec(
                    select(ContactRow.session_id).where(
                        col(ContactRow.received_at) < contacts_before
                    )
                )
            ).all()
        )
        sessions |= set(
            (
                await tx.exec(
                    select(CitizenMessageRow.session_id).where(
                        col(CitizenMessageRow.created_at) < contacts_before,
                        col(CitizenMessageRow.phone).is_not(None),
                    )
                )
            ).all()
        )
        for session_id in sorted(sessions):
            await erase_session(tx, session_id, keep_final=False)
        # Pre-registrations whose slot ended: released, or checked in (their contact goes by
        # the rule above); a pre-registration made days ahead keeps its phone until then.
        await tx.exec(
            delete(PreRegistrationContactRow).where(
                col(PreRegistrationContactRow.releases_at) <= now
            )
        )
        old = select(DeliveryRow.id).where(
            col(DeliveryRow.status) != DeliveryStatus.PENDING,
            col(DeliveryRow.finished_at) < deliveries_before,
        )
        await tx.exec(delete(AttemptRow).where(col(AttemptRow.delivery_id).in_(old)))
        deleted = await tx.exec(delete(DeliveryRow).where(col(DeliveryRow.id).in_(old)))
    for session_id in sorted(sessions):
        # The private stream keeps them 48 hours at most anyway; purge now when the bus is up.
        try:
            await deps.private_events.purge_session(session_id)
        except Exception as error:
            log.warning("private_events_not_purged", session_id=session_id, error=repr(error))
    swept = Swept(sessions=len(sessions), deliveries=int(deleted.rowcount or 0))
    if swept.sessions or swept.deliveries:
        log.info("retention_swept", sessions=swept.sessions, deliveries=swept.deliveries)
    return swept
