"""Group commit of check-ins: many at once give the same answers as one at a time."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError

from helpers import assert_problem

CHECK_INS = "/v1/sessions/s-1/check-ins"


async def test_concurrent_check_ins_number_each_queue_once_and_announce_each_citizen_once(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: Callable[[httpx.AsyncClient, str, str], Awaitable[None]],
    citizen: Callable[..., dict[str, object]],
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
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
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: Callable[[httpx.AsyncClient, str, str], Awaitable[None]],
    citizen: Callable[..., dict[str, object]],
    nik_for: Callable[[int], str],
) -> None:
    await announce_session(quotas={"dukcapil-kk": 40})
    await known_session(registry, "s-1", "opened")
    bodies = [citizen(nik_for(serial), services=["dukcapil-kk"]) for serial in range(1, 51)]

    responses = await asyncio.gather(*(registry.post(CHECK_INS, json=body) for body in bodies))

    assert Counter(r.status_code for r in responses) == {201: 40, 409: 10}
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "quota-full")
    numbers = sorted(r.json()["tickets"][0]["number"] for r in responses if r.status_code == 201)
    assert numbers == [f"KK-{n:03d}" for n in range(1, 41)]
