"""The event bus side every service shares: broker, decoding, and the delivery policy.

Policy for every consumer; each message ends in exactly one of ack, dead letter or nak:
- handled, or a duplicate          -> ack (after the commit)
- unknown type or version          -> counted and acked (tolerant reader)
- malformed (never valid), or      -> stored on `botram.dlq.<service>` (a private event:
  `PermanentEventError`, or failed    `botram.private.dlq.<service>`) with the reason, then
  on its `max_deliver`-th delivery    term; a dead letter the stream did not store naks instead
- `RetryLater` or any other error  -> nak with a growing delay: redelivered, nothing lost
The messages come from `consumers.PullLoop`; FastStream's broker only connects (and
describes the consumers in AsyncAPI).
"""

import functools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import nats.errors
import structlog
from faststream.message.message import StreamMessage
from faststream.nats import NatsBroker, NatsMessage
from faststream.nats.message import NatsBatchMessage
from faststream.nats.prometheus.provider import (
    BatchNatsMetricsSettingsProvider,
    NatsMetricsSettingsProvider,
)
from faststream.prometheus import ConsumeAttrs
from faststream.prometheus.middleware import PrometheusMiddleware
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from botram_contracts.events import (
    EVENT_MODELS,
    CloudEvent,
    EventDecodeError,
    UnknownEventType,
    decode_event,
)
from botram_contracts.subjects import dead_letter_subject, is_private, subject_template
from botram_runtime import bus_client
from botram_runtime.bus_access import service_inbox_prefix
from botram_runtime.consumers import ack_all
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import stream_for

log = structlog.get_logger(__name__)

DEFAULT_RETRY_DELAY_SECONDS = 2.0
# Deliveries of a well-formed event before it goes to the dead letter (BOTRAM_MAX_DELIVER).
DEFAULT_MAX_DELIVER = 10
# JetStream's own limit is a few deliveries higher: a message whose last delivery was never
# settled (a crash, a dead letter not stored) still gets redelivered; past it JetStream
# gives up and says so in a MAX_DELIVERIES advisory, which is counted.
MAX_DELIVER_HEADROOM = 5
DEAD_LETTER_TIMEOUT_SECONDS = 2.0
# Durable pull consumers (they scale across instances, unlike durable push ones): how many
# messages one fetch asks for, and how long it waits for them.
PULL_BATCH = 100
PULL_TIMEOUT_SECONDS = 1.0
DLQ_REASON_HEADER = "Botram-Dlq-Reason"
DLQ_SUBJECT_HEADER = "Botram-Original-Subject"
DLQ_CONSUMER_HEADER = "Botram-Consumer"


class RetryLater(Exception):
    """The event cannot be applied yet (e.g. it refers to something not seen yet)."""

    def __init__(self, reason: str, delay_seconds: float = DEFAULT_RETRY_DELAY_SECONDS) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class PermanentEventError(Exception):
    """A well-formed event that this consumer can never apply: it goes to the dead letter."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a consumer needs of a message: its subject and raw bytes."""

    subject: str
    payload: bytes
    num_delivered: int = 1


# The bytes of the message a subscriber is handling: a consumer that forwards an event as it
# arrived (the notifier's webhooks keep fields this version does not know) reads them here.
_DELIVERED_PAYLOAD: ContextVar[bytes] = ContextVar("botram_delivered_payload")


@contextmanager
def delivered_payload_is(payload: bytes) -> Iterator[None]:
    """Make `payload` the answer of `delivered_payload()` inside the block."""
    token = _DELIVERED_PAYLOAD.set(payload)
    try:
        yield
    finally:
        _DELIVERED_PAYLOAD.reset(token)


def delivered_payload() -> bytes:
    """The raw bytes of the event the current subscriber is handling."""
    return _DELIVERED_PAYLOAD.get()


def _delivery(raw: Msg) -> Delivery:
    delivered = raw.metadata.num_delivered if raw.reply and raw.reply.startswith("$JS.ACK") else 1
    return Delivery(subject=raw.subject, payload=raw.data, num_delivered=delivered)


async def delivery_decoder(message: NatsMessage) -> Delivery:
    """FastStream decoder that hands handlers the raw message, undecoded."""
    return _delivery(message.raw_message)


async def batch_delivery_decoder(message: NatsBatchMessage) -> list[Delivery]:
    """FastStream decoder for `PullSub(batch=True)`: the raw messages of one fetch, undecoded."""
    return [_delivery(raw) for raw in message.raw_message]


PullSubscription = JetStreamContext.PullSubscription


