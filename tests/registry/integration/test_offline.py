"""Offline village desks on a real nats-server and database, and what reaches the bus."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from sqlalchemy import func
from sqlmodel import col, select

from botram_contracts.events import CitizenContactSharedV1, decode_event
from botram_registry.deps import Deps
from botram_registry.store import CheckInRow, OfflineCheckInRow, OutboxEvent
from botram_runtime.clock import JAKARTA, local_today
from helpers import FakeClock, assert_problem, eventually

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"

Item = Callable[..., dict[str, Any]]
AnnounceSession = Callable[..., Awaitable[None]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]


async def outbox_size(registry: Deps) -> int:
    async with registry.db.session() as session:
        return int((await session.exec(select(func.count()).select_from(OutboxEvent))).one())


@pytest.fixture(autouse=True)
def midday(clock: FakeClock) -> None:
    """Noon of today in Bekasi: an item recorded 40 minutes before is on the session's day."""
    clock.now = datetime.combine(local_today(clock), time(12), JAKARTA).astimezone(UTC)


@pytest.fixture
def item(citizen: Callable[..., dict[str, Any]]) -> Item:
    """An upload item: a check-in body with its client id, recorded 40 minutes before `clock`."""

    def make(client_id: str, nik: str, clock: FakeClock, **overrides: Any) -> dict[str, Any]:
        recorded = (clock() - timedelta(minutes=40)).isoformat()
        return {"client_id": client_id, "recorded_at": recorded} | citizen(nik, **overrides)

    return make


async def test_an_offline_batch_reports_each_item_and_its_replay_changes_nothing(
    app_and_client: tuple[Deps, httpx.AsyncClient],
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Callable[..., dict[str, Any]],
    nik_for: Callable[[int], str],
    item: Item,
) -> None:
    registry, client = app_and_client
    await announce_session(quotas={JKN: 1})
    await known_session(client, "s-1", "opened")
    await client.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(7), services=[KK]))
    batch = {
        "device_id": "tablet-ciantra-1",
        "items": [
            item("c-1", nik_for(1), clock, services=[KK, JKN]),
            item("c-2", nik_for(7), clock, services=[KK]),  # checked in at the desk already
            item("c-3", "3216054507900000", clock),  # serial 0000
            item("c-4", nik_for(4), clock, services=[JKN]),  # the one JKN ticket is gone
        ],
    }

    first = await client.post("/v1/sessions/s-1/check-ins:batch", json=batch)
    events_after_first = await outbox_size(registry)
    clock.advance(600)
    replay = await client.post("/v1/sessions/s-1/check-ins:batch", json=batch)

    assert first.status_code == 200, first.text
    results = {r["client_id"]: r for r in first.json()["results"]}
    assert {k: r["result"] for k, r in results.items()} == {
        "c-1": "created",
        "c-2": "merged",
        "c-3": "rejected",
        "c-4": "rejected",
    }
    assert [t["number"] for t in results["c-1"]["check_in"]["tickets"]] == ["KK-002", "JKN-001"]
    assert results["c-3"]["problem"]["code"] == "invalid-nik-serial"
    assert results["c-4"]["problem"]["code"] == "quota-full"
    assert "3216054507900000" not in first.text
    again = {r["client_id"]: r for r in replay.json()["results"]}
    assert [again[k]["result"] for k in ("c-1", "c-2")] == ["replayed", "replayed"]
    assert again["c-1"]["check_in"]["tickets"] == results["c-1"]["check_in"]["tickets"]
    assert await outbox_size(registry) == events_after_first
    async with registry.db.session() as session:
        stored = (
            await session.exec(
                select(CheckInRow).where(CheckInRow.id == results["c-1"]["check_in"]["check_in_id"])
            )
        ).one()
        uploads = (await session.exec(select(OfflineCheckInRow))).all()
    # Both clocks are kept: the device's when recorded, the server's when received.
    assert stored.recorded_at == clock() - timedelta(minutes=40 + 10)
    assert stored.checked_in_at == clock() - timedelta(minutes=10)
    assert stored.device_id == "tablet-ciantra-1"
    assert sorted(u.client_id for u in uploads) == ["c-1", "c-2"]


async def test_a_client_id_reused_for_another_citizen_is_a_conflict(
    app_and_client: tuple[Deps, httpx.AsyncClient],
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    nik_for: Callable[[int], str],
    item: Item,
) -> None:
    _, client = app_and_client
    await announce_session()
    await known_session(client, "s-1", "opened")
    await client.post(
        "/v1/sessions/s-1/check-ins:batch", json={"items": [item("c-1", nik_for(1), clock)]}
    )

    reused = await client.post(
        "/v1/sessions/s-1/check-ins:batch", json={"items": [item("c-1", nik_for(2), clock)]}
    )

    [result] = reused.json()["results"]
    assert (result["result"], result["problem"]["code"]) == ("conflict", "client-id-reused")
    queue = (await client.get("/v1/sessions/s-1/queue")).json()["services"][0]
    assert queue["waiting"] == 1


