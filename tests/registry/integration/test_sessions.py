"""Sessions from the scheduler's events, on a real nats-server: what cannot be read is
dead-lettered with its reason."""

import json

import httpx
from nats.aio.client import Client as NatsClient

from botram_runtime.bus import DLQ_REASON_HEADER
from botram_runtime.bus_access import max_deliveries_subject
from botram_runtime.stream import STREAM_NAME
from helpers import eventually


async def test_a_malformed_event_goes_to_the_dead_letter_with_its_reason(
    registry: httpx.AsyncClient, nc: NatsClient
) -> None:
    js = nc.jetstream()
    await js.publish(
        "botram.session.scheduled.v1.kecamatan.sukatani",
        json.dumps({"specversion": "1.0", "type": "botram.session.scheduled.v1"}).encode(),
    )
    dlq = await js.pull_subscribe("botram.dlq.registry", durable="dlq-test")

    [message] = await dlq.fetch(1, timeout=10)

    assert "not a valid CloudEvent" in message.headers[DLQ_REASON_HEADER]
    metrics = (await registry.get("/metrics")).text
    assert (
        'botram_events_consumed_total{consumer="registry-sessions",'
        'result="dead_letter",type="malformed"} 1.0' in metrics
    )


async def test_a_max_deliveries_advisory_of_its_consumer_is_counted(
    registry: httpx.AsyncClient, nc: NatsClient
) -> None:
    # JetStream gave up redelivering a message (the dead letter should have taken it first).
    subject = max_deliveries_subject(STREAM_NAME, "registry-sessions")
    expected = 'botram_consumer_max_deliveries_total{consumer="registry-sessions"} 1.0'

    await nc.publish(subject, json.dumps({"type": "io.nats.jetstream.advisory.v1"}).encode())

    async def counted() -> bool:
        return expected in (await registry.get("/metrics")).text

    await eventually(counted)
