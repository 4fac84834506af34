"""Publishing demand rankings: when a kecamatan session closes, and on request."""

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent
from botram_contracts.vocabulary import Level
from botram_reporting import events, store
from botram_reporting.deps import Deps
from botram_reporting.domain.demand import (
    DemandRanking,
    PublishedRanking,
    PublishRanking,
    demand_ranking,
    demand_window,
)
from botram_runtime import audit
from botram_runtime.clock import local_today
from botram_runtime.outbox import stage_event


async def rank(tx: AsyncSession, deps: Deps, level: Level, start: date, end: date) -> DemandRanking:
    """Services ranked by tickets issued at sessions of `level` between two dates."""
    tickets = await store.issued_tickets(tx, level, start, end)
    return DemandRanking(start, end, level, demand_ranking(tickets, deps.catalogue))


async def stage_ranking(
    tx: AsyncSession, deps: Deps, level: Level, *, end: date
) -> CloudEvent[Any]:
    """Stage `demand.ranked` for the configured window ending on `end` (published after commit)."""
    start, end = demand_window(deps.settings.demand_window_days, end)
    return stage_event(tx, events.demand_ranked(await rank(tx, deps, level, start, end)))


async def publish_ranking(deps: Deps, command: PublishRanking) -> PublishedRanking:
    """Publish a demand ranking on request (through the outbox), by default up to today."""
    end = command.end or local_today(deps.clock)
    async with deps.db.transaction() as tx:
        event = await stage_ranking(tx, deps, command.level, end=end)
        audit.record(
            tx, command.actor, "publish_demand_ranking", event_id=str(event.id), level=command.level
        )
    return PublishedRanking(event_id=str(event.id), subject=event.subject, data=event.data)
