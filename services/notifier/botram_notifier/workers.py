"""The notifier's two background loops: webhook deliveries and citizen messages.

Each wakes when its `Wakeup` is notified (new work committed) or after its poll interval,
runs its use cases, and stops gracefully: the work in hand is finished (bounded), never cut
in the middle of a database statement.
"""

import asyncio

import structlog

from botram_notifier.deps import Deps
from botram_notifier.domain.subscriptions import endpoint_of
from botram_notifier.usecases import attempts, sending

log = structlog.get_logger(__name__)

# Beyond the webhook timeout, how long a stopping delivery worker waits for attempts in flight.
DELIVERY_STOP_GRACE_SECONDS = 2.0
# How long a stopping message worker may take to finish the message in hand (the gateway
# has 10 s).
MESSAGE_STOP_GRACE_SECONDS = 12.0
# After the grace, how long a cancelled task may take to unwind.
CANCEL_WAIT_SECONDS = 1.0


async def _finish(tasks: list[asyncio.Task[None]], grace: float) -> None:
    """Let `tasks` finish within `grace` seconds; cancel those still running after it."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
    if late:  # the cancel, too, gets a bound: a stop never hangs
        await asyncio.wait(late, timeout=CANCEL_WAIT_SECONDS)


class DeliveryWorker:
    """Attempts due deliveries, each endpoint with its own bounded concurrency.

    One slow or dead agency endpoint never holds up another agency's deliveries.
    """

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
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
        self.deps.deliveries_due.notify()
        grace = self.deps.settings.webhook_timeout_seconds + DELIVERY_STOP_GRACE_SECONDS
        await _finish([task for task in (self._loop, *self._tasks) if task is not None], grace)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.dispatch_due()
                await attempts.refresh_gauges(self.deps)
            except Exception as error:  # the database may be briefly away: try again next poll
                log.warning("delivery_poll_failed", error=repr(error))
            if self._stopping.is_set():
                break
            await self.deps.deliveries_due.wait(self.deps.settings.webhook_poll_seconds)

    async def dispatch_due(self) -> None:
        for delivery_id, url in await attempts.due_deliveries(self.deps):
            if delivery_id in self._in_flight or self._stopping.is_set():
                continue
            self._in_flight.add(delivery_id)
            task = asyncio.create_task(self._attempt_guarded(delivery_id, endpoint_of(url)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempt_guarded(self, delivery_id: str, endpoint: str) -> None:
        limit = self.deps.settings.webhook_concurrency_per_endpoint
        semaphore = self._endpoints.setdefault(endpoint, asyncio.Semaphore(limit))
        try:
            async with semaphore:
                await attempts.attempt_delivery(self.deps, delivery_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Not recorded (the database may be away): the next poll tries again, never at
            # once, so a failure that repeats cannot become a hot loop.
            log.warning(
                "delivery_attempt_crashed", delivery_id=delivery_id, error=type(error).__name__
            )
        else:
            # Whatever this attempt decided may have made another delivery due sooner.
            self.deps.deliveries_due.notify()
        finally:
            self._in_flight.discard(delivery_id)


class MessageWorker:
    """Sends queued citizen messages through the provider."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="citizen-messages")

    async def stop(self) -> None:
        """Finish the message being sent (bounded), then stop: never cut a statement short."""
        self._stopping.set()
        self.deps.messages_due.notify()
        if self._task is not None:
            await _finish([self._task], MESSAGE_STOP_GRACE_SECONDS)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await sending.send_pending(self.deps, stopping=self._stopping.is_set)
            except Exception as error:
                log.warning("citizen_messages_failed", error=repr(error))
            if self._stopping.is_set():
                break
            await self.deps.messages_due.wait(self.deps.settings.sms_poll_seconds)
