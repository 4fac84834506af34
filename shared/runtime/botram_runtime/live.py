"""Live updates from the bus for pages (the public display): core NATS subscriptions.

A durable JetStream consumer hands each event to one instance of a service; a display must
see every call whichever instance made it. So each instance subscribes (core NATS: nothing
stored, nothing acknowledged) to the subjects its screens need, declared in
`bus_access.LISTENERS`, and fans every message out to the streams open on it (Server-Sent
Events). A stream that reconnects asks for a fresh snapshot, so a message missed while a
display was away loses nothing.
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


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event as the bus carried it: its CloudEvents `type` and `data`."""

    type: str
    data: dict[str, Any]


# What a stream receives: an event, or None when the feed stops (the stream ends).
Listener = asyncio.Queue[LiveEvent | None]


class LiveFeed:
    """Core subscriptions to `subjects`, fanned out to every open `listen()`."""

    def __init__(self, subjects: tuple[str, ...]) -> None:
        self.subjects = subjects
        self._listeners: set[Listener] = set()
        self._subscriptions: list[Subscription] = []
        self.running = False

    async def start(self, client: Client) -> None:
        """Subscribe (nats-py subscribes again by itself after a reconnection)."""
        for subject in self.subjects:
            self._subscriptions.append(await client.subscribe(subject, cb=self._deliver))
        self.running = True

    async def stop(self) -> None:
        """Unsubscribe and end every open stream (they each receive None)."""
        self.running = False
        for subscription in self._subscriptions:
            with suppress(Exception):  # the connection may be closed or reconnecting
                await subscription.unsubscribe()
        self._subscriptions.clear()
        for listener in list(self._listeners):
            _offer(listener, None)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener]:
        """A queue of the events that arrive from now on, until the block ends."""
        listener: Listener = asyncio.Queue(QUEUE_SIZE)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    async def _deliver(self, message: Msg) -> None:
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
