"""Live updates from the bus for pages (the public display): core NATS subscriptions.

A durable JetStream consumer hands each event to one instance of a service; a display must
see every call whichever instance made it. So each instance subscribes (core NATS: nothing
stored, nothing acknowledged) to the subjects its screens need, declared in
`bus_access.LISTENERS`, and fans every message out to the streams open on it (Server-Sent
Events). A stream that reconnects asks for a fresh snapshot, so a message missed while a
display was away loses nothing.

An instance subscribes only while a stream is open on it: without a display watching, the
registry would otherwise receive and parse every check-in it publishes (~6 % of its CPU at
a busy front desk, docs/BENCHMARKS.md). A stream starts once the server has its
subscription, so a snapshot taken after `listen()` misses nothing.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = structlog.get_logger(__name__)

# A slow stream keeps at most this many messages; older ones give way (a snapshot follows).
QUEUE_SIZE = 256
# How long a new stream waits for the server to confirm the feed's subscriptions.
FLUSH_SECONDS = 2  # nats-py takes whole seconds


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event as the bus carried it: its CloudEvents `type` and `data`."""

    type: str
    data: dict[str, Any]


# What a stream receives: an event, or None when the feed stops (the stream ends).
Listener = asyncio.Queue[LiveEvent | None]


class LiveFeed:
    """Core subscriptions to `subjects`, held while a `listen()` is open, fanned out to each."""

    def __init__(self, subjects: tuple[str, ...]) -> None:
        self.subjects = subjects
        self._listeners: set[Listener] = set()
        self._subscriptions: list[Subscription] = []
        self._client: Client | None = None
        # Subscribing and unsubscribing await the bus: one change at a time.
        self._changing = asyncio.Lock()
        self.running = False

    @property
    def subscribed(self) -> bool:
        return bool(self._subscriptions)

    async def start(self, client: Client) -> None:
        """Use `client` from now on (nats-py subscribes again by itself after a reconnection)."""
        self._client = client
        self.running = True
        if self._listeners:
            await self._subscribe()

    async def stop(self) -> None:
        """Unsubscribe and end every open stream (they each receive None)."""
        self.running = False
        await self._unsubscribe()
        self._client = None
        for listener in list(self._listeners):
            _offer(listener, None)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener]:
        """A queue of the events that arrive from now on, until the block ends."""
        listener: Listener = asyncio.Queue(QUEUE_SIZE)
        self._listeners.add(listener)
        try:
            await self._subscribe()
            yield listener
        finally:
            self._listeners.discard(listener)
            if not self._listeners:
                await self._unsubscribe()

    async def _subscribe(self) -> None:
        async with self._changing:
            client = self._client
            if client is None or self._subscriptions or not self._listeners:
                return
            for subject in self.subjects:
                self._subscriptions.append(await client.subscribe(subject, cb=self._deliver))
            # The server has the subscriptions once it answers a ping: from then on every
            # event reaches this feed. Down or reconnecting, nats-py sends them once back
            # (the stream's snapshots cover the gap).
            with suppress(Exception):
                await client.flush(timeout=FLUSH_SECONDS)

    async def _unsubscribe(self) -> None:
        async with self._changing:
            if self._listeners and self.running:
                return  # a stream opened meanwhile
            subscriptions, self._subscriptions = self._subscriptions, []
            for subscription in subscriptions:
                with suppress(Exception):  # the connection may be closed or reconnecting
                    await subscription.unsubscribe()

    async def _deliver(self, message: Msg) -> None:
        if not self._listeners:
            return
        try:
            envelope = json.loads(message.data)
            event = LiveEvent(type=str(envelope["type"]), data=dict(envelope["data"]))
        except (ValueError, KeyError, TypeError):
            log.warning("live_event_unreadable", subject=message.subject)
            return
        for listener in list(self._listeners):
            _offer(listener, event)


def _offer(listener: Listener, item: LiveEvent | None) -> None:
    """Queue `item`, dropping the oldest message of a full queue."""
    if listener.full():
        with suppress(asyncio.QueueEmpty):
            listener.get_nowait()
    listener.put_nowait(item)
