"""The lifecycle clock: sessions open at their start and close at their end (Jakarta time)."""

from botram_runtime.clock import JAKARTA
from botram_runtime.db import take_job_lock
from botram_runtime.outbox import stage_event
from botram_scheduler.deps import Deps
from botram_scheduler.domain.sessions import lifecycle_step
from botram_scheduler.events import status_event
from botram_scheduler.store import SessionRow, sessions_the_clock_may_move


async def advance(deps: Deps) -> list[SessionRow]:
    """Open the sessions whose start has come and close those whose end has passed; announce
    each change. The sessions changed, in one transaction; none when another replica's clock
    holds the job this tick (it moves them)."""
    now = deps.clock()
    changed: list[SessionRow] = []
    async with deps.db.transaction() as tx:
        if not await take_job_lock(tx, "lifecycle-clock"):
            return changed  # another replica's clock is moving them now
        for row in await sessions_the_clock_may_move(tx, now.astimezone(JAKARTA).date()):
            target = lifecycle_step(row.status, row.date, row.start, row.end, row.updated_at, now)
            if target is None:
                continue
            row.status = target
            row.updated_at = now
            row.sequence += 1
            tx.add(row)
            stage_event(tx, status_event(row, now))
            changed.append(row)
    return changed
