"""The event bus side every service shares: broker, decoding, and the delivery policy.

Policy for every consumer (FastStream's default would *term* a message when the handler
raises, silently dropping it on a transient database error):
- handled, or a duplicate          -> ack
- unknown type or version          -> counted and acked (tolerant reader)
- malformed (never valid)          -> published to `botram.dlq.<service>` (a private event:
                                      `botram.private.dlq.<service>`) with the reason, then term
- `RetryLater` or any other error  -> nak with a delay: redelivered, nothing lost
"""

import functools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import nats.errors
import structlog
from faststream.exceptions import NackMessage, RejectMessage
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
from botram_runtime.settings import ServiceSettings
from botram_runtime.stream import stream_for

log = structlog.get_logger(__name__)

DEFAULT_RETRY_DELAY_SECONDS = 2.0
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


class EventConsumer:
    """Applies Botram's delivery policy around one handler of decoded events."""

    def __init__(
        self,
        *,
        service: str,
        consumer: str,
        broker: NatsBroker,
        metrics: ConsumerMetrics,
    ) -> None:
        self.service = service
        self.consumer = consumer
        self._broker = broker
        self._metrics = metrics

    async def __call__(self, delivery: Delivery, handler: EventHandler) -> None:
        try:
            event = decode_event(delivery.payload)
        except UnknownEventType as unknown:
            self._count(unknown.event.type, "unknown_type")
            return
        except EventDecodeError as error:
            await self.dead_letter(delivery, str(error))
            self._count(MALFORMED_LABEL, "dead_letter")
            raise RejectMessage() from error
        try:
            await handler(event)
        except RetryLater as later:
            self._count(event.type, "retry")
            log.info("event_retry", consumer=self.consumer, type=event.type, reason=str(later))
            raise NackMessage(
                delay=_backoff(later.delay_seconds, delivery.num_delivered)
            ) from later
        except PermanentEventError as error:
            await self.dead_letter(delivery, str(error))
            self._count(event.type, "dead_letter")
            raise RejectMessage() from error
        except Exception as error:
            self._count(event.type, "error")
            log.exception("event_failed", consumer=self.consumer, type=event.type, id=str(event.id))
            raise NackMessage(
                delay=_backoff(DEFAULT_RETRY_DELAY_SECONDS, delivery.num_delivered)
            ) from error
        self._count(event.type, "ok")

    async def batch(self, deliveries: list[Delivery], handler: BatchHandler) -> None:
        """The delivery policy for one fetched batch, applied by `handler` in one transaction.

        Malformed messages go to the dead letter and unknown types are counted; both are then
        acked with the batch. If the handler fails, the whole batch is nak'ed and redelivered:
        the handler's idempotent claims make the retry apply each event exactly once.
        """
        events: list[CloudEvent[Any]] = []
        for delivery in deliveries:
            try:
                events.append(decode_event(delivery.payload))
            except UnknownEventType as unknown:
                self._count(unknown.event.type, "unknown_type")
            except EventDecodeError as error:
                await self.dead_letter(delivery, str(error))
                self._count(MALFORMED_LABEL, "dead_letter")
        if not events:
            return
        attempt = max(d.num_delivered for d in deliveries)
        try:
            duplicates = await handler(events)
        except RetryLater as later:
            log.info("batch_retry", consumer=self.consumer, size=len(events), reason=str(later))
            raise NackMessage(delay=_backoff(later.delay_seconds, attempt)) from later
        except Exception as error:
            for event in events:
                self._count(event.type, "error")
            log.exception("batch_failed", consumer=self.consumer, size=len(events))
            raise NackMessage(delay=_backoff(DEFAULT_RETRY_DELAY_SECONDS, attempt)) from error
        results = Counter(
            (event.type, "duplicate" if str(event.id) in duplicates else "ok") for event in events
        )
        for (event_type, result), count in results.items():
            self._metrics.count(self.consumer, event_type, result, count)

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Park a message on the service's dead-letter subject, with the reason in headers.

        A private event's dead letter stays private: `botram.private.dlq.<service>`, in the
        private stream.
        """
        log.warning("event_dead_lettered", consumer=self.consumer, reason=reason)
        subject = dead_letter_subject(self.service, private=is_private(delivery.subject))
        await self._broker.publish(
            delivery.payload,
            subject,
            headers={
                DLQ_REASON_HEADER: reason[:500],
                DLQ_SUBJECT_HEADER: delivery.subject,
                DLQ_CONSUMER_HEADER: self.consumer,
            },
            stream=stream_for(subject),
        )

    def _count(self, event_type: str, result: str) -> None:
        self._metrics.count(self.consumer, event_type, result)


def _backoff(base: float, attempt: int) -> float:
    """Exponential back-off for redeliveries, capped at five minutes."""
    return float(min(base * math.pow(2, max(attempt - 1, 0)), 300.0))