async def test_an_offline_batch_for_a_session_that_is_not_open_is_refused(
    app_and_client: tuple[Deps, httpx.AsyncClient],
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    nik_for: Callable[[int], str],
    item: Item,
) -> None:
    _, client = app_and_client
    await announce_session(open_it=False)
    await known_session(client, "s-1", "scheduled")
    batch = {"items": [item("c-1", nik_for(1), clock)]}

    unknown = await client.post("/v1/sessions/nope/check-ins:batch", json=batch)
    not_open = await client.post("/v1/sessions/s-1/check-ins:batch", json=batch)
    no_time = await client.post(
        "/v1/sessions/s-1/check-ins:batch",
        json={"items": [item("c-1", nik_for(1), clock, recorded_at="2024-07-09T09:00:00")]},
    )

    assert_problem(unknown, 404, "session-not-found")
    assert_problem(not_open, 409, "session-not-open")
    assert_problem(no_time, 422, "invalid-request")  # a device time needs its offset


async def test_a_bus_tap_during_a_full_day_sees_no_personal_data_outside_the_private_subject(
    app_and_client: tuple[Deps, httpx.AsyncClient],
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Callable[..., dict[str, Any]],
    nik_for: Callable[[int], str],
    item: Item,
) -> None:
    registry, client = app_and_client
    seen: list[Msg] = []

    async def tap(message: Msg) -> None:
        seen.append(message)

    await nc.subscribe("botram.>", cb=tap)
    await announce_session()
    await known_session(client, "s-1", "opened")
    people = [
        (nik_for(1), "Siti Aminah", "081234567890"),
        (nik_for(2), "Budi Santoso", "+6281298765432"),
        ("3216050101500003", "Haji Oman", "085711112222"),  # lansia
    ]
    for nik, name, phone in people[:2]:
        body = citizen(nik, name=name, phone=phone, services=[KK])
        await client.post("/v1/sessions/s-1/check-ins", json=body)
    await client.post(
        "/v1/sessions/s-1/check-ins",
        json=citizen(people[0][0], name=people[0][1], phone=people[0][2], services=[KK, JKN]),
    )
    offline = item("c-1", people[2][0], clock, name=people[2][1], phone=people[2][2])
    await client.post("/v1/sessions/s-1/check-ins:batch", json={"items": [offline]})

    async def desk(action: str, queue: str = KK, **body: Any) -> None:
        ticket = (await client.post(f"/v1/sessions/s-1/services/{queue}/call-next")).json()
        url = f"/v1/tickets/{ticket['ticket_id']}"
        await client.post(f"{url}/recall", json={"desk": "meja-1"})
        clock.advance(240)
        response = await client.post(f"{url}/{action}", json=body or None)
        assert response.status_code in (200, 201), response.text

    await desk("complete", outcome="served", note="KK baru dicetak")
    await desk("no-show")
    await desk("transfer", service=JKN, desk="meja-1")
    await desk("complete", queue=JKN, outcome="rejected")

    async def all_published() -> bool:
        async with registry.db.session() as session:
            pending = (
                await session.exec(
                    select(func.count()).where(col(OutboxEvent.published_at).is_(None))
                )
            ).one()
        public = [m for m in seen if not m.subject.startswith("botram.private.")]
        phones = {
            decode_event(m.data).data.phone for m in seen if m.subject.startswith("botram.private.")
        }
        # The outbox keeps published public events a while; a private one (a phone) not at all.
        return (
            pending == 0
            and len(public) == 2 + await outbox_size(registry)
            and phones == {p[2] for p in people}
        )

    await eventually(all_published)
    async with registry.db.session() as session:
        kept = (await session.exec(select(OutboxEvent.subject))).all()
    assert kept and not [subject for subject in kept if subject.startswith("botram.private.")]

    secrets = [value for person in people for value in person]
    secrets += [p[1].split()[0] for p in people] + [p[2].lstrip("+") for p in people]
    types, private = set(), []
    for message in seen:
        event = decode_event(message.data)  # every event validates against its model
        types.add(event.type)
        if message.subject.startswith("botram.private."):
            assert isinstance(event.data, CitizenContactSharedV1)
            private.append(event.data.phone)
            continue
        text = message.subject + message.data.decode()
        assert not [s for s in secrets if s in text], message.subject
    assert set(private) == {p[2] for p in people}
    assert types >= {
        "botram.citizen.checked_in.v1",
        "botram.citizen.tickets_added.v1",
        "botram.citizen.contact_shared.v1",
        "botram.ticket.called.v1",
        "botram.ticket.recalled.v1",
        "botram.service.completed.v1",
        "botram.ticket.no_show.v1",
    }
