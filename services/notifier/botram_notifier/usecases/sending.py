"""Queued citizen messages go out through the gateway, honouring opt-outs and the rate limit."""

from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy import func, update
from sqlmodel import col, select

from botram_notifier.adapters.sms import ProviderError
from botram_notifier.deps import Deps
from botram_notifier.domain.messages import (
    MessageStatus,
    OptOutPhone,
    phone_hash,
    reason_not_to_send,
)
from botram_notifier.store import CitizenMessageRow, OptOutRow
from botram_runtime import audit
from botram_runtime.db import upsert_insert

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
    """Send one queued message, or skip it (opted out, rate limited); record what happened."""
    now = deps.clock()
    async with deps.db.session() as tx:
        message = await tx.get(CitizenMessageRow, message_id)
        if message is None or message.status != MessageStatus.PENDING or message.phone is None:
            return
        opted_out = await tx.get(OptOutRow, _hash(deps, message.phone))
        sent_last_hour = (
            await tx.exec(
                select(func.count())
                .select_from(CitizenMessageRow)
                .where(
                    CitizenMessageRow.phone == message.phone,
                    CitizenMessageRow.status == MessageStatus.SENT,
                    col(CitizenMessageRow.sent_at) >= now - timedelta(hours=1),
                )
            )
        ).one()
    status = MessageStatus.SENT
    reason = reason_not_to_send(
        opted_out is not None, sent_last_hour, deps.settings.sms_max_per_phone_per_hour
    )
    if reason is not None:
        status = MessageStatus.SKIPPED
    else:
        try:
            await deps.sms.send(
                message.phone, message.body, message_id=message.id, kind=message.kind
            )
        except ProviderError as error:
            status, reason = MessageStatus.FAILED, str(error)[:200]
    async with deps.db.transaction() as tx:
        await tx.exec(
            update(CitizenMessageRow)
            .where(col(CitizenMessageRow.id) == message_id)
            .values(
                status=status,
                reason=reason,
                sent_at=now if status == MessageStatus.SENT else None,
            )
        )
    deps.metrics.messages.labels(message.kind, status.value).inc()
    if status != MessageStatus.SENT:
        log.info(
            "citizen_message_not_sent",
            message_id=message_id,
            kind=message.kind,
            result=status.value,
            reason=reason,
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
