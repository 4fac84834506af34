"""Botram's own pull loop for durable JetStream consumers, and bounded stops of background loops.

FastStream's pull loop has holes Botram cannot accept (issue 14): messages fetched when the
service stops are dropped without a nak (they come back only after AckWait), nats-py's
`OutboundBufferLimitError` during a long outage escapes the loop, which its supervisor then
restarts with no back-off, and its batch acknowledgement acks a whole batch when anything
raises. `PullLoop` fetches, hands every message to a handler that settles each one itself
(ack, nak or term: `bus.EventConsumer`), backs off on any bus error, and stops by a flag:
the fetch in flight ends within its timeout, what was fetched and not handled is nakked.

`stop_task` is the one way a background loop is stopped: set its flag first, then wait a
bounded time, and cancel only as a last resort (with a bounded wait again). A bare
`task.cancel(); await task` can hang forever on code awaiting nats-py.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import nats.errors
import nats.js.errors
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.protocol.command import pub_cmd

log = structlog.get_logger(__name__)

RETRY_MIN_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
# After a cancel, how long a task may take to unwind before it is abandoned (and named).
CANCEL_WAIT_SECONDS = 1.0
# A fetch shorter than this is not made: nats-py's pull request would expire at once.
MIN_FETCH_SECONDS = 0.001

MessagesHandler = Callable[[list[Msg], "PullLoop"], Awaitable[None]]


def consumer_config(
    durable: str, subjects: tuple[str, ...], *, max_deliver: int, ack_wait: float = 30.0
) -> ConsumerConfig:
    """A durable pull consumer of `subjects` from the start of the stream, explicit acks."""
    filters: dict[str, Any] = (
        {"filter_subject": subjects[0]}
        if len(subjects) == 1
        else {"filter_subjects": list(subjects)}
    )
    return ConsumerConfig(
        name=durable,
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        max_deliver=max_deliver,
        ack_wait=ack_wait,
        **filters,
    )


async def stop_task(task: asyncio.Task[Any] | None, grace: float) -> bool:
    """Wait at most `grace` seconds for a task told to stop; cancel it if it is still running.

    Returns whether the task ended within the grace. Never waits unboundedly: a task that
    ignores its cancel too (a swallowed cancel) is abandoned with a warning naming it.
    """
    if task is None or task.done():
        return True
    done, _ = await asyncio.wait({task}, timeout=max(grace, 0.0))
    if done:
        return True
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCEL_WAIT_SECONDS)
    log.warning("task_stop_overdue", task=task.get_name(), cancelled=bool(done))
    return False


async def sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stopping` is set meanwhile."""
    if stopping.is_set():
        return
    waiter = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


