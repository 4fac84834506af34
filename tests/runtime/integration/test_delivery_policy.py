"""The delivery policy on a real nats-server: every message ends acked after its effect,
dead-lettered (stored first), or nakked with back-off; never acked unapplied, never held
hostage by a batch-mate, never retried forever; a stop hands back what it holds (issue 14).
"""

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry

from botram_contracts.events import CitizenContactSharedV1, CloudEvent, SessionOpenedV1, TicketRef
from botram_contracts.events.envelope import utc_now
from botram_contracts.subjects import PRIVATE_CITIZEN_EVENTS, dead_letter_subject
from botram_runtime.bus import (
    DLQ_REASON_HEADER,
    ConsumerMetrics,
    EventConsumer,
    RetryLater,
)
from botram_runtime.consumers import PullLoop, consumer_config
from botram_runtime.stream import PRIVATE_STREAM_NAME, STREAM_NAME
from helpers import eventually, publish_event

SUBJECTS = ("botram.session.>",)
DURABLE = "policy-test"


def opened(session_id: str) -> SessionOpenedV1:
    return SessionOpenedV1(
        session_id=session_id,
        level="kecamatan",
        kecamatan="sukatani",
        date=utc_now().date(),
        opened_at=utc_now(),
    )


def contact(session_id: str) -> CitizenContactSharedV1:
    ticket = TicketRef(
        ticket_id="t-1", service="dukcapil-kk", agency="dukcapil", number="KK-001", position=1
    )
    return CitizenContactSharedV1(
        check_in_id="c-1", session_id=session_id, phone="081234567890", tickets=[ticket]
    )


class Refusing:
    """A JetStream context whose publishes get no PubAck, until told otherwise."""

    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.refuse = True

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        if self.refuse:
            raise nats.errors.TimeoutError
        return await self.js.publish(*args, **kwargs)


def consumer(
    js: Callable[[], Any], *, max_deliver: int = 10, service: str = "registry"
) -> EventConsumer:
    return EventConsumer(
        service=service,
        consumer=DURABLE,
        jetstream=js,
        metrics=ConsumerMetrics(CollectorRegistry()),
        max_deliver=max_deliver,
    )


def pull_loop(
    nc: NatsClient,
    handle: Callable[[list[Msg], PullLoop], Awaitable[None]],
    *,
    subjects: tuple[str, ...] = SUBJECTS,
    stream: str = STREAM_NAME,
    fill: bool = True,
    fetch_timeout: float = 0.2,
    linger: float | None = None,
) -> PullLoop:
    return PullLoop(
        jetstream=nc.jetstream,
        stream=stream,
        config=consumer_config(DURABLE, subjects, max_deliver=50),
        batch_size=100,
        fetch_timeout=fetch_timeout,
        inbox_prefix=b"_INBOX.",
        handle=handle,
        fill=fill,
        linger=linger,
    )


async def unsettled(nc: NatsClient, stream: str = STREAM_NAME) -> int:
    """Messages the consumer has not acked or terminated (pending or awaiting an ack)."""
    try:
        info = await nc.jetstream().consumer_info(stream, DURABLE)
    except nats.js.errors.NotFoundError:
        return -1  # not created yet
    return int(info.num_pending + (info.num_ack_pending or 0))


async def dead_letters(nc: NatsClient, subject: str, stream: str = STREAM_NAME) -> list[Msg]:
    """Every message stored on `subject` (an ephemeral consumer reads them all)."""
    subscription = await nc.jetstream().pull_subscribe(subject, stream=stream)
    messages: list[Msg] = []
    try:
        while True:
            messages += await subscription.fetch(100, timeout=0.5)
    except TimeoutError:  # nats' own, or the bare one nats-py 2.16 may raise (bus.py)
        return messages
    finally:
        await subscription.unsubscribe()


class Applied:
    """A batch handler that records what it applied, failing on the ids it is told to."""

    def __init__(self, poison: Collection[str] = ()) -> None:
        self.ids: list[str] = []
        self.poison = set(poison)

    async def __call__(self, events: list[CloudEvent[Any]]) -> set[str]:
        if self.poison & {str(event.id) for event in events}:
            raise RuntimeError("this batch cannot be applied")
        self.ids += [str(event.id) for event in events]
        return set()


async def test_a_dead_letter_that_cannot_be_stored_is_nakked_and_its_batch_mates_applied(
    nc: NatsClient,
) -> None:
    # HEAD: the failed dead-letter publish escaped the handler and FastStream acked the
    # whole batch: 50 check-ins acked and 0 counted.
    good = [await publish_event(nc, opened(f"s-{n}"), "scheduler") for n in range(20)]
    await nc.jetstream().publish("botram.session.opened.v1.kecamatan.sukatani", b"not json")
    refusing = Refusing(nc.jetstream())
    policy = consumer(lambda: refusing)
    applied = Applied()

    async def handle(messages: list[Msg], _loop: PullLoop) -> None:
        await policy.batch(messages, applied)

    loop = pull_loop(nc, handle)
    loop.start()
    try:
        await eventually(lambda: len(applied.ids) == 20)
        assert sorted(applied.ids) == sorted(str(event.id) for event in good)
        await eventually(lambda: _equals(unsettled(nc), 1))  # the malformed one, not acked
        assert await dead_letters(nc, dead_letter_subject("registry")) == []

        refusing.refuse = False  # the dead letter can be stored again

        await eventually(lambda: _equals(unsettled(nc), 0), within=15)
    finally:
        await loop.stop(5)
    (parked,) = await dead_letters(nc, dead_letter_subject("registry"))
    assert parked.data == b"not json"
    assert parked.headers and "JSON" in parked.headers[DLQ_REASON_HEADER]
    print("21 events, 0 lost, 0 duplicated")


