"""What citizens ask for: the latest demand ranking of each level, from reporting's events."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent, DemandRankedV1
from botram_contracts.events.envelope import utc_now
from botram_scheduler.domain.generation import ranking_supersedes
from botram_scheduler.store import DemandRankingRow


async def record_ranking(tx: AsyncSession, event: CloudEvent[Any]) -> None:
    """Keep the latest demand ranking of the event's level (bus handler; the runtime claimed
    the event). An older ranking arriving late changes nothing; other demand events neither."""
    data = event.data
    if not isinstance(data, DemandRankedV1):
        return
    row = await tx.get(DemandRankingRow, data.level)
    if row is not None and not ranking_supersedes(row.published_at, event.time):
        return
    services = [entry.service for entry in data.ranking]
    if row is None:
        row = DemandRankingRow(
            level=data.level,
            ranking_id=str(event.id),
            services=services,
            period_from=data.period.start,
            period_to=data.period.end,
            published_at=event.time,
        )
    else:
        row.ranking_id = str(event.id)
        row.services = services
        row.period_from, row.period_to = data.period.start, data.period.end
        row.published_at = event.time
    row.received_at = utc_now()
    tx.add(row)
