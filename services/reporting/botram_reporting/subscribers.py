"""Reporting bus handlers: one durable consumer per public event family."""

from faststream.middlewares import AckPolicy
from faststream.nats import DeliverPolicy, JStream, PullSub

from botram_reporting.handlers import CONSUMER, Reporting, apply_event
from botram_shared.bus import PULL_BATCH, PULL_TIMEOUT_SECONDS, Delivery, delivery_decoder
from botram_shared.runtime import ServiceRuntime
from botram_shared.stream import STREAM_NAME
from botram_shared.subjects import PUBLIC_EVENT_FAMILIES


def register(runtime: ServiceRuntime, reporting: Reporting) -> None:
    consume = runtime.consumer(CONSUMER)

    async def handle(delivery: Delivery) -> None:
        await consume(delivery, lambda event: apply_event(reporting, event))

    for family in PUBLIC_EVENT_FAMILIES:
        name = family.split(".")[1]
        runtime.broker.subscriber(
            family,
            stream=JStream(STREAM_NAME, declare=False),
            durable=f"reporting-{name}",
            deliver_policy=DeliverPolicy.ALL,
            pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
            ack_policy=AckPolicy.ACK,
            decoder=delivery_decoder,
            title=f"reporting/on_{name}_event",
            description=f"Counts every botram.{name}.* event into the aggregates, exactly once.",
        )(handle)