async def test_a_poison_event_is_isolated_from_its_batch_mates_then_dead_lettered(
    nc: NatsClient,
) -> None:
    # HEAD: one event that cannot be applied nakked its 20 batch-mates with it, and was
    # retried forever (MaxDeliver unlimited) until the consumer stalled.
    events = [await publish_event(nc, opened(f"s-{n}"), "scheduler") for n in range(21)]
    poison = str(events[7].id)
    applied = Applied(poison={poison})
    policy = consumer(nc.jetstream, max_deliver=2)

    async def handle(messages: list[Msg], _loop: PullLoop) -> None:
        await policy.batch(messages, applied)

    loop = pull_loop(nc, handle)
    loop.start()
    try:
        await eventually(lambda: len(applied.ids) == 20)
        await eventually(lambda: _equals(unsettled(nc), 0), within=15)
    finally:
        await loop.stop(5)

    assert poison not in applied.ids and len(set(applied.ids)) == 20
    (parked,) = await dead_letters(nc, dead_letter_subject("registry"))
    assert parked.headers is not None
    assert parked.headers[DLQ_REASON_HEADER] == "failed 2 deliveries; last error: RuntimeError"
    print("21 events, 0 lost, 0 duplicated")


async def test_an_event_retried_max_deliver_times_goes_to_the_private_dead_letter_if_private(
    nc: NatsClient,
) -> None:
    await publish_event(nc, contact("s-1"), "registry")
    attempts: list[int] = []
    policy = consumer(nc.jetstream, max_deliver=3, service="notifier")

    async def never_yet(_event: CloudEvent[Any]) -> None:
        attempts.append(1)
        raise RetryLater("not yet", delay_seconds=0.05)

    async def handle(messages: list[Msg], loop: PullLoop) -> None:
        await policy.messages(messages, never_yet, loop)

    loop = pull_loop(
        nc, handle, subjects=(PRIVATE_CITIZEN_EVENTS,), stream=PRIVATE_STREAM_NAME, fill=False
    )
    loop.start()
    try:
        await eventually(lambda: _equals(unsettled(nc, PRIVATE_STREAM_NAME), 0), within=10)
    finally:
        await loop.stop(5)

    assert len(attempts) == 3
    private_dlq = dead_letter_subject("notifier", private=True)
    (parked,) = await dead_letters(nc, private_dlq, PRIVATE_STREAM_NAME)
    assert parked.headers and parked.headers[DLQ_REASON_HEADER].startswith("failed 3 deliveries")
    assert await dead_letters(nc, dead_letter_subject("notifier")) == []


async def test_a_stop_hands_back_what_was_fetched_and_not_handled(nc: NatsClient) -> None:
    # HEAD: a SIGTERM dropped fetched messages without a nak: back only after AckWait (30 s).
    for n in range(5):
        await publish_event(nc, opened(f"s-{n}"), "scheduler")
    started, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []
    policy = consumer(nc.jetstream)

    async def slow(event: CloudEvent[Any]) -> None:
        started.set()
        await release.wait()
        handled.append(str(event.id))

    async def handle(messages: list[Msg], loop: PullLoop) -> None:
        await policy.messages(messages, slow, loop)

    loop = pull_loop(nc, handle, fill=False)
    loop.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    stopping = asyncio.create_task(loop.stop(5))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(stopping, timeout=10)

    assert len(handled) == 1
    subscription = await nc.jetstream().pull_subscribe_bind(DURABLE, STREAM_NAME)
    again = await subscription.fetch(10, timeout=2)  # well within AckWait
    assert len(again) == 4
    for message in again:
        await message.ack()
    await subscription.unsubscribe()


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


async def test_a_lingering_loop_still_hands_a_backlog_over_in_full_batches(
    nc: NatsClient,
) -> None:
    # The linger bounds how long a batch fills after its first event (freshness); a consumer
    # that lags must still get whole batches, each event once and in stream order.
    events = [await publish_event(nc, opened(f"s-{n}"), "scheduler") for n in range(250)]
    policy = consumer(nc.jetstream)
    applied = Applied()
    sizes: list[int] = []

    async def handle(messages: list[Msg], _loop: PullLoop) -> None:
        sizes.append(len(messages))
        await policy.batch(messages, applied)

    loop = pull_loop(nc, handle, fetch_timeout=5, linger=1)
    loop.start()
    try:
        await eventually(lambda: len(applied.ids) == 250)
        await eventually(lambda: _equals(unsettled(nc), 0))
    finally:
        await loop.stop(5)

    assert applied.ids == [str(event.id) for event in events]
    assert max(sizes) == 100 and sum(sizes) == 250
