"""The live feed (botram_runtime.live): core NATS subscriptions fanned out to open streams."""

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from botram_runtime.live import LiveFeed
from botram_runtime.service import ServiceRuntime
from botram_runtime.settings import ServiceSettings

WAIT = 5.0


@dataclass
class Message:
    """What the feed reads of a nats-py message."""

    subject: str
    data: bytes


def envelope(event_type: str, **data: object) -> bytes:
    return json.dumps({"type": event_type, "data": data}).encode()


async def test_every_open_stream_gets_each_event_and_ends_when_the_feed_stops(
    nc: NatsClient,
) -> None:
    feed = LiveFeed(("botram.ticket.>",))
    await feed.start(nc)
    async with feed.listen() as first, feed.listen() as second:
        await nc.publish("botram.ticket.called.v1.dukcapil.dukcapil-kk", b"not json")
        await nc.publish("botram.service.completed.v1.x.y", envelope("elsewhere"))
        await nc.publish(
            "botram.ticket.called.v1.dukcapil.dukcapil-kk",
            envelope("botram.ticket.called.v1", session_id="s-1", number="KK-001"),
        )
        for listener in (first, second):
            event = await asyncio.wait_for(listener.get(), WAIT)
            assert event is not None
            assert (event.type, event.data["number"]) == ("botram.ticket.called.v1", "KK-001")

        await feed.stop()

        assert await asyncio.wait_for(first.get(), WAIT) is None
        assert await asyncio.wait_for(second.get(), WAIT) is None
    assert not feed.running


async def test_the_feed_subscribes_only_while_a_stream_is_open(nc: NatsClient) -> None:
    feed = LiveFeed(("botram.ticket.>",))
    await feed.start(nc)
    assert not feed.subscribed  # nobody watches: the instance receives nothing
    async with feed.listen() as listener:
        assert feed.subscribed
        # Subscribed at the server before the stream starts: the first event arrives.
        await nc.publish("botram.ticket.called.v1.a.b", envelope("t", n=1))
        event = await asyncio.wait_for(listener.get(), WAIT)
        assert event is not None and event.data["n"] == 1
        async with feed.listen():
            pass
        assert feed.subscribed  # one stream left the other still open
    assert not feed.subscribed
    async with feed.listen() as again:  # and subscribes again for the next one
        await nc.publish("botram.ticket.called.v1.a.b", envelope("t", n=2))
        event = await asyncio.wait_for(again.get(), WAIT)
        assert event is not None and event.data["n"] == 2
    await feed.stop()


async def test_a_slow_stream_keeps_the_latest_events() -> None:
    feed = LiveFeed(("botram.ticket.>",))
    async with feed.listen() as listener:
        for number in range(300):
            message = Message("botram.ticket.called.v1.a.b", envelope("t", n=number))
            await feed._deliver(message)  # type: ignore[arg-type]  # what nats-py calls
        assert listener.full()
        oldest = listener.get_nowait()
        assert oldest is not None and oldest.data["n"] == 300 - listener.maxsize


def test_a_service_listens_only_to_the_subjects_bus_access_declares(tmp_path: Path) -> None:
    settings = ServiceSettings(service_name="scheduler", http_port=0)
    runtime = ServiceRuntime(settings, tmp_path, description="test")
    with pytest.raises(LookupError):
        runtime.listen(("botram.ticket.>",))
