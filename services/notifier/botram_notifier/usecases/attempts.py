"""The delivery worker's use cases: which deliveries are due, one attempt, the backlog.

State lives in the `deliveries` table, so a restarted notifier carries on where it stopped.
An attempt reads in one session, sends without holding a transaction open (the endpoint may
take its whole timeout), then records the verdict in one transaction.
"""

from datetime import timedelta

import structlog
from sqlalchemy import func, update
from sqlmodel import col, select

from botram_notifier.adapters.webhook_sender import AttemptResult, signature_headers
from botram_notifier.deps import Deps
from botram_notifier.domain.deliveries import (
    SUBSCRIPTION_DISABLED,
    AttemptOutcome,
    DeliveryStatus,
    Verdict,
    classify,
    judge_attempt,
)
from botram_notifier.domain.subscriptions import signing_secrets
from botram_notifier.store import AttemptRow, DeliveryRow, SubscriptionRow
from botram_runtime.db import dialect_of

log = structlog.get_logger(__name__)

DUE_BATCH = 200
# A claimed delivery's lease lasts the post's timeout and this margin.
LEASE_MARGIN = timedelta(seconds=10)


async def due_deliveries(deps: Deps) -> list[tuple[str, str]]:
    """Claim the deliveries whose next attempt is due, oldest first: (delivery id, endpoint URL).

    Replicas share the deliveries table: a claim moves `next_attempt_at` to the end of a lease
    (the rows locked `FOR UPDATE SKIP LOCKED` on PostgreSQL), so another replica's worker does
    not find them due. A replica that dies with a claim leaves the rows due again when the
    lease ends; `attempt_delivery` renews the lease just before it posts.
    """
    now = deps.clock()
    lease_until = now + _lease(deps)
    async with deps.db.transaction() as tx:
        query = (
            select(DeliveryRow.id)
            .where(
                col(DeliveryRow.status) == DeliveryStatus.PENDING,
                col(DeliveryRow.next_attempt_at) <= now,
            )
            .order_by(col(DeliveryRow.next_attempt_at))
            .limit(DUE_BATCH)
        )
        if dialect_of(tx) == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list((await tx.exec(query)).all())
        if not ids:
            return []
        await tx.exec(
            update(DeliveryRow)
            .where(col(DeliveryRow.id).in_(ids))
            .values(next_attempt_at=lease_until)
        )
        urls = dict(
            (
                await tx.exec(
                    select(DeliveryRow.id, SubscriptionRow.url)
                    .join(
                        SubscriptionRow,
                        col(SubscriptionRow.id) == col(DeliveryRow.subscription_id),
                    )
                    .where(col(DeliveryRow.id).in_(ids))
                )
            ).all()
        )
    return [(str(delivery_id), str(urls[delivery_id])) for delivery_id in ids]