class PullLoop:
    """Fetches batches from one durable pull consumer and hands them to `handle`.

    The consumer is created, or brought to `config`, at start (JetStream updates the fields
    it allows, such as `max_deliver`). `handle(messages, loop)` must settle every message;
    it may ask `loop.stopping` between messages and leave the rest to `release`.
    """

    def __init__(
        self,
        *,
        jetstream: Callable[[], JetStreamContext],
        stream: str,
        config: ConsumerConfig,
        batch_size: int,
        fetch_timeout: float,
        inbox_prefix: bytes,
        handle: MessagesHandler,
        fill: bool = False,
        linger: float | None = None,
        on_bus_error: Callable[[str], None] | None = None,
    ) -> None:
        assert config.durable_name, "a Botram consumer is durable"
        self.durable: str = config.durable_name
        self._jetstream = jetstream
        self._stream = stream
        self._config = config
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._inbox_prefix = inbox_prefix
        self._handle = handle
        self._fill = fill
        self._linger = linger
        self._on_bus_error = on_bus_error
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def consuming(self) -> bool:
        """Its durable consumer exists and is bound: events published now reach this loop."""
        return self._subscription is not None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"pull-{self.durable}")

    def request_stop(self) -> None:
        """Stop fetching: the fetch in flight ends within its timeout."""
        self._stopping.set()

    async def stop(self, grace: float) -> bool:
        """Stop fetching, let the messages in hand be settled or released; bounded."""
        self.request_stop()
        stopped = await stop_task(self._task, grace)
        self._task = None
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            # Only the client-side subscription: the durable consumer stays.
            await _quietly(subscription.unsubscribe())
        return stopped

    async def release(self, messages: list[Msg]) -> None:
        """Hand messages back at once (a nak without delay): another instance takes them."""
        for message in messages:
            await _quietly(message.nak())

    async def _run(self) -> None:
        delay = RETRY_MIN_SECONDS
        while not self._stopping.is_set():
            try:
                messages = await self._fetch()
            except (nats.errors.TimeoutError, TimeoutError):
                delay = RETRY_MIN_SECONDS
                continue
            except Exception as error:
                # The bus is down or refusing (a full reconnect buffer, a closed or draining
                # connection, no JetStream): wait and try again, never in a hot loop.
                if self._on_bus_error is not None:
                    self._on_bus_error(type(error).__name__)
                log.warning("pull_failed", consumer=self.durable, error=repr(error), retry_in=delay)
                self._subscription = None if _subscription_lost(error) else self._subscription
                await sleep_unless(self._stopping, delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            delay = RETRY_MIN_SECONDS
            if self._stopping.is_set():
                await self.release(messages)
                break
            try:
                await self._handle(messages, self)
            except Exception:  # a bug: never let it end consumption; hand the batch back
                log.exception("pull_handler_failed", consumer=self.durable)
                await self.release(messages)  # those already settled refuse a second answer
                await sleep_unless(self._stopping, RETRY_MIN_SECONDS)

    async def _fetch(self) -> list[Msg]:
        """One batch; when filling, fetch until it is full or the fetch timeout has passed.

        With a `linger`, the fetch timeout bounds only the wait for a batch's first message
        (an idle consumer's poll): once it has arrived, the batch is filled for at most
        `linger` more seconds. A consumer that lags still gets full batches at once (nats-py's
        first, no-wait request returns what is pending); one that keeps up hands each event
        on after at most `linger` instead of the whole fetch timeout.
        """
        if self._subscription is None:
            js = self._jetstream()
            await js.add_consumer(self._stream, config=self._config)
            self._subscription = await js.pull_subscribe_bind(
                durable=self.durable, stream=self._stream, inbox_prefix=self._inbox_prefix
            )
        subscription = self._subscription
        if not self._fill:
            return await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
        clock = asyncio.get_running_loop().time
        deadline = clock() + self._fetch_timeout
        messages: list[Msg] = []
        try:
            # nats-py may answer a partial batch before the timeout: keep fetching.
            while len(messages) < self._batch_size and not self._stopping.is_set():
                remaining = deadline - clock()
                if remaining < MIN_FETCH_SECONDS:
                    break
                try:
                    if self._linger is not None and not messages:
                        # Returns at the first message (a long poll while idle).
                        messages += await subscription.fetch(1, timeout=remaining)
                        deadline = min(deadline, clock() + self._linger)
                        continue
                    wanted = self._batch_size - len(messages)
                    messages += await subscription.fetch(wanted, timeout=remaining)
                except (nats.errors.TimeoutError, TimeoutError):
                    break
        except Exception:
            await self.release(messages)
            raise
        if not messages:
            raise nats.errors.TimeoutError
        return messages


def _subscription_lost(error: Exception) -> bool:
    """After these errors the subscription is made again (the consumer may be gone)."""
    return isinstance(
        error,
        nats.errors.ConnectionClosedError
        | nats.errors.BadSubscriptionError
        | nats.js.errors.NotFoundError,
    )


async def ack_all(messages: Sequence[Msg]) -> None:
    """Acknowledge messages applied together, pipelined: their acks leave in one write, with
    no await per message (a quarter of the cost of one `ack()` each here).

    The acks are the very ones `Msg.ack()` sends (an empty publish to each reply subject),
    handed to the client's outgoing buffer as one command, as nats-py 2.16 does for each
    publish. Raises like a publish on a bus that is down (the messages are then redelivered
    after AckWait, and the consumer's claims make the repeat harmless). When the client is
    not connected (its reconnect buffer has its own limits) or lacks these internals, each
    message is acknowledged on its own.
    """
    if not messages:
        return
    client = messages[0]._client
    send = getattr(client, "_send_command", None)
    if send is None or not client.is_connected or any(not m.reply for m in messages):
        for message in messages:
            await message.ack()
        return
    command = b"".join(pub_cmd(message.reply, "", b"") for message in messages)
    client.stats["out_msgs"] += len(messages)
    await send(command)
    for message in messages:
        message._ackd = True
    # As nats-py's own publish does: wake the flusher when nothing else has.
    flush_queue = getattr(client, "_flush_queue", None)
    if flush_queue is not None and flush_queue.empty():
        await client._flush_pending()


async def _quietly(operation: Awaitable[Any]) -> None:
    """Ack-type operations on a bus that may be down: a failure only delays redelivery."""
    try:
        await operation
    except Exception as error:
        log.info("bus_operation_failed", error=repr(error))


class Periodic:
    """A job run now and then every `seconds` until stopped (`ServiceRuntime.every`)."""

    def __init__(self, name: str, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._seconds = seconds
        self._job = job
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self, grace: float) -> bool:
        """No new run starts; one in progress gets `grace` seconds to finish."""
        self.request_stop()
        stopped = await stop_task(self._task, grace)
        self._task = None
        return stopped

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._job()
            except Exception as error:
                log.warning("periodic_job_failed", job=self.name, error=repr(error))
            await sleep_unless(self._stopping, self._seconds)


async def run_bounded(operation: Awaitable[Any], seconds: float, *, name: str) -> bool:
    """Run `operation` for at most `seconds` (then cancel it, boundedly); whether it ended."""
    task = asyncio.ensure_future(operation)
    task.set_name(name)
    ended = await stop_task(task, seconds)
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.warning("bounded_operation_failed", operation=name, error=repr(task.exception()))
    return ended
