"""Every background loop stops by a flag and a bounded wait, and a bus that refuses pull
requests is retried with back-off, not in a hot loop (issue 14).

HEAD stopped loops with `task.cancel(); await task`: a cancel swallowed by code awaiting
nats-py (`asyncio.wait_for` in Python 3.11) hung the stop forever.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nats.errors import OutboundBufferLimitError

from botram_contracts.events import SessionOpenedV1
from botram_contracts.events.envelope import utc_now
from botram_runtime import consumers
from botram_runtime.consumers import Periodic, PullLoop, consumer_config, stop_task
from botram_runtime.db import Database, postgres_timeouts
from botram_runtime.outbox import OutboxEvent, OutboxRelay, stage_event
from db_tables import create_tables

# The bound on every test's own wait: far over any grace used here, so a hang fails fast.
HANG = 10.0


class Stubborn:
    """An awaitable that swallows cancels until released, like a nats-py request can."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.cancels = 0

    async def wait(self) -> None:
        self.entered.set()
        while not self.release.is_set():
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancels += 1  # swallowed


async def test_stop_task_gives_up_on_a_task_that_swallows_its_cancel() -> None:
    stubborn = Stubborn()
    task = asyncio.create_task(stubborn.wait(), name="stubborn")
    await stubborn.entered.wait()

    stopping = asyncio.create_task(stop_task(task, 0.05))
    done, _ = await asyncio.wait({stopping}, timeout=HANG)

    assert done, "stop_task hung"
    assert stopping.result() is False and stubborn.cancels == 1
    stubborn.release.set()
    await asyncio.wait({task}, timeout=HANG)


async def test_a_periodic_job_stops_by_its_flag_and_a_stubborn_run_is_abandoned() -> None:
    stubborn = Stubborn()
    job = Periodic("stubborn-job", 0.01, stubborn.wait)
    job.start()
    await stubborn.entered.wait()

    stopping = asyncio.create_task(job.stop(0.05))
    done, _ = await asyncio.wait({stopping}, timeout=HANG)

    assert done, "Periodic.stop hung"  # HEAD's `every`: cancel(); await task
    assert stopping.result() is False
    stubborn.release.set()


async def test_a_periodic_job_between_runs_stops_at_once() -> None:
    runs: list[int] = []

    async def quick() -> None:
        runs.append(1)

    job = Periodic("quick-job", 3600, quick)
    job.start()
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert await asyncio.wait_for(job.stop(HANG), timeout=HANG) is True
    assert runs == [1]


class HangingJetStream:
    """Publishes that never get their PubAck and swallow the relay's cancel."""

    def __init__(self) -> None:
        self.stubborn = Stubborn()

    async def publish(self, *_args: Any, **_kwargs: Any) -> None:
        await self.stubborn.wait()


async def test_the_relay_stops_within_its_grace_while_a_publish_hangs(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await create_tables(database, OutboxEvent)
    jetstream = HangingJetStream()
    relay = OutboxRelay(database, lambda: jetstream, poll_seconds=0.01)  # type: ignore[arg-type,return-value]
    relay.start()
    async with database.transaction() as session:
        stage_event(session, opened())
    relay.notify()
    await asyncio.wait_for(jetstream.stubborn.entered.wait(), timeout=HANG)

    stopping = asyncio.create_task(relay.stop(0.1))
    done, _ = await asyncio.wait({stopping}, timeout=HANG)

    assert done, "OutboxRelay.stop hung"
    assert stopping.result() is False
    assert await relay.pending_count() == 1  # kept: published at the next start
    jetstream.stubborn.release.set()
    await database.dispose()


class FullBufferSubscription:
    async def fetch(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        raise OutboundBufferLimitError

    async def unsubscribe(self) -> None:
        return None


class ReconnectingJetStream:
    """The bus during an outage: nats-py's reconnect buffer is full."""

    async def add_consumer(self, *_args: Any, **_kwargs: Any) -> None:
        return None

    async def pull_subscribe_bind(self, *_args: Any, **_kwargs: Any) -> FullBufferSubscription:
        return FullBufferSubscription()


async def test_a_full_reconnect_buffer_is_retried_with_growing_back_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # HEAD: the error escaped FastStream's pull loop, whose supervisor restarted it at once.
    delays: list[float] = []
    errors: list[str] = []
    loop: PullLoop

    async def record(_stopping: asyncio.Event, seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 7:
            loop.request_stop()

    async def never(_messages: list[Any], _loop: PullLoop) -> None:
        raise AssertionError("nothing was fetched")

    monkeypatch.setattr(consumers, "sleep_unless", record)
    loop = PullLoop(
        jetstream=ReconnectingJetStream,  # type: ignore[arg-type]
        stream="BOTRAM",
        config=consumer_config("reporting", ("botram.session.>",), max_deliver=15),
        batch_size=10,
        fetch_timeout=0.1,
        inbox_prefix=b"_INBOX.",
        handle=never,
        on_bus_error=errors.append,
    )
    loop.start()

    assert await asyncio.wait_for(loop.stop(HANG), timeout=HANG) is True
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert errors == ["OutboundBufferLimitError"] * 7


def test_postgresql_connections_get_a_statement_and_a_lock_timeout() -> None:
    assert postgres_timeouts(30.0, 0.5) == {"statement_timeout": "30000", "lock_timeout": "500"}
    assert postgres_timeouts(None, None) == {}


def opened() -> SessionOpenedV1:
    return SessionOpenedV1(
        session_id="s-1",
        level="kecamatan",
        kecamatan="sukatani",
        date=utc_now().date(),
        opened_at=utc_now(),
    )


class FakeMessage:
    def __init__(self) -> None:
        self.naks = 0

    async def nak(self, delay: float | None = None) -> None:
        self.naks += 1


class OneBatchSubscription:
    def __init__(self, messages: list[FakeMessage]) -> None:
        self.messages = messages

    async def fetch(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        batch, self.messages = self.messages, []
        if not batch:
            raise TimeoutError
        return list(batch)

    async def unsubscribe(self) -> None:
        return None


async def test_a_handler_that_raises_hands_its_batch_back_and_the_loop_goes_on() -> None:
    messages = [FakeMessage(), FakeMessage()]
    subscription = OneBatchSubscription(messages)
    calls: list[int] = []

    class JetStream:
        async def add_consumer(self, *_args: Any, **_kwargs: Any) -> None:
            return None

        async def pull_subscribe_bind(self, *_args: Any, **_kwargs: Any) -> OneBatchSubscription:
            return subscription

    async def broken(batch: list[Any], _loop: PullLoop) -> None:
        calls.append(len(batch))
        raise RuntimeError("a bug in the handler")

    loop = PullLoop(
        jetstream=JetStream,  # type: ignore[arg-type]
        stream="BOTRAM",
        config=consumer_config("reporting", ("botram.session.>",), max_deliver=15),
        batch_size=10,
        fetch_timeout=0.01,
        inbox_prefix=b"_INBOX.",
        handle=broken,
    )
    loop.start()
    for _ in range(100):
        if all(message.naks for message in messages):
            break
        await asyncio.sleep(0.01)

    assert await asyncio.wait_for(loop.stop(HANG), timeout=HANG) is True
    assert calls == [2] and [m.naks for m in messages] == [1, 1]
