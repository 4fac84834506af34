"""Personal data goes when it is no longer needed: a closed session's phone numbers."""

import structlog
from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.domain.messages import MessageStatus
from botram_notifier.store import CitizenMessageRow, ContactRow, QueueTicketRow

log = structlog.get_logger(__name__)


async def erase_session(tx: AsyncSession, session_id: str) -> None:
    """The session is over: its phone numbers, unsent messages and queue go."""
    await tx.exec(delete(ContactRow).where(col(ContactRow.session_id) == session_id))
    await tx.exec(
        delete(CitizenMessageRow).where(
            col(CitizenMessageRow.session_id) == session_id,
            col(CitizenMessageRow.status) == MessageStatus.PENDING,
        )
    )
    await tx.exec(
        update(CitizenMessageRow)
        .where(col(CitizenMessageRow.session_id) == session_id)
        .values(phone=None)
    )
    await tx.exec(delete(QueueTicketRow).where(col(QueueTicketRow.session_id) == session_id))
    log.info("session_contacts_erased", session_id=session_id)
