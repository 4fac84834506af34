"""The stream read from its start, for a rebuild: a consumer of every public family.

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
from nats.js.errors import NotFoundError

from botram_runtime.bus_access import consumer_of, service_inbox_prefix
from botram_runtime.bus_client import connect_options
from botram_runtime.consumers import stop_task
from botram_runtime.settings import ServiceSettings

FETCH_TIMEOUT_SECONDS = 2.0
REBUILD_CONSUMER = "reporting-rebuild"


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
            if pending is not None:  # a fetch nobody wants: cancelled, waited for boundedly
                await stop_task(pending, 0.0)


@asynccontextmanager
async def replay_stream(settings: ServiceSettings, batch_size: int) -> AsyncIterator[StreamReplay]:
    """Connect to NATS as reporting and open a consumer from the stream's first public event.

    The consumer is `reporting-rebuild`, the name reporting's NATS user may create besides its
    durable one: a leftover of an interrupted rebuild is deleted first (its position is not the
    start), and the server deletes it a minute after the replay stops fetching.
    """
    rebuild = consumer_of(settings.service_name, REBUILD_CONSUMER)
    nc = await nats.connect(
        **connect_options(settings, inbox_prefix=service_inbox_prefix(settings.service_name))
    )
    try:
        js = nc.jetstream()
        with suppress(NotFoundError):
            await js.delete_consumer(rebuild.stream, rebuild.durable)
        await js.add_consumer(
            rebuild.stream,
            ConsumerConfig(
                name=rebuild.durable,
                filter_subjects=list(rebuild.subjects),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=60.0,
            ),
        )
        subscription = await js.pull_subscribe_bind(rebuild.durable, rebuild.stream)
        info = await subscription.consumer_info()
        yield StreamReplay(subscription, info.num_pending or 0, batch_size)
        await subscription.unsubscribe()
        with suppress(NotFoundError):
            await js.delete_consumer(rebuild.stream, rebuild.durable)
    finally:
        await nc.close()
