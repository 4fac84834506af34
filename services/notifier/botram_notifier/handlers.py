"""Webhook use cases: subscriptions, matching events to them, dead letters and replays."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent
from botram_contracts.reference import Catalogue
from botram_notifier.domain import NotifierError, check_subscription_scope, subscription_matches
from botram_notifier.metrics import NotifierMetrics
from botram_notifier.settings import Settings
from botram_notifier.store import AttemptRow, DeliveryRow, SubscriptionRow, new_id
from botram_notifier.webhooks import check_url_syntax, new_secret, resolve_checked
from botram_runtime.clock import Clock
from botram_runtime.db import Database, upsert_insert

log = structlog.get_logger(__name__)

WEBHOOK_CONSUMER = "notifier-webhooks"


@dataclass
class Notifier:
    """The notifier's dependencies, wired once in main.py (tests pass their own)."""

    db: Database
    settings: Settings
    catalogue: Catalogue
    clock: Clock
    metrics: NotifierMetrics
    # Set when new deliveries are committed: the worker attempts them without waiting a poll.
    deliveries_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def service_agency(self) -> dict[str, str]:
        return {service.code: service.agency for service in self.catalogue}


async def create_subscription(
    notifier: Notifier,
    *,
    agency: str,
    url: str,
    event_types: list[str],
    services: list[str] | None,
) -> SubscriptionRow:
    """Register an agency's endpoint; its secret is returned once, here."""
    check_url_syntax(url)
    if not event_types:
        raise NotifierError("Name at least one event type.", code="unknown-event-type")
    check_subscription_scope(
        agency, event_types, services, notifier.catalogue.agencies, notifier.service_agency()
    )
    if notifier.settings.ssrf_guard:
        await resolve_checked(url, guard=True)
    row = SubscriptionRow(
        agency=agency,
        url=url,
        event_types=sorted(set(event_types)),
        services=sorted(set(services)) if services else None,
        secret=new_secret(),
        created_at=notifier.clock(),
    )
    async with notifier.db.transaction() as session:
        session.add(row)
    log.info("subscription_created", subscription_id=row.id, agency=agency)
    return row


async def get_subscription(session: AsyncSession, subscription_id: str) -> SubscriptionRow:
    row = await session.get(SubscriptionRow, subscription_id)
    if row is None:
        raise NotifierError(
            f"No subscription {subscription_id!r}.", status=404, code="subscription-not-found"
        )
    return row


async def find_subscription(notifier: Notifier, subscription_id: str) -> SubscriptionRow:
    async with notifier.db.session() as session:
        return await get_subscription(session, subscription_id)


async def list_subscriptions(notifier: Notifier, agency: str | None) -> list[SubscriptionRow]:
    async with notifier.db.session() as session:
        query = select(SubscriptionRow).order_by(col(SubscriptionRow.created_at))
        if agency:
            query = query.where(SubscriptionRow.agency == agency)
        return list((await session.exec(query)).all())


async def rotate_secret(notifier: Notifier, subscription_id: str) -> SubscriptionRow:
    """A new secret; the old one keeps signing beside it for the overlap window."""
    now = notifier.clock()
    async with notifier.db.transaction() as session:
        row = await get_subscription(session, subscription_id)
        row.previous_secret = row.secret
        row.previous_secret_until = now + timedelta(
            seconds=notifier.settings.webhook_secret_overlap_seconds
        )
        row.secret = new_secret()
        session.add(row)
    log.info("subscription_secret_rotated", subscription_id=subscription_id, agency=row.agency)
    return row


async def set_enabled(notifier: Notifier, subscription_id: str, enabled: bool) -> SubscriptionRow:
    async with notifier.db.transaction() as session:
        row = await get_subscription(session, subscription_id)
        row.enabled = enabled
        row.disabled_reason = None if enabled else "disabled by an operator"
        row.failing_since = None
        session.add(row)
    log.info(
        "subscription_enabled" if enabled else "subscription_disabled",
        subscription_id=subscription_id,
        agency=row.agency,
    )
    return row


