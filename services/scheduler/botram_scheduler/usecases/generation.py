"""The rotation rules turned into sessions: a preview of any range, or the calendar brought in
line with the rules (created, moved, cancelled and announced) in one transaction."""

from datetime import date, datetime, timedelta
from uuid import uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime import audit
from botram_runtime.clock import local_today
from botram_runtime.outbox import stage_event
from botram_scheduler.deps import Deps
from botram_scheduler.domain.generation import (
    Action,
    Generated,
    GenerateSchedule,
    GenerationResult,
    ServiceMix,
    change_reason,
    check_generation,
    may_change,
    service_mixes,
    slot_action,
    slots_to_reconcile,
)
from botram_scheduler.domain.rotation import PlannedSession, Rules, RulesError
from botram_scheduler.domain.sessions import Origin, quotas
from botram_scheduler.events import cancelled_event, rescheduled_event, scheduled_event
from botram_scheduler.store import (
    DemandRankingRow,
    SessionRow,
    lock_calendar_for_generation,
    rotation_sessions,
    sessions_of_slots,
)

# How far past the range generation looks to see where the range's stored slots went.
FOLLOW_DAYS = 62


async def generate(deps: Deps, command: GenerateSchedule) -> GenerationResult:
    """Plan [start, end]; unless `dry_run`, store and announce what changed, in one transaction.

    Real generation never touches the past or a session that has opened, closed, been
    cancelled or been changed by hand: it creates missing rotation sessions from today on,
    and moves or cancels scheduled rotation sessions after today whose slot the rules moved.
    Concurrent generations run one after the other: the second answers like a repeated one.
    """
    rules = _current_rules(deps)
    today = local_today(deps.clock)
    check_generation(command, today)
    if command.dry_run:
        return await _preview(deps, rules, command)
    # Generations run one after another (in this process, then across instances), so a
    # second one finds what the first stored and answers as a repeated generation would.
    async with deps.generations, deps.db.transaction() as tx:
        await lock_calendar_for_generation(tx)
        result = await _reconcile(tx, deps, rules, command, today)
        audit.record(
            tx,
            command.actor,
            "generate_schedule",
            start=command.start.isoformat(),
            end=command.end.isoformat(),
            created=result.count(Action.CREATED),
            rescheduled=result.count(Action.RESCHEDULED),
            cancelled=len(result.cancelled),
        )
    return result


def _current_rules(deps: Deps) -> Rules:
    try:
        return deps.rules()
    except RulesError as error:
        raise RulesError(f"the rotation rules file is invalid: {error}") from error


async def _service_mixes(tx: AsyncSession, deps: Deps, rules: Rules) -> dict[Level, ServiceMix]:
    ranking = await tx.get(DemandRankingRow, rules.ranking_level)
    return service_mixes(
        deps.catalogue,
        rules,
        ranking.services if ranking else None,
        ranking.ranking_id if ranking else None,
    )


async def _preview(deps: Deps, rules: Rules, command: GenerateSchedule) -> GenerationResult:
    async with deps.db.session() as tx:
        mixes = await _service_mixes(tx, deps, rules)
    plan = rules.plan(command.start, command.end)
    result = GenerationResult(command.start, command.end, True, blocked=plan.blocked)
    for planned in plan.sessions:
        mix = mixes[planned.level]
        result.sessions.append(Generated(planned, Action.PREVIEW, mix.services, mix.ranking_id))
    return result


async def _reconcile(
    tx: AsyncSession, deps: Deps, rules: Rules, command: GenerateSchedule, today: date
) -> GenerationResult:
    start, end = command.start, command.end
    mixes = await _service_mixes(tx, deps, rules)
    in_range = await rotation_sessions(tx, start, end)
    # Plan far enough to see where every stored slot in the range went, even past `end`.
    horizon = max([end, *(row.date for row in in_range)]) + timedelta(days=FOLLOW_DAYS)
    # Planned from the rotations' first day: a stored slot may have moved before `start`.
    everything = rules.plan(min(rules.kecamatan.first_date, rules.desa.first_date), horizon)
    planned_by_key = {p.key: p for p in everything.sessions}
    plan = rules.plan(start, horizon)
    existing = {row.rotation_key: row for row in in_range}
    keys = [p.key for p in plan.sessions if p.date <= end]
    existing |= {row.rotation_key: row for row in await sessions_of_slots(tx, keys)}
    holiday = {b.date: b.reason for b in plan.blocked}
    result = GenerationResult(start, end, False, blocked=[b for b in plan.blocked if b.date <= end])
    now = deps.clock()

    stored_keys = [row.rotation_key for row in in_range if row.rotation_key is not None]
    for planned in slots_to_reconcile(plan.sessions, end, stored_keys, planned_by_key):
        mix = mixes[planned.level]
        row = existing.get(planned.key)
        action = slot_action(planned, row, today)
        if action is Action.CREATED:
            row = _new_row(planned, mix, now)
            tx.add(row)
            stage_event(tx, scheduled_event(row))
        elif action is Action.RESCHEDULED and row is not None:
            previous = row.date
            row.date, row.start, row.end = planned.date, planned.start, planned.end
            row.venue = planned.venue
            row.status_reason = change_reason(holiday.get(previous))
            row.sequence += 1
            row.updated_at = now
            tx.add(row)
            stage_event(tx, rescheduled_event(row, previous))
        result.sessions.append(
            Generated(
                planned,
                action,
                row.services if row is not None else mix.services,
                row.ranking_id if row is not None else mix.ranking_id,
                row.id if row is not None else None,
            )
        )

    for row in in_range:
        if row.rotation_key in planned_by_key or not may_change(row, today):
            continue
        row.status = SessionStatus.CANCELLED
        row.status_reason = change_reason(holiday.get(row.date))
        row.sequence += 1
        row.updated_at = now
        tx.add(row)
        stage_event(tx, cancelled_event(row))
        result.cancelled.append(row.id)
    return result


def _new_row(planned: PlannedSession, mix: ServiceMix, now: datetime) -> SessionRow:
    return SessionRow(
        id=str(uuid4()),
        level=planned.level,
        kecamatan=planned.kecamatan,
        desa=planned.desa,
        date=planned.date,
        start=planned.start,
        end=planned.end,
        venue=planned.venue,
        services=mix.services,
        quotas=quotas(mix.services, planned.quota),
        status=SessionStatus.SCHEDULED,
        origin=Origin.ROTATION,
        rotation_key=planned.key,
        ranking_id=mix.ranking_id,
        created_at=now,
        updated_at=now,
    )
