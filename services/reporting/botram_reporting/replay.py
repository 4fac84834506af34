"""The stream read from its start, for a rebuild: an ordered consumer of every public family.

Ordered as NATS means it: a push consumer without acks (no ack per message, nothing for the
server to track), with flow control, whose deliveries are checked to arrive in sequence. It
has a consumer of its own, so the service's durable consumer keeps its place. Messages keep
arriving while the caller applies a batch: each batch is everything received meanwhile (at
least `batch_size` events, unless the stream ends first), so batches grow when applying is
the slower side. Memory stays bounded: a flow-control request is answered only while less
than `HELD_BATCHES` batches are held, so the server pauses until the caller catches up.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress
from uuid import uuid4

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header
from nats.js.errors import NotFoundError

from botram_runtime.bus_access import consumer_of, service_inbox_prefix
from botram_runtime.bus_client import connect_options
from botram_runtime.settings import ServiceSettings

# No message for this long while some are still due: the stream lost them (purged meanwhile).
IDLE_TIMEOUT_SECONDS = 5.0
HEARTBEAT_SECONDS = 2.0
HELD_BATCHES = 4
REBUILD_CONSUMER = "reporting-rebuild"


class ReplayGap(RuntimeError):
    """A delivery out of sequence (a slow consumer dropped messages): the rebuild is refused,
    never completed with a hole; running it again starts over."""


# A delivery's reply subject, `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
# seq>.<time>.<pending>` (9 tokens), or with a domain and an account hash after `ACK` (12 or
# more): where the consumer sequence is in each.
_CONSUMER_SEQUENCE_V1 = 6
_CONSUMER_SEQUENCE_V2 = 8
_V1_TOKENS = 9


def consumer_sequence(reply: str) -> int:
    """A JetStream delivery's consumer sequence, read off its reply subject.

    What `Msg.metadata.sequence.consumer` answers, without building the whole metadata (a
    timestamp, two dataclasses) for every replayed message: that was 4 % of a rebuild.
    """
    tokens = reply.split(".")
    index = _CONSUMER_SEQUENCE_V1 if len(tokens) == _V1_TOKENS else _CONSUMER_SEQUENCE_V2
    return int(tokens[index])


class StreamReplay:
    """The public events the stream held when the replay began, in batches of raw payloads."""

    def __init__(self, nc: NatsClient, total: int, batch_size: int) -> None:
        self._nc = nc
        self.total = total
        self._batch_size = batch_size
        self._held: list[bytes] = []
        self._received = 0
        self._next_sequence = 1  # the consumer sequence of the next delivery
        self._flow_reply: str | None = None
        self.flow_requests = 0  # how often the server asked (and waited) for us to catch up
        self._arrived = asyncio.Event()
        self._error: Exception | None = None

    async def on_message(self, message: Msg) -> None:
        """The subscription's callback: hold data, answer flow control, detect gaps."""
        headers = message.headers or {}
        if headers.get(Header.STATUS) == "100":  # flow control or idle heartbeat
            if message.reply:
                await self._answer_flow_control(message.reply)
            stalled = headers.get(Header.CONSUMER_STALLED)
            if stalled:
                await self._nc.publish(stalled)
            return
        sequence = consumer_sequence(message.reply)
        if sequence != self._next_sequence and self._error is None:
            self._error = ReplayGap(f"expected delivery {self._next_sequence}, got {sequence}")
        self._next_sequence = sequence + 1
        self._held.append(message.data)
        self._received += 1
        if len(self._held) >= self._batch_size or self._received >= self.total or self._error:
            self._arrived.set()

    async def _answer_flow_control(self, reply: str) -> None:
        self.flow_requests += 1
        if len(self._held) < HELD_BATCHES * self._batch_size:
            await self._nc.publish(reply)
        else:
            self._flow_reply = reply  # answered once the caller has taken the batch

    async def batches(self) -> AsyncGenerator[list[bytes], None]:
        """Each batch's payloads, in stream order, until `total` events have been read."""
        read = 0
        while read < self.total:
            if not self._held or len(self._held) < min(self._batch_size, self.total - read):
                self._arrived.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), IDLE_TIMEOUT_SECONDS)
            if self._error is not None:
                raise self._error
            if not self._held:
                break  # the stream holds fewer messages than counted (purged meanwhile)
            batch, self._held = self._held, []
            if self._flow_reply is not None:
                reply, self._flow_reply = self._flow_reply, None
                await self._nc.publish(reply)
            read += len(batch)
            yield batch


@asynccontextmanager
async def replay_stream(settings: ServiceSettings, batch_size: int) -> AsyncIterator[StreamReplay]:
    """Connect to NATS as reporting and read the stream from its first public event.

    The consumer is `reporting-rebuild`, the name reporting's NATS user may create besides its
    durable one, delivering to reporting's own inbox: a leftover of an interrupted rebuild is
    deleted first (its position is not the start), and the server deletes it a minute after
    the replay stops reading.
    """
    rebuild = consumer_of(settings.service_name, REBUILD_CONSUMER)
    inbox = service_inbox_prefix(settings.service_name)
    nc = await nats.connect(**connect_options(settings, inbox_prefix=inbox))
    try:
        js = nc.jetstream()
        with suppress(NotFoundError):
            await js.delete_consumer(rebuild.stream, rebuild.durable)
        deliver = f"{inbox}.rebuild.{uuid4().hex}"
        replay = StreamReplay(nc, 0, batch_size)
        subscription = await nc.subscribe(deliver, cb=replay.on_message)  # before it delivers
        info = await js.add_consumer(
            rebuild.stream,
            ConsumerConfig(
                name=rebuild.durable,
                deliver_subject=deliver,
                filter_subjects=list(rebuild.subjects),
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.NONE,
                flow_control=True,
                idle_heartbeat=HEARTBEAT_SECONDS,
                mem_storage=True,
                num_replicas=1,
                inactive_threshold=60.0,
            ),
        )
        replay.total = info.num_pending or 0
        yield replay
        await subscription.unsubscribe()
        with suppress(NotFoundError):
            await js.delete_consumer(rebuild.stream, rebuild.durable)
    finally:
        await nc.close()
