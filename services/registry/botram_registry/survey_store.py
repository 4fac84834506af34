"""The survey's one table: which tickets answered it (to refuse a second answer).

Only THAT a ticket answered, never the answers nor when: the answers leave at once as an
anonymous event (its outbox row is deleted once published), so nothing in the registry's
database links them to the ticket or its holder.
"""

from sqlmodel import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_registry.store import ServiceTable


class SurveyTakenRow(ServiceTable, table=True):
    __tablename__ = "survey_taken"

    ticket_id: str = Field(primary_key=True, max_length=36)


async def answered(tx: AsyncSession, ticket_id: str) -> bool:
    return await tx.get(SurveyTakenRow, ticket_id) is not None


def mark_answered(tx: AsyncSession, ticket_id: str) -> None:
    """Record that the ticket answered (a second insert fails on the primary key)."""
    tx.add(SurveyTakenRow(ticket_id=ticket_id))
