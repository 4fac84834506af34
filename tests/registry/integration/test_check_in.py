"""Check-in on a real nats-server and database: tickets, repeats, refusals, what is announced."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import CitizenCheckedInV1, decode_event
from helpers import assert_problem, eventually

NIK = "3216054507900001"
KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


async def test_check_in_issues_numbered_tickets_and_announces_it_without_personal_data(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")

    response = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(phone="081234567890"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["nik"] == "3216********0001"
    assert [t["number"] for t in body["tickets"]] == ["KK-001", "JKN-001"]
    sub = await nc.jetstream().pull_subscribe("botram.citizen.>", durable="registry-test")
    [message] = await sub.fetch(1, timeout=5)
    event = decode_event(message.data)
    assert isinstance(event.data, CitizenCheckedInV1)
    assert event.data.check_in_id == body["check_in_id"]
    assert (event.data.sex, event.data.resident) == ("F", True)
    for secret in (NIK, "Siti", "081234567890"):
        assert secret not in message.data.decode() and secret not in message.subject


async def test_the_same_nik_at_the_same_session_gets_only_the_numbers_it_holds(
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")

    first = await registry.post("/v1/sessions/s-1/check-ins", json=citizen())
    again = await registry.post("/v1/sessions/s-1/check-ins", json=citizen())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["check_in_id"] == first.json()["check_in_id"]
    # Whoever repeats a NIK learns the numbers (what a slip says), not the tickets (issue 11).
    assert again.json()["tickets"] == []
    assert again.json()["held_numbers"] == [t["number"] for t in first.json()["tickets"]]


async def test_check_in_refusals_say_why(
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session("s-open", quotas={"dukcapil-kk": 1})
    await announce_session("s-planned", open_it=False)
    await known_session(registry, "s-open", "opened")
    await known_session(registry, "s-planned", "scheduled")

    unknown = await registry.post("/v1/sessions/nope/check-ins", json=citizen())
    not_open = await registry.post("/v1/sessions/s-planned/check-ins", json=citizen())
    bad_nik = await registry.post("/v1/sessions/s-open/check-ins", json=citizen("3216054507900000"))
    not_offered = await registry.post(
        "/v1/sessions/s-open/check-ins", json=citizen(services=["pmi-donor-darah"])
    )
    await registry.post("/v1/sessions/s-open/check-ins", json=citizen(services=["dukcapil-kk"]))
    quota = await registry.post(
        "/v1/sessions/s-open/check-ins", json=citizen(nik_for(2), services=["dukcapil-kk"])
    )

    assert_problem(unknown, 404, "session-not-found")
    assert_problem(not_open, 409, "session-not-open")
    assert_problem(bad_nik, 422, "invalid-nik-serial")
    assert_problem(not_offered, 409, "service-not-offered")
    assert "kuota habis" in assert_problem(quota, 409, "quota-full")["detail"]


async def test_a_validation_error_never_echoes_the_nik(registry: httpx.AsyncClient) -> None:
    response = await registry.post(
        "/v1/sessions/s-1/check-ins", json={"nik": NIK, "name": "", "services": []}
    )

    body = assert_problem(response, 422, "invalid-request")
    assert NIK not in response.text
    assert {e["field"] for e in body["errors"]} == {"name", "services"}


async def test_asking_for_another_service_adds_a_ticket_and_keeps_the_first_ones(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    first = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))).json()
    sub = await nc.jetstream().pull_subscribe("botram.citizen.>", durable="added-test")

    more = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))
    again = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))

    assert more.status_code == 200, more.text
    body = more.json()
    assert body["check_in_id"] == first["check_in_id"]
    assert body["added_services"] == [JKN]
    assert [t["number"] for t in body["tickets"]] == ["JKN-001"]
    assert body["held_numbers"] == ["KK-001"]
    assert again.json()["added_services"] == [] and again.json()["tickets"] == []
    assert again.json()["held_numbers"] == ["KK-001", "JKN-001"]
    types: list[str] = []

    async def both_announced() -> bool:
        types.extend(decode_event(m.data).type for m in await sub.fetch(2, timeout=5))
        return len(types) >= 2

    await eventually(both_announced)
    # The check-in is announced once; the added ticket has an event of its own.
    assert sorted(types) == ["botram.citizen.checked_in.v1", "botram.citizen.tickets_added.v1"]


async def test_adding_a_service_beyond_its_quota_changes_nothing(
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session(quotas={JKN: 1})
    await known_session(registry, "s-1", "opened")
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(9), services=[JKN]))
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))

    refused = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))
    after = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))

    assert "kuota habis" in assert_problem(refused, 409, "quota-full")["detail"]
    assert after.json()["tickets"] == [] and after.json()["held_numbers"] == ["KK-001"]


async def test_many_check_ins_of_one_citizen_at_once_make_one_check_in(
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")

    responses = await asyncio.gather(
        *(registry.post("/v1/sessions/s-1/check-ins", json=citizen()) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["check_in_id"] for r in responses}) == 1
