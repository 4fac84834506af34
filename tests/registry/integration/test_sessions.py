"""Sessions from the scheduler's events, on a real nats-server: what cannot be read is
dead-lettered with its reason."""

import json

import httpx
from nats.aio.client import Client as NatsClient

from botram_runtime.bus import DLQ_REASON_HEADER


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
