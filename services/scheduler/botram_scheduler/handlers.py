"""Scheduler use cases: each takes its dependencies as arguments and owns one transaction."""

from datetime import date
from uuid import uuid4

from sqlalchemy import func
from sqlmodel import col, select

from botram_scheduler.domain import (
    DEFAULT_END,
    DEFAULT_QUOTA,
    DEFAULT_START,
    ScheduleError,
    Status,
    check_session_times,
    check_transition,
)
from botram_scheduler.schemas import Reason, Reschedule, SessionCreate
from botram_scheduler.store import SessionRow
from botram_shared.clock import Clock, local_today
from botram_shared.db import Database
from botram_shared.events import (
    BotramEvent,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
)
from botram_shared.outbox import stage_event
from botram_shared.reference import Catalogue, Regency, UnknownRegionError

SERVICE = "scheduler"


class SessionNotFound(LookupError):
    pass


def _resolve_place(regions: Regency, request: SessionCreate) -> tuple[str, str | None]:
    try:
        kecamatan = regions.kecamatan(request.kecamatan)
        if request.level == "desa":
            if not request.desa:
                raise ScheduleError("desa-required", "a desa session needs a desa")
            return kecamatan.slug, regions.desa(kecamatan.slug, request.desa).slug
    except UnknownRegionError as error:
        raise ScheduleError("unknown-region", str(error)) from error
    if request.desa:
        raise ScheduleError("desa-not-allowed", "a kecamatan session has no desa")
    return kecamatan.slug, None


def _resolve_services(catalogue: Catalogue, request: SessionCreate) -> list[str]:
    if request.services is None:
        offered = catalogue.services if request.level == "kecamatan" else catalogue.desa_eligible()
        return [service.code for service in offered]
    unknown = [code for code in request.services if code not in catalogue]
    if unknown:
        raise ScheduleError("unknown-service", f"unknown service code(s): {', '.join(unknown)}")
    if not request.services:
        raise ScheduleError("no-services", "a session offers at least one service")
    return list(dict.fromkeys(request.services))


def scheduled_event(row: SessionRow) -> SessionScheduledV1:
    return SessionScheduledV1(
        session_id=row.id,
        level=row.level,  # type: ignore[arg-type]
        kecamatan=row.kecamatan,
        desa=row.desa,
        date=row.date,
        start=row.start,
        end=row.end,
        venue=row.venue,
        services=row.services,
        quotas=row.quotas,
    )


async def create_session(
    db: Database, clock: Clock, catalogue: Catalogue, regions: Regency, request: SessionCreate
) -> SessionRow:
    """Put a session on the calendar and announce it."""
    kecamatan, desa = _resolve_place(regions, request)
    services = _resolve_services(catalogue, request)
    start, end = request.start or DEFAULT_START, request.end or DEFAULT_END
    check_session_times(request.date, local_today(clock), start, end)
    row = SessionRow(
        id=str(uuid4()),
        level=request.level,
        kecamatan=kecamatan,
        desa=desa,
        date=request.date,
        start=start,
        end=end,
        venue=request.venue,
        services=services,
        quotas={code: DEFAULT_QUOTA for code in services},
        status=Status.SCHEDULED,
        origin="manual",
        created_at=clock(),
        updated_at=clock(),
    )
    async with db.transaction() as session:
        session.add(row)
        stage_event(session, scheduled_event(row), SERVICE)
    return row


async def get_session(db: Database, session_id: str) -> SessionRow:
    async with db.session() as session:
        row = await session.get(SessionRow, session_id)
    if row is None:
        raise SessionNotFound(session_id)
    return row


async def list_sessions(
    db: Database,
    *,
    start: date | None,
    end: date | None,
    level: str | None,
    kecamatan: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[SessionRow], int]:
    """Sessions matching the filters, by date, and how many match in all."""
    query = select(SessionRow)
    if start is not None:
        query = query.where(col(SessionRow.date) >= start)
    if end is not None:
        query = query.where(col(SessionRow.date) <= end)
    if level is not None:
        query = query.where(SessionRow.level == level)
    if kecamatan is not None:
        query = query.where(SessionRow.kecamatan == kecamatan)
    if status is not None:
        query = query.where(SessionRow.status == status)
    async with db.session() as session:
        total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
        rows = (
            await session.exec(
                query.order_by(col(SessionRow.date), col(SessionRow.start), col(SessionRow.id))
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return list(rows), int(total)


async def change_status(
    db: Database, clock: Clock, session_id: str, target: Status, reason: Reason | None = None
) -> SessionRow:
    """Open, close or cancel a session, and announce the change."""
    async with db.transaction() as session:
        row = await session.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFound(session_id)
        check_transition(Status(row.status), target)
        now = clock()
        row.status = target
        row.updated_at = now
        row.status_reason = reason.reason if reason else row.status_reason
        session.add(row)
        stage_event(session, _status_event(row, target, now), SERVICE)
    return row


def _status_event(row: SessionRow, target: Status, now: object) -> BotramEvent:
    common = {
        "session_id": row.id,
        "level": row.level,
        "kecamatan": row.kecamatan,
        "desa": row.desa,
        "date": row.date,
    }
    if target is Status.OPENED:
        return SessionOpenedV1(**common, opened_at=now)
    if target is Status.CLOSED:
        return SessionClosedV1(**common, closed_at=now)
    return SessionCancelledV1(**common, reason=row.status_reason or "")


async def reschedule_session(
    db: Database, clock: Clock, session_id: str, request: Reschedule
) -> SessionRow:
    """Move a session that has not opened yet to another date."""
    async with db.transaction() as session:
        row = await session.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFound(session_id)
        if row.status != Status.SCHEDULED:
            raise ScheduleError(
                "invalid-transition", f"a {row.status} session cannot be rescheduled", status=409
            )
        start, end = request.start or row.start, request.end or row.end
        check_session_times(request.date, local_today(clock), start, end)
        previous = row.date
        row.date, row.start, row.end = request.date, start, end
        row.status_reason = request.reason
        row.updated_at = clock()
        session.add(row)
        stage_event(
            session,
            SessionRescheduledV1(
                session_id=row.id,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
                desa=row.desa,
                date=row.date,
                previous_date=previous,
                start=start,
                end=end,
                reason=request.reason,
            ),
            SERVICE,
        )
    return row
