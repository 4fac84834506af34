"""Scheduler use cases: each takes its dependencies as arguments and owns one transaction."""

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from botram_contracts.events import (
    BotramEvent,
    CloudEvent,
    DemandRankedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
)
from botram_contracts.events.envelope import utc_now
from botram_contracts.reference import Catalogue, Regency, UnknownRegionError
from botram_runtime.clock import JAKARTA, Clock, as_utc, local_today
from botram_runtime.db import Database
from botram_runtime.inbox import claim_event
from botram_runtime.outbox import stage_event
from botram_scheduler.domain import (
    DEFAULT_END,
    DEFAULT_QUOTA,
    DEFAULT_START,
    ScheduleError,
    Status,
    check_session_times,
    check_transition,
    find_desa,
    find_kecamatan,
)
from botram_scheduler.schemas import Reason, Reschedule, SessionCreate
from botram_scheduler.store import DemandRankingRow, SessionRow


class SessionNotFound(LookupError):
    pass


def resolve_kecamatan(regions: Regency, name: str) -> str:
    """The slug of a kecamatan named by a planner; 422 with suggestions when unknown."""
    try:
        return find_kecamatan(regions, name).slug
    except UnknownRegionError as error:
        raise ScheduleError("unknown-region", str(error)) from error


def resolve_desa(regions: Regency, kecamatan: str, desa: str) -> tuple[str, str]:
    """The slugs of a desa of a kecamatan; 422 naming where the desa really is."""
    try:
        kec, found = find_desa(regions, kecamatan, desa)
    except UnknownRegionError as error:
        raise ScheduleError("unknown-region", str(error)) from error
    return kec.slug, found.slug


def _resolve_place(regions: Regency, request: SessionCreate) -> tuple[str, str | None]:
    try:
        kecamatan = find_kecamatan(regions, request.kecamatan)
        if request.level == "desa":
            if not request.desa:
                raise ScheduleError("desa-required", "a desa session needs a desa")
            return kecamatan.slug, find_desa(regions, kecamatan.slug, request.desa)[1].slug
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
        ranking_id=row.ranking_id,
    )


def rescheduled_event(row: SessionRow, previous: date) -> SessionRescheduledV1:
    return SessionRescheduledV1(
        session_id=row.id,
        level=row.level,  # type: ignore[arg-type]
        kecamatan=row.kecamatan,
        desa=row.desa,
        date=row.date,
        previous_date=previous,
        start=row.start,
        end=row.end,
        reason=row.status_reason or "",
    )


def cancelled_event(row: SessionRow) -> SessionCancelledV1:
    return SessionCancelledV1(
        session_id=row.id,
        level=row.level,  # type: ignore[arg-type]
        kecamatan=row.kecamatan,
        desa=row.desa,
        date=row.date,
        reason=row.status_reason or "",
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
        stage_event(session, scheduled_event(row))
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
    desa: str | None = None,
) -> tuple[list[SessionRow], int]:
    """Sessions matching the filters, by date, and how many match in all."""
    query = _filtered(start=start, end=end, kecamatan=kecamatan, desa=desa)
    if level is not None:
        query = query.where(SessionRow.level == level)
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


def _filtered(
    *, start: date | None, end: date | None, kecamatan: str | None, desa: str | None
) -> SelectOfScalar[SessionRow]:
    query = select(SessionRow)
    if start is not None:
        query = query.where(col(SessionRow.date) >= start)
    if end is not None:
        query = query.where(col(SessionRow.date) <= end)
    if kecamatan is not None:
        query = query.where(SessionRow.kecamatan == kecamatan)
    if desa is not None:
        query = query.where(SessionRow.desa == desa)
    return query


async def all_sessions(
    db: Database,
    *,
    kecamatan: str | None,
    desa: str | None,
    start: date | None,
    end: date | None,
) -> list[SessionRow]:
    """Every session matching the place and date filters, by date (for calendar feeds)."""
    query = _filtered(start=start, end=end, kecamatan=kecamatan, desa=desa)
    async with db.session() as session:
        rows = await session.exec(
            query.order_by(col(SessionRow.date), col(SessionRow.start), col(SessionRow.id))
        )
        return list(rows.all())


async def change_status(
    db: Database, clock: Clock, session_id: str, target: Status, reason: Reason | None = None
) -> SessionRow:
    """Open, close or cancel a session, and announce the change."""
    async with db.transaction() as session:
        row = await session.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFound(session_id)
        if row.status == target and target in (Status.OPENED, Status.CLOSED):
            return row  # opening an open session (the clock may have done it) changes nothing
        check_transition(Status(row.status), target)
        now = clock()
        row.status = target
        row.updated_at = now
        row.status_reason = reason.reason if reason else row.status_reason
        row.sequence += 1
        session.add(row)
        stage_event(session, _status_event(row, target, now))
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
    return cancelled_event(row)


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
        row.sequence += 1
        if row.origin == "rotation":  # a planner's change: generation leaves it alone now
            row.origin = "rotation-edited"
        session.add(row)
        stage_event(session, rescheduled_event(row, previous))
    return row


DEMAND_CONSUMER = "scheduler-demand"


async def record_ranking(db: Database, event: CloudEvent[DemandRankedV1]) -> bool:
    """Keep the latest demand ranking of the event's level; False for a duplicate or older one."""
    data = event.data
    async with db.transaction() as session:
        if not await claim_event(session, DEMAND_CONSUMER, str(event.id)):
            return False
        row = await session.get(DemandRankingRow, data.level)
        if row is not None and as_utc(row.published_at) > event.time:
            return False  # a late redelivery of an older ranking must not win
        row = row or DemandRankingRow(level=data.level)
        row.ranking_id = str(event.id)
        row.services = [entry.service for entry in data.ranking]
        row.period_from, row.period_to = data.period.start, data.period.end
        row.published_at = event.time
        row.received_at = utc_now()
        session.add(row)
    return True


async def advance_lifecycle(db: Database, clock: Clock) -> list[SessionRow]:
    """Open sessions whose start has come and close those whose end has passed (Jakarta time).

    A scheduled session whose whole day passed without opening is left alone: whether it
    happened is for a planner to say, not for a clock.
    """
    now = clock()
    local = now.astimezone(JAKARTA)
    changed: list[SessionRow] = []
    async with db.transaction() as session:
        rows = (
            await session.exec(
                select(SessionRow).where(
                    or_(
                        and_(
                            SessionRow.status == Status.SCHEDULED, SessionRow.date == local.date()
                        ),
                        and_(
                            SessionRow.status == Status.OPENED, col(SessionRow.date) <= local.date()
                        ),
                    )
                )
            )
        ).all()
        for row in rows:
            starts = datetime.combine(row.date, row.start, JAKARTA)
            ends = datetime.combine(row.date, row.end, JAKARTA)
            if row.status == Status.SCHEDULED and starts <= local < ends:
                target = Status.OPENED
            elif row.status == Status.OPENED and local >= ends and as_utc(row.updated_at) < ends:
                # Opened before its end: the clock closes it. One a desk opened by hand after
                # its end time is running late on purpose; closing it is theirs.
                target = Status.CLOSED
            else:
                continue
            row.status = target
            row.updated_at = now
            row.sequence += 1
            session.add(row)
            stage_event(session, _status_event(row, target, now))
            changed.append(row)
    return changed
