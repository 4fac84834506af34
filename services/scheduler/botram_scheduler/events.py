"""Session rows as contract events: the one place the scheduler's event data is built."""

from datetime import date, datetime
from typing import Any

from botram_contracts.events import (
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
)
from botram_contracts.vocabulary import SessionStatus
from botram_scheduler.store import SessionRow


def _where(row: SessionRow) -> dict[str, Any]:
    """The fields every session event starts with: which session, where and on which day."""
    return {
        "session_id": row.id,
        "level": row.level,
        "kecamatan": row.kecamatan,
        "desa": row.desa,
        "date": row.date,
    }


def scheduled_event(row: SessionRow) -> SessionScheduledV1:
    """A session was put on the calendar (by hand or by the rotation)."""
    return SessionScheduledV1(
        **_where(row),
        start=row.start,
        end=row.end,
        venue=row.venue,
        services=row.services,
        quotas=row.quotas,
        ranking_id=row.ranking_id,
    )


def rescheduled_event(row: SessionRow, previous: date) -> SessionRescheduledV1:
    """A session moved from `previous` to its date now."""
    return SessionRescheduledV1(
        **_where(row),
        previous_date=previous,
        start=row.start,
        end=row.end,
        reason=row.status_reason or "",
    )


def updated_event(row: SessionRow, changed: list[str]) -> SessionUpdatedV1:
    """A session's services, quotas, venue or hours changed (`changed` names which)."""
    return SessionUpdatedV1(
        **_where(row),
        start=row.start,
        end=row.end,
        venue=row.venue,
        services=row.services,
        quotas=row.quotas,
        changed=changed,
    )


def cancelled_event(row: SessionRow) -> SessionCancelledV1:
    """A session will not take place (its status reason says why)."""
    return SessionCancelledV1(
        **_where(row),
        reason=row.status_reason or "",
    )


def status_event(
    row: SessionRow, now: datetime
) -> SessionOpenedV1 | SessionClosedV1 | SessionCancelledV1:
    """The event of a session's new status: opened, closed or cancelled at `now`."""
    if row.status == SessionStatus.OPENED:
        return SessionOpenedV1(
            **_where(row),
            opened_at=now,
        )
    if row.status == SessionStatus.CLOSED:
        return SessionClosedV1(
            **_where(row),
            closed_at=now,
        )
    return cancelled_event(row)
