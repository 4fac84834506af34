"""Group commit of check-ins: many at once give the same answers as one at a time."""

import asyncio
from collections import Counter

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError
from test_registry import (
    announce_session,
    citizen,
    known_session,
    nik_for,
    registry,  # noqa: F401 (fixture)
)

from botram_registry.batching import Batcher
from helpers import FakeClock, assert_problem

CHECK_INS = "/v1/sessions/s-1/check-ins"


async def test_concurrent_check_ins_number_each_queue_once_and_announce_each_citizen_once(
    registry: httpx.AsyncClient,  # noqa: F811
    nc: NatsClient,
    clock: FakeClock,
) -> None:
    await announce_session(nc, clock)
    await known_session(registry, "s-1", "opened")
    citizens = [nik_for(serial) for serial in range(1, 91)]
    # Every citizen once, and the first ten a second time in the same burst.
    bodies = [citizen(nik) for nik in citizens] + [citizen(nik) for nik in citizens[:10]]

    responses = await asyncio.gather(*(registry.post(CHECK_INS, json=body) for body in bodies))

    by_nik: dict[str, list[httpx.Response]] = {}
    for body, response in zip(bodies, responses, strict=True):
        assert response.status_code in (200, 201), response.text
        by_nik.setdefault(str(body["nik"]), []).append(response)
    for answers in by_nik.values():
        assert [r.status_code for r in answers].count(201) == 1
        assert len({r.json()["check_in_id"] for r in answers}) == 1
    created = [r.json() for r in responses if r.status_code == 201]
    for service, prefix in (("dukcapil-kk", "KK"), ("bpjs-kesehatan-pendaftaran", "JKN")):
        tickets = [t for c in created for t in c["tickets"] if t["service"] == service]
        assert sorted(t["number"] for t in tickets) == [f"{prefix}-{n:03d}" for n in range(1, 91)]
        # Nobody has been called: a ticket's position is its number.
        assert all(t["position"] == int(t["number"].split("-")[1]) for t in tickets)

    subscription = await nc.jetstream().pull_subscribe("botram.citizen.checked_in.>")
    announced: list[str] = []
    for _ in range(50):  # bounded: the relay publishes within seconds
        try:
            announced += [m.subject for m in await subscription.fetch(100, timeout=0.5)]
        except NatsTimeoutError:
            if len(announced) >= len(citizens):
                break
    await subscription.unsubscribe()
    assert len(announced) == len(citizens)


async def test_a_quota_reached_inside_a_burst_refuses_exactly_the_excess(
    registry: httpx.AsyncClient,  # noqa: F811
    nc: NatsClient,
    clock: FakeClock,
) -> None:
    await announce_session(nc, clock, quotas={"dukcapil-kk": 40})
    await known_session(registry, "s-1", "opened")
    bodies = [citizen(nik_for(serial), services=["dukcapil-kk"]) for serial in range(1, 51)]

    responses = await asyncio.gather(*(registry.post(CHECK_INS, json=body) for body in bodies))

    assert Counter(r.status_code for r in responses) == {201: 40, 409: 10}
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "quota-full")
    numbers = sorted(r.json()["tickets"][0]["number"] for r in responses if r.status_code == 201)
    assert numbers == [f"KK-{n:03d}" for n in range(1, 41)]


async def test_requests_arriving_during_a_batch_form_the_next_batch() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def process(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            await release.wait()  # the first batch is slow: the rest queue up meanwhile
        return [item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher(process, max_size=8)
    await batcher.start()
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(batcher.submit(n)) for n in range(1, 12)]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(first, *rest)
    await batcher.stop()

    assert results == [n * 10 for n in range(12)]
    assert batches == [[0], list(range(1, 9)), list(range(9, 12))]


async def test_a_failed_batch_fails_its_own_requests_only() -> None:
    async def process(items: list[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("bad batch")
        return items

    batcher: Batcher[int, int] = Batcher(process, max_size=1)
    await batcher.start()
    good, bad = await asyncio.gather(batcher.submit(1), batcher.submit(13), return_exceptions=True)
    await batcher.stop()

    assert good == 1
    assert isinstance(bad, RuntimeError)
    with pytest.raises(RuntimeError):
        await batcher.submit(13)  # stopped: processed inline, the error reaches the caller
