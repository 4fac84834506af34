"""Deliveries as agencies and operators see them: every attempt, dead letters, replays."""

from datetime import datetime

import structlog
from sqlmodel import col, select

from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import (
    DeliveryStatus,
    ReplayFailed,
    RetryDelivery,
    check_replay,
    check_retry,
)
from botram_notifier.store import (
    AttemptRow,
    DeliveryRow,
    attempts_of,
    load_delivery,
    load_subscription,
)

log = structlog.get_logger(__name__)

# A delivery with its attempts, oldest first.
History = tuple[DeliveryRow, list[AttemptRow]]


async def list_deliveries(
    deps: Deps, subscription_id: str, status: DeliveryStatus | None, limit: int
) -> list[History]:
    """A subscription's deliveries, oldest first; `status=failed` is its dead letter."""
    async with deps.db.session() as tx:
        await load_subscription(tx, subscription_id)
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.subscription_id == subscription_id)
            .order_by(col(DeliveryRow.created_at))
            .limit(limit)
        )
        if status:
            query = query.where(DeliveryRow.status == status)
        deliveries = list((await tx.exec(query)).all())
        attempts = await attempts_of(tx, [d.id for d in deliveries])
    return [(d, attempts.get(d.id, [])) for d in deliveries]


async def get_delivery(deps: Deps, delivery_id: str) -> History:
    async with deps.db.session() as tx:
        row = await load_delivery(tx, delivery_id)
        attempts = await attempts_of(tx, [row.id])
    return row, attempts.get(row.id, [])


async def retry_delivery(deps: Deps, command: RetryDelivery) -> History:
    """Put a dead-lettered delivery back in the queue, with a fresh retry schedule."""
    async with deps.db.transaction() as tx:
        row = await load_delivery(tx, command.delivery_id)
        subscription = await load_subscription(tx, row.subscription_id)
        requeue = check_retry(row.status, subscription.enabled)
        if requeue:
            _requeue(row, deps.clock())
            tx.add(row)
        attempts = await attempts_of(tx, [row.id])
    if requeue:
        deps.deliveries_due.notify()
        log.info("delivery_replayed", delivery_id=row.id, subscription_id=row.subscription_id)
    return row, attempts.get(row.id, [])


async def replay_failed(deps: Deps, command: ReplayFailed) -> int:
    """Re-queue every dead-lettered delivery of a subscription created since `since`."""
    async with deps.db.transaction() as tx:
        subscription = await load_subscription(tx, command.subscription_id)
        check_replay(subscription.enabled)
        rows = (
            await tx.exec(
                select(DeliveryRow).where(
                    DeliveryRow.subscription_id == command.subscription_id,
                    DeliveryRow.status == DeliveryStatus.FAILED,
                    col(DeliveryRow.created_at) >= command.since,
                )
            )
        ).all()
        now = deps.clock()
        for row in rows:
            _requeue(row, now)
            tx.add(row)
    deps.deliveries_due.notify()
    log.info("deliveries_replayed", subscription_id=subscription.id, count=len(rows))
    return len(rows)


def _requeue(row: DeliveryRow, now: datetime) -> None:
    row.status = DeliveryStatus.PENDING
    row.retries_done = 0
    row.next_attempt_at = now
    row.finished_at = None
