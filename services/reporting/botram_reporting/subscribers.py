"""Reporting bus handler: one durable, batched consumer of every public event family."""

import asyncio
from contextlib import suppress

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, PullSub

from botram_contracts.subjects import PUBLIC_EVENT_FAMILIES
from botram_reporting.handlers import CONSUMER, Reporting, apply_events
from botram_reporting.settings import Settings
from botram_runtime.bus import Delivery, batch_delivery_decoder, jetstream_of
from botram_runtime.service import ServiceRuntime
from botram_runtime.stream import STREAM_NAME

log = structlog.get_logger(__name__)
DURABLE = "reporting"


def register(runtime: ServiceRuntime, reporting: Reporting, settings: Settings) -> None:
    consume = runtime.consumer(CONSUMER)

    # One consumer filtering on all five families (not one per family) keeps the stream's
    # order: a session's closing is applied after its check-ins, so the demand ranking it
    # triggers counts them. Private (`botram.private.>`) and dead-letter subjects stay out.
    @runtime.broker.subscriber(
        "",
        stream=JStream(STREAM_NAME, declare=False),
        durable=DURABLE,
        config=ConsumerConfig(filter_subjects=list(PUBLIC_EVENT_FAMILIES)),
        deliver_policy=DeliverPolicy.ALL,
        pull_sub=PullSub(
            batch_size=settings.reporting_batch_size,
            timeout=settings.reporting_batch_timeout_seconds,
            batch=True,
        ),
        ack_policy=AckPolicy.ACK,
        decoder=batch_delivery_decoder,
        title="reporting/on_public_events",
        description=(
            "Counts every public botram.session/citizen/ticket/service/demand event into the "
            "aggregates, exactly once, one transaction per fetched batch."
        ),
    )
    async def on_public_events(deliveries: list[Delivery]) -> None:
        """Counts a batch of public events into the aggregates, exactly once."""
        await consume.batch(deliveries, lambda events: apply_events(reporting, events))

    lag_task: list[asyncio.Task[None]] = []

    async def poll_lag() -> None:
        while True:
            with suppress(Exception):  # the bus may be reconnecting: keep the last value
                info = await jetstream_of(runtime.broker).consumer_info(STREAM_NAME, DURABLE)
                reporting.aggregates.consumer_lag[DURABLE] = info.num_pending + (
                    info.num_ack_pending or 0
                )
            await asyncio.sleep(settings.consumer_lag_poll_seconds)

    @runtime.on_start
    async def start_lag_probe() -> None:
        lag_task.append(asyncio.create_task(poll_lag(), name="reporting-lag-probe"))

    @runtime.on_stop
    async def stop_lag_probe() -> None:
        for task in lag_task:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
