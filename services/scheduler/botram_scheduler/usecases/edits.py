"""Changing a session's services, quotas, venue or hours, announced in the same transaction."""

from botram_runtime import audit
from botram_runtime.outbox import stage_event
from botram_scheduler.deps import Deps
from botram_scheduler.domain.edits import SessionFields, UpdateSession, updated_fields
from botram_scheduler.domain.sessions import edited_by_hand
from botram_scheduler.events import updated_event
from botram_scheduler.store import SessionRow, session_row


async def update_session(deps: Deps, command: UpdateSession) -> SessionRow:
    """Apply the change the session's status allows and announce it; a change that changes
    nothing publishes nothing."""
    async with deps.db.transaction() as tx:
        row = await session_row(tx, command.session_id)
        before = SessionFields(
            services=tuple(row.services),
            quotas=dict(row.quotas),
            venue=row.venue,
            start=row.start,
            end=row.end,
        )
        rule = deps.rules().quotas(row.level)
        after = updated_fields(row.status, row.level, before, command, deps.catalogue, rule)
        changed = after.changed_from(before)
        if not changed:
            return row
        row.services, row.quotas = list(after.services), dict(after.quotas)
        row.venue, row.start, row.end = after.venue, after.start, after.end
        row.updated_at = deps.clock()
        row.sequence += 1
        row.origin = edited_by_hand(row.origin)
        tx.add(row)
        stage_event(tx, updated_event(row, changed))
        audit.record(tx, command.actor, "update_session", session_id=row.id)
    return row
