"""The delivery worker: attempts due deliveries, records every attempt, schedules retries.

State lives in the `deliveries` table, so a restarted notifier carries on where it stopped.
Each endpoint has its own bounded concurrency (and every request a timeout), so one slow or
dead agency endpoint never holds up another agency's deliveries.
"""

import asyncio
from contextlib import suppress
from datetime import timedelta
from urllib.parse import urlsplit

import structlog
from sqlmodel import col, select

from botram_notifier.domain import (
    Outcome,
    classify,
    next_attempt_delay,
    parse_retry_after,
    should_auto_disable,
)
from botram_notifier.handlers import Notifier, backlog, signing_secrets
from botram_notifier.store import AttemptRow, DeliveryRow, SubscriptionRow
from botram_notifier.webhooks import AttemptResult, WebhookSender, signature_headers

log = structlog.get_logger(__name__)

DUE_BATCH = 200
STOP_GRACE_SECONDS = 2.0


class DeliveryWorker:
    def __init__(self, notifier: Notifier, sender: WebhookSender) -> None:
        self.notifier = notifier
        self.sender = sender
        self._in_flight: set[str] = set()
        self._endpoints: dict[str, asyncio.Semaphore] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Finish the current poll and the attempts in flight (bounded), then stop.

        Cancelling in the middle of a database statement could leave a connection behind;
        an attempt cut short is simply attempted again after a restart.
        """
        self._stopping.set()
        self.notifier.deliveries_ready.set()
        grace = self.notifier.settings.webhook_timeout_seconds + STOP_GRACE_SECONDS
        pending = [task for task in (self._loop, *self._tasks) if task is not None]
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with suppress(asyncio.CancelledError):
                    await task
        await self.sender.close()

    async def _run(self) -> None:
        poll = self.notifier.settings.webhook_poll_seconds
        ready = self.notifier.deliveries_ready
        while not self._stopping.is_set():
            ready.clear()
            try:
                await self.dispatch_due()
                await self._update_gauges()
            except Exception as error:  # the database may be briefly away: try again next poll
                log.warning("delivery_poll_failed", error=repr(error))
            if self._stopping.is_set():
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), timeout=poll)

    async def dispatch_due(self) -> None:
        now = self.notifier.clock()
        async with self.notifier.db.session() as session:
            due = (
                await session.exec(
                    select(DeliveryRow.id, SubscriptionRow.url)  # type: ignore[call-overload]
                    .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
                    .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
                    .order_by(col(DeliveryRow.next_attempt_at))
                    .limit(DUE_BATCH)
                )
            ).all()
        for delivery_id, url in due:
            if delivery_id in self._in_flight or self._stopping.is_set():
                continue
            self._in_flight.add(delivery_id)
            task = asyncio.create_task(self._attempt_guarded(delivery_id, _endpoint(url)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempt_guarded(self, delivery_id: str, endpoint: str) -> None:
        limit = self.notifier.settings.webhook_concurrency_per_endpoint
        semaphore = self._endpoints.setdefault(endpoint, asyncio.Semaphore(limit))
        try:
            async with semaphore:
                await self.attempt(delivery_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("delivery_attempt_crashed", delivery_id=delivery_id, error=repr(error))
        finally:
            self._in_flight.discard(delivery_id)
            # Whatever this attempt decided may have made another delivery due sooner.
            self.notifier.deliveries_ready.set()

    async def attempt(self, delivery_id: str) -> None:
        """One HTTP attempt of one delivery, recorded with its outcome."""
        notifier = self.notifier
        async with notifier.db.session() as session:
            delivery = await session.get(DeliveryRow, delivery_id)
            if delivery is None or delivery.status != "pending":
                return
            subscription = await session.get(SubscriptionRow, delivery.subscription_id)
        assert subscription is not None  # foreign key
        now = notifier.clock()
        if not subscription.enabled:
            result = AttemptResult(None, 0.0, error="subscription disabled")
            outcome = Outcome.FAILED
        else:
            headers = signature_headers(
                delivery.event_id, delivery.payload, signing_secrets(subscription, now), now
            )
            result = await self.sender.post(subscription.url, delivery.payload, headers)
            outcome = classify(result.status_code)
        await self._record(delivery_id, result, outcome)

    async def _record(self, delivery_id: str, result: AttemptResult, outcome: Outcome) -> None:
        notifier = self.notifier
        settings = notifier.settings
        now = notifier.clock()
        async with notifier.db.transaction() as session:
            delivery = await session.get(DeliveryRow, delivery_id)
            if delivery is None or delivery.status != "pending":
                return
            subscription = await session.get(SubscriptionRow, delivery.subscription_id)
            assert subscription is not None
            delivery.attempts += 1
            delivery.last_status_code = result.status_code
            delivery.last_error = result.error[:500] if result.error else None
            final = outcome
            if outcome is Outcome.DELIVERED:
                delivery.status = "delivered"
                delivery.finished_at = now
                subscription.failing_since = None
            else:
                subscription.failing_since = subscription.failing_since or now
                if outcome is Outcome.RETRY:
                    delay = next_attempt_delay(
                        settings.retry_schedule(),
                        delivery.retries_done,
                        jitter=settings.webhook_jitter,
                        retry_after=parse_retry_after(result.retry_after, now),
                        max_retry_after=settings.webhook_max_retry_after_seconds,
                    )
                    if delay is None:
                        final = Outcome.FAILED
                    else:
                        delivery.retries_done += 1
                        delivery.next_attempt_at = now + timedelta(seconds=delay)
                if final in (Outcome.FAILED, Outcome.GONE):
                    delivery.status = "failed"  # the dead letter: listed and replayable
                    delivery.finished_at = now
                if outcome is Outcome.GONE and subscription.enabled:
                    self._disable(subscription, "the endpoint answered 410 Gone", "gone")
                elif subscription.enabled and should_auto_disable(
                    subscription.failing_since, now, settings.webhook_auto_disable_after_seconds
                ):
                    self._disable(subscription, "failing continuously", "failing")
            session.add(
                AttemptRow(
                    delivery_id=delivery.id,
                    number=delivery.attempts,
                    at=now,
                    outcome=final.value,
                    status_code=result.status_code,
                    latency_ms=round(result.latency_ms, 2),
                    error=delivery.last_error,
                )
            )
            session.add(delivery)
            session.add(subscription)
        notifier.metrics.deliveries.labels(delivery.agency, final.value).inc()
        notifier.metrics.latency.labels(delivery.agency).observe(result.latency_ms / 1000)
        log.info(
            "webhook_attempt",
            delivery_id=delivery.id,
            subscription_id=delivery.subscription_id,
            agency=delivery.agency,
            event_type=delivery.event_type,
            attempt=delivery.attempts,
            status_code=result.status_code,
            latency_ms=round(result.latency_ms, 1),
            outcome=final.value,
            error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at.isoformat()
            if delivery.status == "pending"
            else None,
        )

    def _disable(self, subscription: SubscriptionRow, reason: str, label: str) -> None:
        subscription.enabled = False
        subscription.disabled_reason = reason
        self.notifier.metrics.auto_disabled.labels(subscription.agency, label).inc()
        log.warning(
            "subscription_auto_disabled",
            subscription_id=subscription.id,
            agency=subscription.agency,
            reason=reason,
        )

    async def _update_gauges(self) -> None:
        counts = await backlog(self.notifier)
        self.notifier.metrics.pending.set(counts["pending"])
        self.notifier.metrics.dead_letters.set(counts["failed"])
        self.notifier.metrics.disabled.set(counts["disabled"])


def _endpoint(url: str) -> str:
    """Concurrency is bounded per host:port (one agency may have several paths)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
