"""Deliveries as agencies and operators see them: every attempt, dead letters, replays.

An agency sees only its own subscriptions' deliveries (another agency's answer 404,
domain/ownership.py); an operator sees them all. Retries and replays are audited.
"""

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import (
    DeliveryStatus,
    FindDeliveries,
    GetDelivery,
    ReplayFailed,
    RetryDelivery,
    check_replay,
    check_retry,
    decode_cursor,
    encode_cursor,
)
from botram_notifier.domain.ownership import check_owner
from botram_notifier.store import (
    AttemptRow,
    DeliveryRow,
    SubscriptionRow,
    attempts_of,
    load_delivery,
    load_subscription,
)
from botram_notifier.usecases.subscriptions import owned_subscription
from botram_runtime import audit
from botram_runtime.actors import Actor

log = structlog.get_logger(__name__)

# A delivery with its attempts, oldest first.
History = tuple[DeliveryRow, list[AttemptRow]]


@dataclass(frozen=True)
class DeliveriesFound:
    """A page of deliveries, newest first, and the cursor of the next page (None: the last)."""

    items: list[History]
    next_cursor: str | None


async def list_deliveries(deps: Deps, command: FindDeliveries) -> DeliveriesFound:
    """A subscription's deliveries, newest first, a page at a time; `status=failed` is its
    dead letter."""
    async with deps.db.session() as tx:
        await owned_subscription(tx, command.actor, command.subscription_id)
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.subscription_id == command.subscription_id)
            .order_by(col(DeliveryRow.created_at).desc(), col(DeliveryRow.id).desc())
            .limit(command.limit + 1)
        )
        if command.status:
            query = query.where(DeliveryRow.status == command.status)
        if command.cursor:
            created_at, delivery_id = decode_cursor(command.cursor)
            query = query.where(
                or_(
                    col(DeliveryRow.created_at) < created_at,
                    and_(
                        col(DeliveryRow.created_at) == created_at,
                        col(DeliveryRow.id) < delivery_id,
                    ),
                )
            )
        found = list((await tx.exec(query)).all())
        page = found[: command.limit]
        attempts = await attempts_of(tx, [d.id for d in page])
    more = len(found) > command.limit
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
    return DeliveriesFound([(d, attempts.get(d.id, [])) for d in page], next_cursor)


async def get_delivery(deps: Deps, command: GetDelivery) -> History:
    async with deps.db.session() as tx:
        row, _ = await _owned_delivery(tx, command.actor, command.delivery_id)
        attempts = await attempts_of(tx, [row.id])
    return row, attempts.get(row.id, [])


async def retry_delivery(deps: Deps, command: RetryDelivery) -> History:
    """Put a dead-lettered delivery back in the queue, with a fresh retry schedule."""
    async with deps.db.transaction() as tx:
        row, subscription = await _owned_delivery(tx, command.actor, command.delivery_id)
        requeue = check_retry(row.status, subscription.enabled)
        if requeue:
            _requeue(row, deps.clock())
            tx.add(row)
            audit.record(
                tx,
                command.actor,
                "retry_delivery",
                delivery_id=row.id,
                subscription_id=subscription.id,
                agency=subscription.agency,
            )
        attempts = await attempts_of(tx, [row.id])
    if requeue:
        deps.deliveries_due.notify()
        log.info("delivery_replayed", delivery_id=row.id, subscription_id=row.subscription_id)
    return row, attempts.get(row.id, [])


async def replay_failed(deps: Deps, command: ReplayFailed) -> int:
    """Re-queue every dead-lettered delivery of a subscription created since `since`."""
    async with deps.db.transaction() as tx:
        subscription = await owned_subscription(tx, command.actor, command.subscription_id)
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
        if rows:
            audit.record(
                tx,
                command.actor,
                "replay_deliveries",
                subscription_id=subscription.id,
                agency=subscription.agency,
                delivery_ids=[row.id for row in rows],
            )
    deps.deliveries_due.notify()
    log.info("deliveries_replayed", subscription_id=subscription.id, count=len(rows))
    return len(rows)


async def _owned_delivery(
    tx: AsyncSession, actor: Actor, delivery_id: str
) -> tuple[DeliveryRow, SubscriptionRow]:
    """A delivery of a subscription the actor may see; another agency's is not found."""
    row = await load_delivery(tx, delivery_id)
    subscription = await load_subscription(tx, row.subscription_id)
    check_owner(actor, subscription.agency, "delivery", delivery_id)
    return row, subscription


def _requeue(row: DeliveryRow, now: datetime) -> None:
    row.status = DeliveryStatus.PENDING
    row.retries_done = 0
    row.next_attempt_at = now
    row.finished_at = None
