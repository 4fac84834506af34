"""Agency webhook subscriptions: register an endpoint, rotate its secret, enable, disable."""

from datetime import timedelta

import structlog
from sqlmodel import col, select

from botram_notifier.adapters.webhook_sender import new_secret
from botram_notifier.deps import Deps
from botram_notifier.domain.subscriptions import (
    DISABLED_BY_OPERATOR,
    CreateSubscription,
    RotateSecret,
    SetEnabled,
    agency_event_types,
    check_new_subscription,
)
from botram_notifier.store import SubscriptionRow, load_subscription

log = structlog.get_logger(__name__)


def event_types() -> list[str]:
    """The event types an agency may subscribe to."""
    return agency_event_types()


async def create_subscription(deps: Deps, command: CreateSubscription) -> SubscriptionRow:
    """Register an agency's endpoint; its secret is returned once, here."""
    check_new_subscription(command, deps.catalogue.agencies, deps.service_agency())
    await deps.webhooks.check_url(command.url)
    row = SubscriptionRow(
        agency=command.agency,
        url=command.url,
        event_types=sorted(set(command.event_types)),
        services=sorted(set(command.services)) if command.services else None,
        secret=new_secret(),
        created_at=deps.clock(),
    )
    async with deps.db.transaction() as tx:
        tx.add(row)
    log.info("subscription_created", subscription_id=row.id, agency=row.agency)
    return row


async def get_subscription(deps: Deps, subscription_id: str) -> SubscriptionRow:
    async with deps.db.session() as tx:
        return await load_subscription(tx, subscription_id)


async def list_subscriptions(deps: Deps, agency: str | None) -> list[SubscriptionRow]:
    async with deps.db.session() as tx:
        query = select(SubscriptionRow).order_by(col(SubscriptionRow.created_at))
        if agency:
            query = query.where(SubscriptionRow.agency == agency)
        return list((await tx.exec(query)).all())


async def rotate_secret(deps: Deps, command: RotateSecret) -> SubscriptionRow:
    """A new secret; the old one keeps signing beside it for the overlap window."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        row = await load_subscription(tx, command.subscription_id)
        row.previous_secret = row.secret
        row.previous_secret_until = now + timedelta(
            seconds=deps.settings.webhook_secret_overlap_seconds
        )
        row.secret = new_secret()
        tx.add(row)
    log.info("subscription_secret_rotated", subscription_id=row.id, agency=row.agency)
    return row


async def set_enabled(deps: Deps, command: SetEnabled) -> SubscriptionRow:
    """Enable a subscription (its failing clock starts again), or stop delivering to it."""
    async with deps.db.transaction() as tx:
        row = await load_subscription(tx, command.subscription_id)
        row.enabled = command.enabled
        row.disabled_reason = None if command.enabled else DISABLED_BY_OPERATOR
        row.failing_since = None
        tx.add(row)
    log.info(
        "subscription_enabled" if command.enabled else "subscription_disabled",
        subscription_id=row.id,
        agency=row.agency,
    )
    return row
