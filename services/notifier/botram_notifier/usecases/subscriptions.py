"""Agency webhook subscriptions: register an endpoint, rotate its secret, enable, disable.

Every use case acts for an actor: an agency only on its own subscriptions (another agency's
answer 404, domain/ownership.py), an operator on any; each change is audited.
"""

from datetime import timedelta

import structlog
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_notifier.adapters.webhook_sender import new_secret
from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import DeliveryStatus, sent_on_enable
from botram_notifier.domain.ownership import check_owner, listing_agencies
from botram_notifier.domain.subscriptions import (
    CreateSubscription,
    FindSubscriptions,
    GetSubscription,
    RotateSecret,
    SetEnabled,
    check_new_subscription,
    disabled_by,
)
from botram_notifier.store import DeliveryRow, SubscriptionRow, load_subscription
from botram_runtime import audit
from botram_runtime.actors import Actor

log = structlog.get_logger(__name__)


async def create_subscription(deps: Deps, command: CreateSubscription) -> SubscriptionRow:
    """Register an agency's endpoint; its secret is returned once, here."""
    agency = check_new_subscription(
        command,
        deps.catalogue.agencies,
        deps.service_agency(),
        require_https=deps.settings.is_production,
    )
    await deps.webhooks.check_url(command.url)
    row = SubscriptionRow(
        agency=agency,
        url=command.url,
        event_types=sorted(set(command.event_types)),
        services=sorted(set(command.services)) if command.services else None,
        secret=new_secret(),
        created_at=deps.clock(),
    )
    async with deps.db.transaction() as tx:
        tx.add(row)
        audit.record(
            tx, command.actor, "create_subscription", subscription_id=row.id, agency=agency
        )
    log.info("subscription_created", subscription_id=row.id, agency=row.agency)
    return row


async def get_subscription(deps: Deps, command: GetSubscription) -> SubscriptionRow:
    async with deps.db.session() as tx:
        return await owned_subscription(tx, command.actor, command.subscription_id)


async def list_subscriptions(deps: Deps, command: FindSubscriptions) -> list[SubscriptionRow]:
    async with deps.db.session() as tx:
        query = select(SubscriptionRow).order_by(col(SubscriptionRow.created_at))
        for agency in listing_agencies(command.actor, command.agency):
            query = query.where(SubscriptionRow.agency == agency)
        return list((await tx.exec(query)).all())


async def rotate_secret(deps: Deps, command: RotateSecret) -> SubscriptionRow:
    """A new secret; the old one keeps signing beside it for the overlap window."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        row = await owned_subscription(tx, command.actor, command.subscription_id)
        row.previous_secret = row.secret
        row.previous_secret_until = now + timedelta(
            seconds=deps.settings.webhook_secret_overlap_seconds
        )
        row.secret = new_secret()
        tx.add(row)
        audit.record(
            tx,
            command.actor,
            "rotate_subscription_secret",
            subscription_id=row.id,
            agency=row.agency,
        )
    log.info("subscription_secret_rotated", subscription_id=row.id, agency=row.agency)
    return row


async def set_enabled(deps: Deps, command: SetEnabled) -> SubscriptionRow:
    """Enable a subscription (its failing clock starts again, what was held for it is sent),
    or stop delivering to it (its events are held meanwhile)."""
    action = "enable_subscription" if command.enabled else "disable_subscription"
    released = 0
    async with deps.db.transaction() as tx:
        row = await owned_subscription(tx, command.actor, command.subscription_id)
        was_enabled = row.enabled
        row.enabled = command.enabled
        row.disabled_reason = None if command.enabled else disabled_by(command.actor)
        row.failing_since = None
        tx.add(row)
        if command.enabled and not was_enabled:
            released = await _release_held(deps, tx, row.id)
        audit.record(tx, command.actor, action, subscription_id=row.id, agency=row.agency)
    log.info(
        "subscription_enabled" if command.enabled else "subscription_disabled",
        subscription_id=row.id,
        agency=row.agency,
        released=released,
    )
    return row


async def _release_held(deps: Deps, tx: AsyncSession, subscription_id: str) -> int:
    """Queue what was kept while the subscription was disabled, oldest first; how many."""
    kept = (
        await tx.exec(
            select(DeliveryRow)
            .where(
                col(DeliveryRow.subscription_id) == subscription_id,
                col(DeliveryRow.status).in_([DeliveryStatus.HELD, DeliveryStatus.FAILED]),
            )
            .order_by(col(DeliveryRow.created_at))
        )
    ).all()
    now = deps.clock()
    released = 0
    for delivery in kept:
        if not sent_on_enable(delivery.status, delivery.last_error):
            continue
        delivery.status = DeliveryStatus.PENDING
        delivery.retries_done = 0
        delivery.next_attempt_at = now
        delivery.finished_at = None
        tx.add(delivery)
        released += 1
    return released


async def owned_subscription(
    tx: AsyncSession, actor: Actor, subscription_id: str
) -> SubscriptionRow:
    """A subscription the actor may see; another agency's is not found, like an unknown one."""
    row = await load_subscription(tx, subscription_id)
    check_owner(actor, row.agency, "subscription", subscription_id)
    return row