def signing_secrets(row: SubscriptionRow, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, plus the previous in its window."""
    secrets = [row.secret]
    if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now:
        secrets.append(row.previous_secret)
    return secrets


# --- intake: events become deliveries ------------------------------------------------------


async def fan_out(
    notifier: Notifier, session: AsyncSession, event: CloudEvent[Any], payload: bytes
) -> int:
    """Stage one delivery per matching enabled subscription (in the caller's transaction)."""
    data = event.data.model_dump(mode="json")
    subscriptions = (
        await session.exec(select(SubscriptionRow).where(col(SubscriptionRow.enabled)))
    ).all()
    now = notifier.clock()
    staged = 0
    for subscription in subscriptions:
        if not subscription_matches(
            agency=subscription.agency,
            event_types=subscription.event_types,
            services=subscription.services,
            event_type=event.type,
            data=data,
        ):
            continue
        insert = upsert_insert(session)
        # Unique (subscription, event): a redelivered event never becomes a second delivery.
        statement = (
            insert(DeliveryRow)
            .values(
                id=new_id(),
                subscription_id=subscription.id,
                event_id=str(event.id),
                event_type=event.type,
                agency=subscription.agency,
                payload=payload,
                status="pending",
                attempts=0,
                retries_done=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        )
        result = await session.exec(statement)
        staged += int(bool(result.rowcount))
    return staged


# --- dead letters and replays --------------------------------------------------------------


async def list_deliveries(
    notifier: Notifier, subscription_id: str, status: str | None, limit: int
) -> list[tuple[DeliveryRow, list[AttemptRow]]]:
    async with notifier.db.session() as session:
        await get_subscription(session, subscription_id)
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.subscription_id == subscription_id)
            .order_by(col(DeliveryRow.created_at))
            .limit(limit)
        )
        if status:
            query = query.where(DeliveryRow.status == status)
        deliveries = list((await session.exec(query)).all())
        attempts = await _attempts_of(session, [d.id for d in deliveries])
    return [(d, attempts.get(d.id, [])) for d in deliveries]


async def get_delivery(
    notifier: Notifier, delivery_id: str
) -> tuple[DeliveryRow, list[AttemptRow]]:
    async with notifier.db.session() as session:
        row = await _delivery(session, delivery_id)
        attempts = await _attempts_of(session, [row.id])
    return row, attempts.get(row.id, [])


async def retry_delivery(notifier: Notifier, delivery_id: str) -> DeliveryRow:
    """Put a dead-lettered delivery back in the queue, with a fresh retry schedule."""
    async with notifier.db.transaction() as session:
        row = await _delivery(session, delivery_id)
        subscription = await get_subscription(session, row.subscription_id)
        if not subscription.enabled:
            raise NotifierError(
                "The subscription is disabled; enable it before retrying its deliveries.",
                status=409,
                code="subscription-disabled",
            )
        if row.status == "pending":
            return row
        if row.status == "delivered":
            raise NotifierError(
                "This delivery already succeeded.", status=409, code="already-delivered"
            )
        _requeue(row, notifier.clock())
        session.add(row)
    notifier.deliveries_ready.set()
    log.info("delivery_replayed", delivery_id=delivery_id, subscription_id=row.subscription_id)
    return row


async def replay_failed(notifier: Notifier, subscription_id: str, since: datetime) -> int:
    """Re-queue every dead-lettered delivery of a subscription created since `since`."""
    async with notifier.db.transaction() as session:
        subscription = await get_subscription(session, subscription_id)
        if not subscription.enabled:
            raise NotifierError(
                "The subscription is disabled; enable it before replaying its deliveries.",
                status=409,
                code="subscription-disabled",
            )
        rows = (
            await session.exec(
                select(DeliveryRow).where(
                    DeliveryRow.subscription_id == subscription_id,
                    DeliveryRow.status == "failed",
                    col(DeliveryRow.created_at) >= since,
                )
            )
        ).all()
        now = notifier.clock()
        for row in rows:
            _requeue(row, now)
            session.add(row)
    notifier.deliveries_ready.set()
    log.info("deliveries_replayed", subscription_id=subscription_id, count=len(rows))
    return len(rows)


async def backlog(notifier: Notifier) -> dict[str, int]:
    """Deliveries by status, and disabled subscriptions (for the gauges)."""
    async with notifier.db.session() as session:
        counts = dict(
            (
                await session.exec(
                    select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)  # type: ignore[call-overload]
                )
            ).all()
        )
        disabled = (
            await session.exec(
                select(func.count())
                .select_from(SubscriptionRow)
                .where(~col(SubscriptionRow.enabled))
            )
        ).one()
    return {
        "pending": counts.get("pending", 0),
        "failed": counts.get("failed", 0),
        "disabled": int(disabled),
    }


def _requeue(row: DeliveryRow, now: datetime) -> None:
    row.status = "pending"
    row.retries_done = 0
    row.next_attempt_at = now
    row.finished_at = None


async def _delivery(session: AsyncSession, delivery_id: str) -> DeliveryRow:
    row = await session.get(DeliveryRow, delivery_id)
    if row is None:
        raise NotifierError(f"No delivery {delivery_id!r}.", status=404, code="delivery-not-found")
    return row


async def _attempts_of(session: AsyncSession, ids: list[str]) -> dict[str, list[AttemptRow]]:
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(AttemptRow)
            .where(col(AttemptRow.delivery_id).in_(ids))
            .order_by(col(AttemptRow.id))
        )
    ).all()
    found: dict[str, list[AttemptRow]] = {}
    for row in rows:
        found.setdefault(row.delivery_id, []).append(row)
    return found
