"""Queued citizen messages go out through the gateway, honouring opt-outs and the rate limit."""

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.adapters.sms import ProviderError
from botram_notifier.deps import Deps
from botram_notifier.domain.messages import (
    FORGOTTEN_ONCE_SENT,
    MessageStatus,
    OptOutPhone,
    phone_hash,
    reason_not_to_send,
)
from botram_notifier.store import CitizenMessageRow, OptOutRow
from botram_runtime import audit
from botram_runtime.db import dialect_of, lock_key, upsert_insert

log = structlog.get_logger(__name__)

SEND_BATCH = 100


async def pending_messages(deps: Deps) -> list[str]:
    """Ids of the messages waiting to be sent, oldest first."""
    async with deps.db.session() as tx:
        ids = (
            await tx.exec(
                select(CitizenMessageRow.id)
                .where(CitizenMessageRow.status == MessageStatus.PENDING)
                .order_by(col(CitizenMessageRow.created_at))
                .limit(SEND_BATCH)
            )
        ).all()
    return list(ids)


async def send_pending(deps: Deps, stopping: Callable[[], bool] = lambda: False) -> int:
    """Send the waiting messages one by one (until `stopping()`); how many were waiting."""
    ids = await pending_messages(deps)
    for message_id in ids:
        if stopping():
            break
        await send_message(deps, message_id)
    return len(ids)


async def send_message(deps: Deps, message_id: str) -> None:
    """Send one queued message, or skip it (opted out, rate limited); record what happened.

    On PostgreSQL, where replicas share the queue, the message is claimed for the whole send:
    its row locked `FOR UPDATE SKIP LOCKED` (another replica's worker passes it by) and its
    phone's advisory lock held, so the hourly count per phone is read after every other send
    to that phone committed. SQLite (one process) reads, sends and records in turn, never
    holding its write lock during a send.
    """
    if deps.db.is_sqlite:
        async with deps.db.session() as tx:
            message, reason = await _claim(deps, tx, message_id)
        if message is None:
            return
        status, reason = await _send(deps, message, reason)
        async with deps.db.transaction() as tx:
            await _store(tx, message, status, reason, deps.clock())
    else:
        async with deps.db.transaction() as tx:
            message, reason = await _claim(deps, tx, message_id)
            if message is None:
                return
            status, reason = await _send(deps, message, reason)
            await _store(tx, message, status, reason, deps.clock())
    deps.metrics.messages.labels(message.kind, status.value).inc()
    if status != MessageStatus.SENT:
        log.info(
            "citizen_message_not_sent",
            message_id=message_id,
            kind=message.kind,
            result=status.value,
            reason=reason,
        )


async def _claim(
    deps: Deps, tx: AsyncSession, message_id: str
) -> tuple[CitizenMessageRow | None, str | None]:
    """The message if it is still to be sent (and why not to send it, if so)."""
    postgresql = dialect_of(tx) == "postgresql"
    query = select(CitizenMessageRow).where(col(CitizenMessageRow.id) == message_id)
    if postgresql:
        query = query.with_for_update(skip_locked=True)
    message = (await tx.exec(query)).first()
    if message is None or message.status != MessageStatus.PENDING or message.phone is None:
        return None, None
    phone = _hash(deps, message.phone)
    if postgresql:
        await tx.exec(select(func.pg_advisory_xact_lock(lock_key(f"phone:{phone}"))))
    opted_out = await tx.get(OptOutRow, phone)
    sent_last_hour = (
        await tx.exec(
            select(func.count())
            .select_from(CitizenMessageRow)
            .where(
                CitizenMessageRow.phone == message.phone,
                CitizenMessageRow.status == MessageStatus.SENT,
                col(CitizenMessageRow.sent_at) >= deps.clock() - timedelta(hours=1),
            )
        )
    ).one()
    reason = reason_not_to_send(
        opted_out is not None, sent_last_hour, deps.settings.sms_max_per_phone_per_hour
    )
    return message, reason


async def _send(
    deps: Deps, message: CitizenMessageRow, reason: str | None
) -> tuple[MessageStatus, str | None]:
    if reason is not None:
        return MessageStatus.SKIPPED, reason
    assert message.phone is not None  # checked by _claim
    try:
        await deps.sms.send(message.phone, message.body, message_id=message.id, kind=message.kind)
    except ProviderError as error:
        return MessageStatus.FAILED, str(error)[:200]
    return MessageStatus.SENT, None


async def _store(
    tx: AsyncSession,
    message: CitizenMessageRow,
    status: MessageStatus,
    reason: str | None,
    now: datetime,
) -> None:
    """The message's fate; one sent after its session ended forgets its phone now (the
    session's other phones are already gone)."""
    values: dict[str, object] = {
        "status": status,
        "reason": reason,
        "sent_at": now if status == MessageStatus.SENT else None,
    }
    if message.kind in FORGOTTEN_ONCE_SENT:
        values["phone"] = None
    await tx.exec(
        update(CitizenMessageRow).where(col(CitizenMessageRow.id) == message.id).values(**values)
    )


async def opt_out(deps: Deps, command: OptOutPhone) -> None:
    """A phone number asks for no more messages (kept: that is the point of it).

    The audit entry names who recorded it, never the phone number (personal data).
    """
    async with deps.db.transaction() as tx:
        await tx.exec(
            upsert_insert(tx)(OptOutRow)
            .values(phone_hash=_hash(deps, command.phone), at=deps.clock())
            .on_conflict_do_nothing(index_elements=["phone_hash"])
        )
        audit.record(tx, command.actor, "record_opt_out")
    log.info("citizen_opted_out")


def _hash(deps: Deps, phone: str) -> str:
    return phone_hash(phone, deps.settings.opt_out_key.get_secret_value().encode())