async def attempt_delivery(deps: Deps, delivery_id: str) -> None:
    """One HTTP attempt of one claimed delivery, recorded with its outcome.

    The claim is renewed first with a conditional update: when its lease ran out while the
    delivery waited for its endpoint's turn and another replica claimed it since, this one
    does not post.
    """
    async with deps.db.transaction() as tx:
        delivery = await tx.get(DeliveryRow, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return
        renewed = await tx.exec(
            update(DeliveryRow)
            .where(
                col(DeliveryRow.id) == delivery_id,
                col(DeliveryRow.status) == DeliveryStatus.PENDING,
                col(DeliveryRow.next_attempt_at) == delivery.next_attempt_at,
            )
            .values(next_attempt_at=deps.clock() + _lease(deps))
        )
        if renewed.rowcount != 1:
            return  # another replica holds it now
        subscription = await tx.get(SubscriptionRow, delivery.subscription_id)
    assert subscription is not None  # foreign key
    now = deps.clock()
    if not subscription.enabled:
        result = AttemptResult(None, 0.0, error=SUBSCRIPTION_DISABLED)
        outcome = AttemptOutcome.FAILED
    else:
        secrets = signing_secrets(
            subscription.secret,
            subscription.previous_secret,
            subscription.previous_secret_until,
            now,
        )
        headers = signature_headers(delivery.event_id, delivery.payload, secrets, now)
        result = await deps.webhooks.post(subscription.url, delivery.payload, headers)
        outcome = classify(result.status_code)
    await _record(deps, delivery_id, result, outcome)


def _lease(deps: Deps) -> timedelta:
    """How long a claimed delivery is this replica's: its post's timeout and a margin."""
    return timedelta(seconds=deps.settings.webhook_timeout_seconds) + LEASE_MARGIN


async def _record(
    deps: Deps, delivery_id: str, result: AttemptResult, outcome: AttemptOutcome
) -> None:
    now = deps.clock()
    async with deps.db.transaction() as tx:
        # Locked (PostgreSQL) while the verdict is made: counts and the subscription's failing
        # streak are read and written back by one replica at a time, never lost.
        delivery = await tx.get(DeliveryRow, delivery_id, with_for_update=True)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return
        subscription = await tx.get(SubscriptionRow, delivery.subscription_id, with_for_update=True)
        assert subscription is not None  # foreign key
        verdict = judge_attempt(
            outcome,
            retries_done=delivery.retries_done,
            failing_since=subscription.failing_since,
            subscription_enabled=subscription.enabled,
            retry_after=result.retry_after,
            now=now,
            policy=deps.retry_policy(),
        )
        # Counted in SQL (`attempts + 1`), never written back from what was read.
        counted = await tx.exec(
            update(DeliveryRow)
            .where(col(DeliveryRow.id) == delivery_id)
            .values(attempts=DeliveryRow.attempts + 1)
            .returning(col(DeliveryRow.attempts))
        )
        delivery.attempts = int(counted.scalar_one())
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error[:500] if result.error else None
        delivery.status = verdict.status
        delivery.retries_done = verdict.retries_done
        if verdict.next_attempt_at is not None:
            delivery.next_attempt_at = verdict.next_attempt_at
        if verdict.finished:
            delivery.finished_at = now
        subscription.failing_since = verdict.failing_since
        if verdict.disable is not None:
            subscription.enabled = False
            subscription.disabled_reason = verdict.disable.reason
        tx.add(
            AttemptRow(
                delivery_id=delivery.id,
                number=delivery.attempts,
                at=now,
                outcome=verdict.outcome,
                status_code=result.status_code,
                latency_ms=round(result.latency_ms, 2),
                error=delivery.last_error,
            )
        )
        tx.add(delivery)
        tx.add(subscription)
    _report(deps, delivery, subscription, result, verdict)


def _report(
    deps: Deps,
    delivery: DeliveryRow,
    subscription: SubscriptionRow,
    result: AttemptResult,
    verdict: Verdict,
) -> None:
    """Metrics and the log line of one recorded attempt."""
    deps.metrics.deliveries.labels(delivery.agency, verdict.outcome.value).inc()
    deps.metrics.latency.labels(delivery.agency).observe(result.latency_ms / 1000)
    if verdict.disable is not None:
        deps.metrics.auto_disabled.labels(subscription.agency, verdict.disable.label).inc()
        log.warning(
            "subscription_auto_disabled",
            subscription_id=subscription.id,
            agency=subscription.agency,
            reason=verdict.disable.reason,
        )
    log.info(
        "webhook_attempt",
        delivery_id=delivery.id,
        subscription_id=delivery.subscription_id,
        agency=delivery.agency,
        event_type=delivery.event_type,
        attempt=delivery.attempts,
        status_code=result.status_code,
        latency_ms=round(result.latency_ms, 1),
        outcome=verdict.outcome.value,
        error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at.isoformat()
        if delivery.status == DeliveryStatus.PENDING
        else None,
    )


async def refresh_gauges(deps: Deps) -> None:
    """The backlog gauges: deliveries waiting, dead letters, disabled subscriptions."""
    async with deps.db.session() as tx:
        counts = dict(
            (
                await tx.exec(
                    select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
                )
            ).all()
        )
        disabled = (
            await tx.exec(
                select(func.count())
                .select_from(SubscriptionRow)
                .where(~col(SubscriptionRow.enabled))
            )
        ).one()
    deps.metrics.pending.set(counts.get(DeliveryStatus.PENDING, 0))
    deps.metrics.dead_letters.set(counts.get(DeliveryStatus.FAILED, 0))
    deps.metrics.disabled.set(int(disabled))
