"""Queueing a citizen message: once per key, signed for the regency."""

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.deps import Deps
from botram_notifier.domain import messages
from botram_notifier.domain.messages import MessageKind, MessageStatus
from botram_notifier.store import CitizenMessageRow, new_id
from botram_runtime.db import upsert_insert


async def queue_message(
    deps: Deps,
    tx: AsyncSession,
    *,
    kind: MessageKind,
    key: str,
    session_id: str,
    check_in_id: str,
    phone: str,
    body: str,
) -> None:
    """Queue a message once per key, signed for the regency: a redelivered event sends
    nothing new."""
    await tx.exec(
        upsert_insert(tx)(CitizenMessageRow)
        .values(
            id=new_id(),
            dedupe_key=key[:200],
            session_id=session_id,
            check_in_id=check_in_id,
            kind=kind,
            body=messages.signed(deps.settings.sms_signature, body),
            phone=phone,
            status=MessageStatus.PENDING,
            created_at=deps.clock(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
