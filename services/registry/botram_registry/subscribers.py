"""Registry bus handlers: it learns sessions only from the scheduler's events."""

from faststream.middlewares import AckPolicy
from faststream.nats import DeliverPolicy, JStream, PullSub

from botram_contracts.subjects import SESSION_EVENTS
from botram_registry.handlers import SESSION_CONSUMER, Registry, apply_session_event
from botram_runtime.bus import PULL_BATCH, PULL_TIMEOUT_SECONDS, Delivery, delivery_decoder
from botram_runtime.service import ServiceRuntime
from botram_runtime.stream import STREAM_NAME


def register(runtime: ServiceRuntime, registry: Registry) -> None:
    consume = runtime.consumer(SESSION_CONSUMER)

    @runtime.broker.subscriber(
        SESSION_EVENTS,
        stream=JStream(STREAM_NAME, declare=False),
        durable=SESSION_CONSUMER,
        deliver_policy=DeliverPolicy.ALL,
        pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
        ack_policy=AckPolicy.ACK,
        decoder=delivery_decoder,
        title="registry/on_session_event",
        description="Keeps the registry's copy of each session (status, services, quotas).",
    )
    async def on_session_event(delivery: Delivery) -> None:
        """Apply a scheduler session event to the local copy of the session."""
        await consume(delivery, lambda event: apply_session_event(registry, event))
