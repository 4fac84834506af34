"""Sessions from the scheduler's events, on a real nats-server: what cannot be read is
dead-lettered with its reason; a session's update applies at once."""

import json
import re
from collections.abc import Awaitable, Callable
from datetime import time

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import SessionUpdatedV1
from botram_runtime.bus import DLQ_REASON_HEADER
from botram_runtime.bus_access import max_deliveries_subject
from botram_runtime.clock import local_today
from botram_runtime.stream import STREAM_NAME
from helpers import FakeClock, assert_problem, eventually, publish_event


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
    # The advisory is core NATS (at most once): sent again until the registry's listener, which
    # may still be subscribing when the test starts, has counted one.
    subject = max_deliveries_subject(STREAM_NAME, "registry-sessions")
    counter = re.compile(
        r'botram_consumer_max_deliveries_total\{consumer="registry-sessions"\} [1-9]'
    )
    advisory = json.dumps({"type": "io.nats.jetstream.advisory.v1"}).encode()

    async def counted() -> bool:
        if counter.search((await registry.get("/metrics")).text):
            return True
        await nc.publish(subject, advisory)
        return False

    await eventually(counted)


async def test_a_quota_raised_on_an_opened_session_admits_more_check_ins(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: Callable[..., Awaitable[None]],
    known_session: Callable[[httpx.AsyncClient, str, str], Awaitable[None]],
    citizen: Callable[..., dict[str, object]],
    nik_for: Callable[[int], str],
) -> None:
    await announce_session("s-1", quotas={"dukcapil-kk": 1})
    await known_session(registry, "s-1", "opened")
    url = "/v1/sessions/s-1/check-ins"
    first = await registry.post(url, json=citizen(nik_for(1), services=["dukcapil-kk"]))
    full = await registry.post(url, json=citizen(nik_for(2), services=["dukcapil-kk"]))
    await publish_event(
        nc,
        SessionUpdatedV1(
            session_id="s-1",
            level="kecamatan",
            kecamatan="sukatani",
            date=local_today(clock),
            start=time(8),
            end=time(14),
            services=["dukcapil-kk", "bpjs-kesehatan-pendaftaran", "dinkes-cek-tekanan-darah"],
            quotas={"dukcapil-kk": 2},
            changed=["services", "quotas"],
        ),
        "scheduler",
    )

    async def admitted() -> httpx.Response | None:
        response = await registry.post(url, json=citizen(nik_for(2), services=["dukcapil-kk"]))
        return response if response.status_code == 201 else None

    second = await eventually(admitted)
    added = await registry.post(
        url, json=citizen(nik_for(3), services=["dinkes-cek-tekanan-darah"])
    )
    third = await registry.post(url, json=citizen(nik_for(4), services=["dukcapil-kk"]))

    assert first.status_code == 201 and second.json()["tickets"][0]["number"].endswith("002")
    assert_problem(full, 409, "quota-full")
    assert added.status_code == 201, added.text  # the added service takes check-ins
    assert_problem(third, 409, "quota-full")  # the new quota holds too
