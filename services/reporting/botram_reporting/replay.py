"""The stream read from its start, for a rebuild: an ephemeral consumer of every public family.

It has a consumer of its own, so the service's durable consumer keeps its place. The next
batch is fetched while the caller applies the current one.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from botram_contracts.subjects import PUBLIC_EVENT_FAMILIES
from botram_runtime.stream import STREAM_NAME

FETCH_TIMEOUT_SECONDS = 2.0


class StreamReplay:
    """The public events the stream held when the replay began, in batches of raw payloads."""

    def __init__(
        self, subscription: JetStreamContext.PullSubscription, total: int, batch_size: int
    ) -> None:
        self._subscription = subscription
        self.total = total
        self._batch_size = batch_size

    async def _fetch(self, size: int) -> list[Msg] | None:
        try:
            return await self._subscription.fetch(size, timeout=FETCH_TIMEOUT_SECONDS)
        except TimeoutError:
            return None  # the stream holds fewer messages than counted (purged meanwhile)

    async def batches(self) -> AsyncGenerator[list[bytes], None]:
        """Each fetched batch's payloads; the next fetch runs while the caller works."""
        batch, total, read = self._batch_size, self.total, 0
        pending = asyncio.create_task(self._fetch(min(batch, total))) if total else None
        try:
            while pending is not None:
                messages = await pending
                pending = None
                if messages is None:  # once more, without racing a batch being applied
                    messages = await self._fetch(min(batch, total - read))
                if messages is None:
                    break
                read += len(messages)
                if read < total:
                    pending = asyncio.create_task(self._fetch(min(batch, total - read)))
                yield [message.data for message in messages]
        finally:
            if pending is not None:
                pending.cancel()
                with suppress(asyncio.CancelledError):
                    await pending


@asynccontextmanager
async def replay_stream(nats_url: str, batch_size: int) -> AsyncIterator[StreamReplay]:
    """Connect to NATS and open an ephemeral consumer from the stream's first public event."""
    nc = await nats.connect(nats_url.split(","), connect_timeout=5)
    try:
        subscription = await nc.jetstream().pull_subscribe(
            "",
            stream=STREAM_NAME,
            config=ConsumerConfig(
                filter_subjects=list(PUBLIC_EVENT_FAMILIES),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60.0,
            ),
        )
        info = await subscription.consumer_info()
        yield StreamReplay(subscription, info.num_pending or 0, batch_size)
        await subscription.unsubscribe()
    finally:
        await nc.close()
