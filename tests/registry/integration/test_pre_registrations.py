"""Pre-registration over HTTP on a real bus: slots, places held in the quota until a slot ends,
the check-in by the QR code, and the head start of pre-registered citizens over walk-ins."""

from collections.abc import Awaitable, Callable
from datetime import datetime, time

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import CitizenCheckedInV1, CitizenPreRegisteredV1, SessionOpenedV1
from botram_runtime.clock import JAKARTA, local_today
from helpers import FakeClock, assert_problem, fetch_events, publish_event

KK = "dukcapil-kk"
Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


def at(clock: FakeClock, hour: int, minute: int = 0) -> None:
    """Move the clock to that WIB time of today."""
    clock.now = datetime.combine(local_today(clock), time(hour, minute), tzinfo=JAKARTA)


async def pre_register(
    registry: httpx.AsyncClient, nik: str, slot: str, **extra: object
) -> httpx.Response:
    body = {"nik": nik, "name": "Warga Desa", "services": [KK], "slot": slot} | extra
    return await registry.post("/v1/sessions/s-1/pre-registrations", json=body)


async def test_a_session_offers_half_hour_slots_with_their_places_taken(
    registry: httpx.AsyncClient,
    clock: FakeClock,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    nik_for: Callable[[int], str],
) -> None:
    at(clock, 7)
    await announce_session(open_it=False)
    await known_session(registry, "s-1", "scheduled")

    made = await pre_register(registry, nik_for(1), "08:30", phone="081234567890")
    again = await pre_register(registry, nik_for(1), "09:00")
    slots = (await registry.get("/v1/sessions/s-1/slots", headers={})).json()

    assert made.status_code == 201
    answer = made.json()
    assert answer["slot"] == {"start": "08:30:00", "end": "09:00:00"}
    assert len(answer["code"]) == 11 and answer["qr_url"].endswith("/p/" + answer["code"])
    assert_problem(again, 409, "already-pre-registered")
    assert len(slots) == 12  # 08:00 to 14:00
    assert slots[1] == {
        "start": "08:30:00",
        "end": "09:00:00",
        "capacity": 10,
        "booked": 1,
        "available": 9,
    }
    page = await registry.get(answer["qr_url"].removeprefix("http://service"), headers={})
    assert page.status_code == 200 and answer["code"] in page.text and "<svg" in page.text
    assert "Warga Desa" not in page.text


async def test_refusals_are_problems(
    registry: httpx.AsyncClient,
    clock: FakeClock,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    nik_for: Callable[[int], str],
) -> None:
    at(clock, 7)
    await announce_session(open_it=False, quotas={KK: 1})
    await known_session(registry, "s-1", "scheduled")

    assert_problem(await pre_register(registry, "3216999999999999", "08:00"), 422)
    assert_problem(await pre_register(registry, nik_for(1), "08:10"), 422, "unknown-slot")
    unknown = await pre_register(registry, nik_for(1), "08:00", services=["no-such-service"])
    assert_problem(unknown, 422, "unknown-service")
    assert (await pre_register(registry, nik_for(1), "08:00")).status_code == 201
    assert_problem(await pre_register(registry, nik_for(2), "08:00"), 409, "quota-full")
    at(clock, 8, 31)
    assert_problem(await pre_register(registry, nik_for(3), "08:00"), 409, "slot-passed")
    assert_problem(
        await registry.post("/v1/sessions/s-1/pre-registrations/ZZZZZ-ZZZZZ/check-in"),
        404,
    )


async def test_pre_registered_and_walk_in_citizens_are_called_in_the_stated_order(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    """Three slots (08:00, 08:30, 09:00) and walk-ins arrive together; a quota of 8.

    A pre-registered citizen on time goes ahead of the walk-ins who came less than 15 minutes
    before them; D (08:00) never comes, so at 08:30 their place goes to a walk-in."""
    at(clock, 7)
    await announce_session(open_it=False, quotas={KK: 8})
    await known_session(registry, "s-1", "scheduled")
    codes = {}
    for serial, name, slot in ((1, "A", "08:00"), (2, "B", "08:30"), (3, "C", "09:00")):
        answer = await pre_register(registry, nik_for(serial), slot, phone="081234567890")
        codes[name] = answer.json()["code"]
    codes["D"] = (await pre_register(registry, nik_for(4), "08:00")).json()["code"]
    [sms, *_] = await fetch_events(nc, "botram.private.>", 3)
    assert isinstance(sms.data, CitizenPreRegisteredV1)
    assert (sms.data.slot_start, sms.data.code) == (time(8), codes["A"])
    at(clock, 7, 55)
    await publish_event(
        nc,
        SessionOpenedV1(
            session_id="s-1",
            level="kecamatan",
            kecamatan="sukatani",
            date=local_today(clock),
            opened_at=clock(),
        ),
        "scheduler",
    )
    await known_session(registry, "s-1", "opened")

    async def walk_in(serial: int, hour: int, minute: int) -> httpx.Response:
        at(clock, hour, minute)
        body = citizen(nik_for(serial), services=[KK])
        return await registry.post("/v1/sessions/s-1/check-ins", json=body)

    async def arrive(name: str, hour: int, minute: int) -> httpx.Response:
        at(clock, hour, minute)
        return await registry.post(f"/v1/sessions/s-1/pre-registrations/{codes[name]}/check-in")

    assert (await walk_in(11, 8, 0)).json()["tickets"][0]["number"] == "KK-001"
    await walk_in(12, 8, 0)  # KK-002
    a = await arrive("A", 8, 10)  # KK-003: ahead of KK-001 and KK-002 (came at 08:00)
    await walk_in(13, 8, 20)  # KK-004
    await walk_in(14, 8, 21)  # KK-005: the 8th place (B, C and D still hold theirs)
    refused = await walk_in(15, 8, 22)
    taken = await walk_in(15, 8, 35)  # KK-006: D's place, released at 08:30
    b = await arrive("B", 8, 40)  # KK-007: ahead of KK-006 (08:35), behind KK-005 (08:21)
    c = await arrive("C", 9, 5)  # KK-008: nobody came within 15 minutes: last
    late = await arrive("D", 9, 10)
    again = await arrive("A", 9, 11)

    assert a.status_code == 201 and a.json()["tickets"][0]["position"] == 1
    assert_problem(refused, 409, "quota-full")
    assert taken.status_code == 201
    assert (b.json()["tickets"][0]["number"], b.json()["tickets"][0]["position"]) == ("KK-007", 6)
    assert c.json()["tickets"][0]["number"] == "KK-008"
    assert_problem(late, 409, "quota-full")  # their slot ended: a walk-in now, and it is full
    assert_problem(again, 409, "already-used")
    queue = (await registry.get("/v1/sessions/s-1/queue")).json()["services"][0]
    expected = ["KK-003", "KK-001", "KK-002", "KK-004", "KK-005", "KK-007", "KK-006", "KK-008"]
    assert [p["number"] for p in queue["positions"]] == expected
    calls = []
    for _ in range(8):
        response = await registry.post(f"/v1/sessions/s-1/services/{KK}/call-next")
        calls.append(response.json()["number"])
    assert calls == expected
    checked_in = [e.data for e in await fetch_events(nc, "botram.citizen.checked_in.>", 8)]
    assert all(isinstance(e, CitizenCheckedInV1) for e in checked_in)
