"""Use case: turn the rotation rules into sessions (preview, or store and announce)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import uuid4

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.reference import Catalogue
from botram_runtime.clock import Clock, local_today
from botram_runtime.db import Database
from botram_runtime.outbox import stage_event
from botram_scheduler.domain import (
    BlockedDay,
    PlannedSession,
    ScheduleError,
    Status,
    desa_services,
)
from botram_scheduler.handlers import cancelled_event, rescheduled_event, scheduled_event
from botram_scheduler.rules import Rules
from botram_scheduler.store import DemandRankingRow, SessionRow

ROTATION = "rotation"
# A rotation session a planner changed by hand: generation leaves it as they made it.
ROTATION_EDITED = "rotation-edited"
MAX_RANGE_DAYS = 3 * 366
RULES_CHANGED = "Jadwal rotasi Botram diperbarui"


@dataclass
class Outcome:
    """A planned session and what generation did with it."""

    planned: PlannedSession
    action: str  # preview | created | unchanged | rescheduled | kept | past
    services: list[str]
    ranking_id: str | None
    session_id: str | None = None


@dataclass
class GenerationResult:
    start: date
    end: date
    dry_run: bool
    sessions: list[Outcome] = field(default_factory=list)
    blocked: list[BlockedDay] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for outcome in self.sessions if outcome.action == action)


def check_range(start: date, end: date) -> None:
    """A generation range runs forwards and stays within a few years."""
    if end < start:
        raise ScheduleError("end-before-start", f"'to' {end} is before 'from' {start}")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ScheduleError("range-too-long", f"generate at most {MAX_RANGE_DAYS} days at a time")


async def _service_mix(
    session: AsyncSession, rules: Rules, catalogue: Catalogue
) -> dict[str, tuple[list[str], str | None]]:
    """Services per level: the whole catalogue, and the desa mix of the latest ranking."""
    ranking = await session.get(DemandRankingRow, rules.ranking_level)
    desa = desa_services(
        ranking.services if ranking else None,
        [s.code for s in catalogue.desa_eligible()],
        rules.default_services,
        rules.top_services,
    )
    return {
        "kecamatan": (catalogue.codes(), None),
        "desa": (desa, ranking.ranking_id if ranking else None),
    }


async def generate(
    db: Database,
    clock: Clock,
    catalogue: Catalogue,
    rules: Rules,
    start: date,
    end: date,
    *,
    dry_run: bool,
) -> GenerationResult:
    """Plan [start, end]; unless `dry_run`, store and announce what changed, in one transaction.

    Real generation never touches the past or a session that has opened, closed, been
    cancelled or been changed by hand: it creates missing rotation sessions from today on,
    and moves or cancels scheduled rotation sessions after today whose slot the rules moved.
    """
    check_range(start, end)
    today = local_today(clock)
    if not dry_run and end < today:
        raise ScheduleError(
            "date-in-past",
            f"{end} is in the past (today is {today}): past sessions can only be previewed "
            "with dry_run",
        )
    if dry_run:
        async with db.session() as session:
            mix = await _service_mix(session, rules, catalogue)
        plan = rules.plan(start, end)
        result = GenerationResult(start, end, dry_run, blocked=plan.blocked)
        for planned in plan.sessions:
            services, ranking_id = mix[planned.level]
            result.sessions.append(Outcome(planned, "preview", services, ranking_id))
        return result
    async with db.transaction() as session:
        return await _reconcile(session, clock, catalogue, rules, start, end, today)


async def _reconcile(
    session: AsyncSession,
    clock: Clock,
    catalogue: Catalogue,
    rules: Rules,
    start: date,
    end: date,
    today: date,
) -> GenerationResult:
    mix = await _service_mix(session, rules, catalogue)
    in_range = (
        await session.exec(
            select(SessionRow).where(
                col(SessionRow.rotation_key).is_not(None),
                col(SessionRow.date) >= start,
                col(SessionRow.date) <= end,
            )
        )
    ).all()
    # Plan far enough to see where every stored slot in the range went, even past `end`.
    horizon = max([end, *(row.date for row in in_range)]) + timedelta(days=62)
    # Planned from the rotations' first day: a stored slot may have moved before `start`.
    everything = rules.plan(min(rules.kecamatan.first_date, rules.desa.first_date), horizon)
    planned_by_key = {p.key: p for p in everything.sessions}
    plan = rules.plan(start, horizon)
    keys = [p.key for p in plan.sessions if p.date <= end]
    existing = {row.rotation_key: row for row in in_range}
    if keys:
        rows = await session.exec(select(SessionRow).where(col(SessionRow.rotation_key).in_(keys)))
        existing |= {row.rotation_key: row for row in rows.all()}
    blocked_reason = {b.date: b.reason for b in plan.blocked}
    result = GenerationResult(start, end, False, blocked=[b for b in plan.blocked if b.date <= end])
    now = clock()

    # The slots planned in the range, plus where the rules now put the range's stored slots
    # (a slot pushed past `end` by an override or a holiday must follow, not stay behind).
    targets = {p.key: p for p in plan.sessions if p.date <= end}
    for row in in_range:
        if row.rotation_key in planned_by_key and row.rotation_key not in targets:
            targets[row.rotation_key] = planned_by_key[row.rotation_key]

    for planned in sorted(targets.values(), key=lambda p: (p.date, p.start, p.level)):
        services, ranking_id = mix[planned.level]
        row = existing.get(planned.key)
        if planned.date < today:
            action = "past"
        elif row is None:
            row = _new_row(planned, services, ranking_id, now)
            session.add(row)
            stage_event(session, scheduled_event(row))
            action = "created"
        elif _mutable(row, today) and planned.date > today and _differs(row, planned):
            previous = row.date
            row.date, row.start, row.end, row.venue = (
                planned.date,
                planned.start,
                planned.end,
                planned.venue,
            )
            row.status_reason = _why(RULES_CHANGED, blocked_reason.get(previous))
            row.sequence += 1
            row.updated_at = now
            session.add(row)
            stage_event(session, rescheduled_event(row, previous))
            action = "rescheduled"
        else:
            action = "unchanged" if row is not None and not _differs(row, planned) else "kept"
        result.sessions.append(
            Outcome(
                planned,
                action,
                row.services if row is not None else services,
                row.ranking_id if row is not None else ranking_id,
                row.id if row is not None else None,
            )
        )

    for row in in_range:
        if row.rotation_key in planned_by_key or not _mutable(row, today):
            continue
        row.status = Status.CANCELLED
        row.status_reason = _why(RULES_CHANGED, blocked_reason.get(row.date))
        row.sequence += 1
        row.updated_at = now
        session.add(row)
        stage_event(session, cancelled_event(row))
        result.cancelled.append(row.id)
    return result


def _why(base: str, holiday: str | None) -> str:
    return f"{base}: {holiday}" if holiday else base


def _mutable(row: SessionRow, today: date) -> bool:
    """Generation may change only its own scheduled sessions after today."""
    return row.origin == ROTATION and row.status == Status.SCHEDULED and row.date > today


def _differs(row: SessionRow, planned: PlannedSession) -> bool:
    return (row.date, row.start, row.end, row.venue) != (
        planned.date,
        planned.start,
        planned.end,
        planned.venue,
    )


def _new_row(
    planned: PlannedSession, services: list[str], ranking_id: str | None, now: object
) -> SessionRow:
    return SessionRow(
        id=str(uuid4()),
        level=planned.level,
        kecamatan=planned.kecamatan,
        desa=planned.desa,
        date=planned.date,
        start=planned.start,
        end=planned.end,
        venue=planned.venue,
        services=services,
        quotas={code: planned.quota for code in services},
        status=Status.SCHEDULED,
        origin=ROTATION,
        rotation_key=planned.key,
        ranking_id=ranking_id,
        created_at=now,
        updated_at=now,
    )
