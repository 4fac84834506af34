"""Scheduler bus handlers: it learns what citizens ask for from reporting's demand rankings."""

from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import DeliverPolicy, JStream, PullSub

from botram_contracts.events import CloudEvent, DemandRankedV1
from botram_contracts.subjects import DEMAND_EVENTS
from botram_runtime.bus import PULL_BATCH, PULL_TIMEOUT_SECONDS, Delivery, delivery_decoder
from botram_runtime.db import Database
from botram_runtime.service import ServiceRuntime
from botram_runtime.stream import STREAM_NAME
from botram_scheduler.handlers import DEMAND_CONSUMER, record_ranking


def register(runtime: ServiceRuntime, db: Database) -> None:
    consume = runtime.consumer(DEMAND_CONSUMER)

    async def apply(event: CloudEvent[Any]) -> None:
        if isinstance(event.data, DemandRankedV1):
            await record_ranking(db, event)

    @runtime.broker.subscriber(
        DEMAND_EVENTS,
        stream=JStream(STREAM_NAME, declare=False),
        durable=DEMAND_CONSUMER,
        deliver_policy=DeliverPolicy.ALL,
        pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
        ack_policy=AckPolicy.ACK,
        decoder=delivery_decoder,
        title="scheduler/on_demand_ranked",
        description=(
            "Keeps the latest demand ranking per level: the next desa sessions generated "
            "offer its most demanded desa-eligible services."
        ),
    )
    async def on_demand_ranked(delivery: Delivery) -> None:
        """Record a demand ranking for the desa service mix of sessions generated next."""
        await consume(delivery, apply)