def _normalise_fetch_timeouts() -> None:
    """Make every pull `fetch` time out with nats' own TimeoutError.

    nats-py 2.16 can raise a bare `asyncio.TimeoutError` from `fetch` (when the deadline runs
    out between its two pull requests). FastStream 0.7.8's pull loop catches only
    `nats.errors.TimeoutError`, so the bare one escapes, its supervisor restarts the consumer
    after a back-off, and consumption stalls for tens of seconds (seen in CI). Until either
    library changes, re-raise the bare timeout as the one FastStream expects.
    """
    original = PullSubscription.fetch
    if getattr(original, "_botram_normalised", False):
        return

    @functools.wraps(original)
    async def fetch(self: PullSubscription, *args: Any, **kwargs: Any) -> list[Msg]:
        try:
            return await original(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as error:
            raise nats.errors.TimeoutError from error

    fetch._botram_normalised = True  # type: ignore[attr-defined]
    PullSubscription.fetch = fetch  # type: ignore[method-assign]


def create_broker(settings: ServiceSettings, registry: CollectorRegistry) -> NatsBroker:
    """A broker that reconnects forever and reports FastStream's own metrics.

    It connects as the service's own NATS user (when credentials are set) and takes replies
    on the service's own inbox prefix, which no other user may read (`bus_access`).
    """
    _normalise_fetch_timeouts()
    service = settings.service_name
    return NatsBroker(
        settings.nats_url.split(","),
        name=f"botram-{service}",
        security=bus_client.security(settings),
        inbox_prefix=service_inbox_prefix(service),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=3,
        allow_reconnect=True,
        middlewares=[
            PrometheusMiddleware(
                settings_provider_factory=_metrics_by_pattern,
                registry=registry,
                app_name=f"botram-{service}",
            )
        ],
        graceful_timeout=10.0,
        log_level=10,  # FastStream's per-message lines at DEBUG: they cost throughput at INFO
    )


# Each event type's subjects, as a NATS filter: `botram.session.opened.v1.*.*`.
_SUBJECT_PATTERNS = {
    subject_template(model, lambda _: "").rstrip("."): subject_template(model, lambda _: "*")
    for model in EVENT_MODELS.values()
}


def subject_pattern(subject: str) -> str:
    """The pattern a concrete subject belongs to, for metric labels: one label per event
    type (`botram.ticket.called.v1.*.*`), never per agency, service or session."""
    for prefix, pattern in _SUBJECT_PATTERNS.items():
        if subject.startswith(prefix + "."):
            return pattern
    tokens = subject.split(".")
    return subject if len(tokens) <= 3 else ".".join([*tokens[:3], ">"])


class _PatternMetrics(NatsMetricsSettingsProvider):
    """FastStream's NATS metrics, labelled by subject pattern (bounded label values)."""

    def get_consume_attrs_from_message(self, msg: StreamMessage[Msg]) -> ConsumeAttrs:
        attrs = super().get_consume_attrs_from_message(msg)
        attrs["destination_name"] = subject_pattern(attrs["destination_name"])
        return attrs

    def get_publish_destination_name_from_cmd(self, cmd: Any) -> str:
        return subject_pattern(super().get_publish_destination_name_from_cmd(cmd))


class _BatchPatternMetrics(BatchNatsMetricsSettingsProvider):
    def get_consume_attrs_from_message(self, msg: StreamMessage[list[Msg]]) -> ConsumeAttrs:
        attrs = super().get_consume_attrs_from_message(msg)
        attrs["destination_name"] = subject_pattern(attrs["destination_name"])
        return attrs

    def get_publish_destination_name_from_cmd(self, cmd: Any) -> str:
        return subject_pattern(super().get_publish_destination_name_from_cmd(cmd))


def _metrics_by_pattern(msg: Any) -> NatsMetricsSettingsProvider | BatchNatsMetricsSettingsProvider:
    return _BatchPatternMetrics() if isinstance(msg, Sequence) else _PatternMetrics()


def jetstream_of(broker: NatsBroker) -> JetStreamContext:
    """The JetStream context of a started broker's connection."""
    return broker.connection.jetstream()


class ConsumerMetrics:
    """Event-processing counters of one service (labels: consumer, event type, result)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = PromCounter(
            "botram_events_consumed_total",
            "Events handled by this service's consumers, by result",
            ["consumer", "type", "result"],
            registry=registry,
        )

    def count(self, consumer: str, event_type: str, result: str, amount: int = 1) -> None:
        """Count events; a type this version does not know is `unknown`: the label's values
        come from the catalogue, never from what a message says (a forged type per message
        would grow the metric without bound)."""
        label = event_type if event_type in _TYPE_LABELS else UNKNOWN_TYPE_LABEL
        self.events.labels(consumer, label, result).inc(amount)


UNKNOWN_TYPE_LABEL = "unknown"
MALFORMED_LABEL = "malformed"
_TYPE_LABELS = frozenset(EVENT_MODELS) | {MALFORMED_LABEL}
EventHandler = Callable[[CloudEvent[Any]], Awaitable[None]]
# A batch handler applies many events in one transaction and returns the ids of those that
# were duplicates (applied before), so they are counted as such and not as applied.
BatchHandler = Callable[[list[CloudEvent[Any]]], Awaitable[Collection[str]]]


@dataclass(frozen=True, slots=True)
class Ack:
    """Applied (or a duplicate, or a type this version ignores): acknowledge."""


@dataclass(frozen=True, slots=True)
class Nak:
    """Not applied yet: redeliver after `delay` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Never applicable: park it on the dead letter with `reason`, then terminate it."""

    reason: str


Outcome = Ack | Nak | DeadLetter


class EventConsumer:
    """Applies Botram's delivery policy around one handler of decoded events.

    Every message it is handed ends in exactly one of: acked after its effect committed;
    dead-lettered (stored on the dead letter first, then terminated; a dead letter that
    cannot be stored naks instead); nakked with back-off. A well-formed event that failed on
    its `max_deliver`-th delivery is dead-lettered with its last error.
    """

    def __init__(
        self,
        *,
        service: str,
        consumer: str,
        jetstream: Callable[[], JetStreamContext],
        metrics: ConsumerMetrics,
        max_deliver: int = DEFAULT_MAX_DELIVER,
    ) -> None:
        self.service = service
        self.consumer = consumer
        self._jetstream = jetstream
        self._metrics = metrics
        self.max_deliver = max_deliver

    async def __call__(self, delivery: Delivery, handler: EventHandler) -> Outcome:
        """What to do with one delivery, once `handler` has applied it (or failed to)."""
        try:
            event = decode_event(delivery.payload)
        except UnknownEventType as unknown:
            self._count(unknown.event.type, "unknown_type")
            return Ack()
        except EventDecodeError as error:
            self._count(MALFORMED_LABEL, "dead_letter")
            return DeadLetter(str(error))
        try:
            await handler(event)
        except PermanentEventError as error:
            self._count(event.type, "dead_letter")
            return DeadLetter(str(error))
        except Exception as error:
            return self._failed(delivery, event.type, error, str(event.id))
        self._count(event.type, "ok")
        return Ack()

    async def messages(
        self, messages: list[Msg], handler: EventHandler, loop: "PullLoopLike"
    ) -> None:
        """Settle fetched messages one by one, in order; release the rest when stopping."""
        for index, message in enumerate(messages):
            if loop.stopping:
                await loop.release(messages[index:])
                return
            delivery = _delivery(message)
            with delivered_payload_is(delivery.payload):
                outcome = await self(delivery, handler)
            await self.settle(message, delivery, outcome)

    async def batch(self, messages: list[Msg], handler: BatchHandler) -> None:
        """The delivery policy for one fetched batch, applied by `handler` in one transaction.

        Malformed messages go to the dead letter and unknown types are acked. If the handler
        fails, the batch is split in halves, each applied on its own, down to the one event
        that fails: its batch-mates are applied and acked, it alone is nakked (or, on its
        last delivery, dead-lettered). The handler's idempotent claims make a retry apply
        each event exactly once.
        """
        # A message's delivery count (parsed from its reply subject) is read only when it
        # is settled on its own: the batch that commits is acked without it.
        decoded: list[tuple[Msg, CloudEvent[Any]]] = []
        for message in messages:
            try:
                event = decode_event(message.data)
            except UnknownEventType as unknown:
                self._count(unknown.event.type, "unknown_type")
                await self.settle(message, _delivery(message), Ack())
                continue
            except EventDecodeError as error:
                self._count(MALFORMED_LABEL, "dead_letter")
                await self.settle(message, _delivery(message), DeadLetter(str(error)))
                continue
            decoded.append((message, event))
        await self._apply_batch(decoded, handler)

    async def _apply_batch(
        self, batch: list[tuple[Msg, CloudEvent[Any]]], handler: BatchHandler
    ) -> None:
        if not batch:
            return
        events = [event for _, event in batch]
        try:
            duplicates = await handler(events)
        except Exception as error:
            if len(batch) > 1:
                log.info("batch_split", consumer=self.consumer, size=len(batch))
                middle = len(batch) // 2
                await self._apply_batch(batch[:middle], handler)
                await self._apply_batch(batch[middle:], handler)
                return
            ((message, event),) = batch
            delivery = _delivery(message)
            if isinstance(error, PermanentEventError):
                self._count(event.type, "dead_letter")
                outcome: Outcome = DeadLetter(str(error))
            else:
                outcome = self._failed(delivery, event.type, error, str(event.id))
            await self.settle(message, delivery, outcome)
            return
        results = Counter((event.type, "ok") for event in events)
        if duplicates:
            results = Counter(
                (event.type, "duplicate" if str(event.id) in duplicates else "ok")
                for event in events
            )
        for (event_type, result), count in results.items():
            self._metrics.count(self.consumer, event_type, result, count)
        # The batch committed as a whole: its acks go out together (pipelined). A split
        # batch acks only the halves that committed, never past the event that failed.
        try:
            await ack_all([message for message, _ in batch])
        except Exception as error:  # not acked: redelivered after AckWait, a duplicate then
            log.info("settle_failed", consumer=self.consumer, error=repr(error))

    def _failed(
        self, delivery: Delivery, event_type: str, error: Exception, event_id: str
    ) -> Outcome:
        """A well-formed event that failed: retry later, or give up on its last delivery."""
        if delivery.num_delivered >= self.max_deliver:
            self._count(event_type, "dead_letter")
            log.warning(
                "event_gave_up",
                consumer=self.consumer,
                type=event_type,
                id=event_id,
                deliveries=delivery.num_delivered,
                error=type(error).__name__,
            )
            # The error's type only: its text may quote personal data.
            return DeadLetter(
                f"failed {delivery.num_delivered} deliveries; last error: {type(error).__name__}"
            )
        if isinstance(error, RetryLater):
            self._count(event_type, "retry")
            log.info("event_retry", consumer=self.consumer, type=event_type, reason=str(error))
            return Nak(_backoff(error.delay_seconds, delivery.num_delivered))
        self._count(event_type, "error")
        log.warning(
            "event_failed",
            consumer=self.consumer,
            type=event_type,
            id=event_id,
            error=type(error).__name__,
            exc_info=error,
        )
        return Nak(_backoff(DEFAULT_RETRY_DELAY_SECONDS, delivery.num_delivered))

    async def settle(self, message: Msg, delivery: Delivery, outcome: Outcome) -> None:
        """Ack, nak or (once the dead letter holds it) terminate one message.

        An ack or nak the bus does not take only delays the message: JetStream redelivers
        it after AckWait, and the consumer's claims make the repeat harmless.
        """
        try:
            if isinstance(outcome, Ack):
                await message.ack()
            elif isinstance(outcome, Nak):
                await message.nak(delay=outcome.delay)
            else:
                try:
                    await self.dead_letter(delivery, outcome.reason)
                except Exception as error:  # not stored: keep the message, try again later
                    log.warning("dead_letter_failed", consumer=self.consumer, error=repr(error))
                    await message.nak(
                        delay=_backoff(DEFAULT_RETRY_DELAY_SECONDS, delivery.num_delivered)
                    )
                    return
                await message.term()
        except Exception as error:
            log.info("settle_failed", consumer=self.consumer, error=repr(error))

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Park a message on the service's dead-letter subject, with the reason in headers.

        Raises when the stream did not store it (no PubAck, a full stream). A private
        event's dead letter stays private: `botram.private.dlq.<service>`, in the private
        stream.
        """
        log.warning("event_dead_lettered", consumer=self.consumer, reason=reason)
        subject = dead_letter_subject(self.service, private=is_private(delivery.subject))
        await self._jetstream().publish(
            subject,
            delivery.payload,
            timeout=DEAD_LETTER_TIMEOUT_SECONDS,
            stream=stream_for(subject),
            headers={
                DLQ_REASON_HEADER: reason[:500],
                DLQ_SUBJECT_HEADER: delivery.subject,
                DLQ_CONSUMER_HEADER: self.consumer,
            },
        )

    def _count(self, event_type: str, result: str) -> None:
        self._metrics.count(self.consumer, event_type, result)


class PullLoopLike(Protocol):
    """What the settling of a fetched batch asks of its pull loop (`consumers.PullLoop`)."""

    @property
    def stopping(self) -> bool: ...

    async def release(self, messages: list[Msg]) -> None: ...


def _backoff(base: float, attempt: int) -> float:
    """Exponential back-off for redeliveries, capped at five minutes."""
    return float(min(base * math.pow(2, max(attempt - 1, 0)), 300.0))
