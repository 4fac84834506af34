"""Reporting use cases: apply events to the aggregates exactly once; load them at start-up."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from botram_reporting.domain import deltas_for
from botram_reporting.metrics import Aggregates, decode_labels, encode_labels
from botram_reporting.store import AggregateRow, SessionRow, add_deltas
from botram_shared.db import Database
from botram_shared.events import (
    CloudEvent,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
)
from botram_shared.inbox import claim_event

CONSUMER = "reporting-aggregates"
STATUS_BY_EVENT = {
    SessionScheduledV1: "scheduled",
    SessionOpenedV1: "opened",
    SessionClosedV1: "closed",
    SessionCancelledV1: "cancelled",
}


@dataclass(frozen=True)
class Reporting:
    db: Database
    aggregates: Aggregates


async def apply_event(reporting: Reporting, event: CloudEvent[Any]) -> bool:
    """Count one event into the aggregates; False when it was counted before."""
    data = event.data
    deltas = deltas_for(data)
    session_status: SessionRow | None = None
    async with reporting.db.transaction() as session:
        if not await claim_event(session, CONSUMER, str(event.id)):
            return False
        await add_deltas(session, deltas, encode_labels)
        if hasattr(data, "session_id") and type(data) in (*STATUS_BY_EVENT, SessionRescheduledV1):
            row = await session.get(SessionRow, data.session_id) or SessionRow(
                id=data.session_id,
                level=data.level,
                kecamatan=data.kecamatan,
                desa=data.desa,
                date=data.date,
                status="scheduled",
            )
            row.status = STATUS_BY_EVENT.get(type(data), row.status)
            row.date = data.date
            session.add(row)
            session_status = row
    reporting.aggregates.apply(deltas)
    if session_status is not None:
        reporting.aggregates.set_session(
            session_status.id, session_status.level, session_status.status
        )
    return True


async def load_aggregates(reporting: Reporting) -> None:
    """Fill the in-memory mirror from the database (at start-up)."""
    async with reporting.db.session() as session:
        rows = (await session.exec(select(AggregateRow))).all()
        sessions = (await session.exec(select(SessionRow))).all()
    for row in rows:
        reporting.aggregates.values[row.name][decode_labels(row.labels)] = row.value
    for s in sessions:
        reporting.aggregates.set_session(s.id, s.level, s.status)
