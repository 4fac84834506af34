"""A ticket's position is the place desks will call it at: priority tickets are interleaved
with regular ones, and the check-in answer, the events and the queue status all say so."""

from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import CitizenCheckedInV1, CitizenContactSharedV1, TicketCalledV1
from helpers import fetch_events

KK = "dukcapil-kk"

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


async def test_a_priority_citizen_is_told_the_place_desks_will_call_them_at(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    for serial in range(1, 6):  # five regular citizens wait: KK-001 … KK-005
        await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(serial), services=[KK])
        )

    answer = await registry.post(
        "/v1/sessions/s-1/check-ins",
        json=citizen(nik_for(6), services=[KK], priority=True, phone="081234567890"),
    )
    again = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(6)))
    queue = (await registry.get("/v1/sessions/s-1/queue")).json()["services"][0]
    calls = [(await registry.post(f"/v1/sessions/s-1/services/{KK}/call-next")).json()]

    [ticket] = answer.json()["tickets"]
    assert (ticket["number"], ticket["position"]) == ("KK-006", 1)  # not 6: priority goes first
    assert again.json()["tickets"][0]["position"] == 1
    assert [(p["number"], p["position"]) for p in queue["positions"]][:2] == [
        ("KK-006", 1),
        ("KK-001", 2),
    ]
    assert calls[0]["number"] == "KK-006"
    checked_in = await fetch_events(nc, "botram.citizen.checked_in.>", 6)
    [shared] = await fetch_events(nc, "botram.private.>", 1)
    assert isinstance(checked_in[-1].data, CitizenCheckedInV1)
    assert isinstance(shared.data, CitizenContactSharedV1)
    assert checked_in[-1].data.tickets[0].position == shared.data.tickets[0].position == 1


async def test_each_call_names_the_tickets_that_come_next_in_the_fair_order(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    # KK-001 … KK-012 regular, then KK-013 and KK-014 priority.
    for serial in range(1, 15):
        body = citizen(nik_for(serial), services=[KK], priority=serial > 12)
        await registry.post("/v1/sessions/s-1/check-ins", json=body)

    numbers = []
    for _ in range(3):
        response = await registry.post(f"/v1/sessions/s-1/services/{KK}/call-next")
        numbers.append(response.json()["number"])
    queue = (await registry.get("/v1/sessions/s-1/queue")).json()["services"][0]

    assert numbers == ["KK-013", "KK-014", "KK-001"]
    events = [e.data for e in await fetch_events(nc, "botram.ticket.called.>", 3)]
    assert all(isinstance(e, TicketCalledV1) for e in events)
    up_next = [[t.number for t in e.up_next or []] for e in events if isinstance(e, TicketCalledV1)]
    assert up_next[0][:3] == ["KK-014", "KK-001", "KK-002"]
    assert up_next[1][:2] == ["KK-001", "KK-002"]
    assert up_next[2] == [f"KK-{n:03d}" for n in range(2, 12)]  # at most ten
    assert [p["number"] for p in queue["positions"]][:10] == up_next[2]
