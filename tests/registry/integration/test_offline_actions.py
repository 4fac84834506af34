"""Offline desks' calls, outcomes and no-shows, and uploads after the close, on a real
nats-server and database: applied at the time recorded, in order, once; conflicts with what
happened online resolved by the first-recorded-wins rule and reported per item."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_contracts.events import (
    CitizenCheckedInV1,
    ServiceCompletedV1,
    SessionClosedV1,
    TicketCalledV1,
    TicketExpiredV1,
    TicketNoShowV1,
)
from botram_registry.deps import Deps
from botram_registry.store import CitizenRow, OutboxEvent
from botram_runtime.clock import JAKARTA, local_today
from helpers import FakeClock, assert_problem, fetch_events, publish_event, session_issuer

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"
SUKATANI = {"level": "kecamatan", "kecamatan": "sukatani"}
# 09:00 WIB on a Tuesday: the session's day.
MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
BATCH = "/v1/sessions/s-1/check-ins:batch"

AnnounceSession = Callable[..., Awaitable[None]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
Citizen = Callable[..., dict[str, Any]]


def at(hour: int, minute: int = 0) -> str:
    """A time of the session's day as a device records it (WIB, with its offset)."""
    return datetime(2026, 12, 1, hour, minute, tzinfo=JAKARTA).isoformat()


def action(kind: str, client_id: str, recorded_at: str, **ticket: Any) -> dict[str, Any]:
    return {"kind": kind, "client_id": client_id, "recorded_at": recorded_at} | ticket


@pytest.fixture
async def opened(
    app_and_client: tuple[Deps, httpx.AsyncClient],
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
) -> httpx.AsyncClient:
    """Session s-1 at Sukatani, opened on the morning of 1 December 2026."""
    clock.now = MORNING
    await announce_session()
    await known_session(app_and_client[1], "s-1", "opened")
    return app_and_client[1]


async def close(nc: NatsClient, clock: FakeClock, client: httpx.AsyncClient, known: Any) -> None:
    closed = SessionClosedV1(
        session_id="s-1", date=local_today(clock), closed_at=clock(), **SUKATANI
    )
    await publish_event(nc, closed, "scheduler")
    await known(client, "s-1", "closed")


async def test_offline_calls_and_outcomes_apply_at_their_recorded_time_in_order_and_once(
    opened: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    clock: FakeClock,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    client = opened
    clock.now = MORNING + timedelta(hours=3)  # the upload, at noon
    batch = {
        "device_id": "tablet-1",
        "items": [
            {"client_id": "c-1", "recorded_at": at(9, 10)} | citizen(nik_for(1), services=[KK]),
            action("call", "a-1", at(9, 30), check_in="c-1", desk="meja-2"),
            action("outcome", "a-2", at(9, 45), check_in="c-1", outcome="served"),
            {"kind": "check_in", "client_id": "c-2", "recorded_at": at(9, 20)}
            | citizen(nik_for(2), services=[KK, JKN]),
            action("call", "a-3", at(9, 50), check_in="c-2", service=KK),
            action("no_show", "a-4", at(10, 0), number="kk-002"),
        ],
    }

    first = await client.post(BATCH, json=batch)
    events_after_first = await _outbox_size(deps)
    replay = await client.post(BATCH, json=batch)

    assert first.status_code == 200, first.text
    results = {r["client_id"]: r for r in first.json()["results"]}
    assert [r["result"] for r in results.values()] == [
        "created",
        "applied",
        "applied",
        "created",
        "applied",
        "applied",
    ]
    served = results["a-2"]["ticket"]
    assert (served["number"], served["status"], served["outcome"]) == (
        "KK-001",
        "completed",
        "served",
    )
    assert served["issued_at"].startswith("2026-12-01T02:10")  # 09:10 WIB, as recorded
    assert served["called_at"].startswith("2026-12-01T02:30")
    assert served["completed_at"].startswith("2026-12-01T02:45")
    assert [step["action"] for step in served["history"]] == ["call_out_of_turn", "complete"]
    assert results["a-4"]["ticket"]["status"] == "no_show"
    assert {r["result"] for r in replay.json()["results"]} == {"replayed"}
    assert replay.json()["results"][2]["ticket"] == served
    assert await _outbox_size(deps) == events_after_first
    [checked_in, _] = await fetch_events(nc, "botram.citizen.checked_in.v1.>", 2)
    [call, _] = await fetch_events(nc, "botram.ticket.called.v1.>", 2)
    [completed] = await fetch_events(nc, "botram.service.completed.v1.>", 1)
    [no_show] = await fetch_events(nc, "botram.ticket.no_show.v1.>", 1)
    assert isinstance(checked_in.data, CitizenCheckedInV1)
    assert checked_in.data.checked_in_at == datetime(2026, 12, 1, 2, 10, tzinfo=UTC)
    assert checked_in.data.recorded_offline is True
    assert isinstance(call.data, TicketCalledV1)
    assert (call.data.called_at, call.data.waited_seconds) == (
        datetime(2026, 12, 1, 2, 30, tzinfo=UTC),
        20 * 60,
    )
    assert call.data.recorded_offline and call.data.out_of_turn and call.data.desk == "meja-2"
    assert isinstance(completed.data, ServiceCompletedV1)
    assert (completed.data.service_seconds, completed.data.recorded_offline) == (15 * 60, True)
    assert isinstance(no_show.data, TicketNoShowV1)
    assert no_show.data.no_show_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    queue = (await client.get("/v1/sessions/s-1/queue")).json()["services"]
    assert {s["service"]: s["waiting"] for s in queue} == {KK: 0, JKN: 1}


async def test_what_happened_online_first_wins_and_the_later_offline_action_is_a_conflict(
    opened: httpx.AsyncClient,
    clock: FakeClock,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    client = opened
    for n in (1, 2):
        await client.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(n), services=[KK]))
    clock.now = MORNING + timedelta(minutes=30)  # 09:30 WIB
    first = (await client.post(f"/v1/sessions/s-1/services/{KK}/call-next")).json()
    clock.advance(600)
    await client.post(f"/v1/tickets/{first['ticket_id']}/complete", json={"outcome": "served"})
    clock.advance(60)
    await client.post(f"/v1/sessions/s-1/services/{KK}/call-next")  # KK-002, at 09:41
    clock.now = MORNING + timedelta(hours=4)

    uploaded = await client.post(
        BATCH,
        json={
            "items": [
                # KK-001: completed online at 09:40, completed again offline at 09:50.
                action("outcome", "a-1", at(9, 50), number="KK-001", outcome="rejected"),
                # KK-002: called online at 09:41; the offline call of it at 09:45 is a
                # conflict, its no-show at 09:55 (after the online call) applies.
                action("call", "a-2", at(9, 45), number="KK-002"),
                action("no_show", "a-3", at(9, 55), number="KK-002"),
                # A no-show recorded before the online call: the ticket changed since.
                action("no_show", "a-4", at(9, 35), ticket_id=first["ticket_id"]),
                action("call", "a-5", at(9, 0), number="KK-999"),
                action("call", "a-6", at(9, 0), check_in="never-uploaded"),
            ]
        },
    )

    results = {r["client_id"]: r for r in uploaded.json()["results"]}
    assert {k: r["result"] for k, r in results.items()} == {
        "a-1": "conflict",
        "a-2": "conflict",
        "a-3": "applied",
        "a-4": "conflict",
        "a-5": "rejected",
        "a-6": "rejected",
    }
    assert {r["problem"]["code"] for k, r in results.items() if k in ("a-1", "a-2", "a-4")} == {
        "offline-conflict"
    }
    assert "first recorded wins" in results["a-1"]["problem"]["detail"]
    assert results["a-5"]["problem"]["code"] == "ticket-not-found"
    ticket = (await client.get(f"/v1/tickets/{first['ticket_id']}")).json()
    assert (ticket["status"], ticket["outcome"]) == ("completed", "served")  # nothing undone


async def test_a_batch_is_accepted_after_the_close_within_the_grace_period_then_refused(
    opened: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    clock: FakeClock,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    client = opened
    online = await client.post(
        "/v1/sessions/s-1/check-ins", json=citizen(nik_for(1), services=[KK])
    )
    clock.now = MORNING + timedelta(hours=4)  # 13:00 WIB: the scheduler closes the session
    await close(nc, clock, client, known_session)
    clock.advance(30 * 3600)  # the desk's connection comes back the next evening
    batch = {
        "items": [
            # The online ticket, expired by the close, was served offline before it.
            action("call", "a-1", at(11, 0), number="KK-001"),
            action("outcome", "a-2", at(11, 10), number="KK-001", outcome="served"),
            {"client_id": "c-2", "recorded_at": at(11, 20)}
            | citizen(nik_for(2), services=[KK], phone="081234567890"),
            {"client_id": "c-3", "recorded_at": at(11, 30)} | citizen(nik_for(3), services=[KK]),
            action("call", "a-3", at(11, 40), check_in="c-3"),
            action("outcome", "a-4", at(11, 50), check_in="c-3", outcome="referred"),
            # Recorded the next morning: not this session's day.
            {"client_id": "c-4", "recorded_at": at(11, 0).replace("12-01", "12-02")}
            | citizen(nik_for(4), services=[KK]),
        ]
    }

    late = await client.post(BATCH, json=batch)
    clock.advance(42 * 3600 + 1)  # 72 hours and a second after the close
    too_late = await client.post(BATCH, json=batch)

    assert late.status_code == 200, late.text
    assert [r["result"] for r in late.json()["results"]] == [
        "applied",
        "applied",
        "created",
        "created",
        "applied",
        "applied",
        "rejected",
    ]
    assert late.json()["results"][-1]["problem"]["code"] == "recorded-outside-session-day"
    tickets = {r["client_id"]: r for r in late.json()["results"]}
    uncalled = tickets["c-2"]["check_in"]["tickets"][0]["ticket_id"]
    assert (await client.get(f"/v1/tickets/{uncalled}")).json()["status"] == "expired"
    served = (await client.get(f"/v1/tickets/{online.json()['tickets'][0]['ticket_id']}")).json()
    assert (served["status"], served["outcome"]) == ("completed", "served")
    assert_problem(too_late, 409, "offline-grace-over")
    # The close erased the session's phones: an upload after it stores and shares none.
    async with deps.db.session() as session:
        phones = (await session.exec(select(CitizenRow.phone))).all()
    assert phones == [None, None, None]
    expired = await fetch_events(nc, "botram.ticket.expired.v1.>", 2)
    assert {e.data.number for e in expired if isinstance(e.data, TicketExpiredV1)} == {
        "KK-001",  # at the close
        "KK-002",  # after the upload: nobody called it
    }


async def test_each_item_needs_the_role_of_its_kind(
    opened: httpx.AsyncClient,
    clock: FakeClock,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    client = opened
    await client.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(1), services=[KK, JKN]))
    items = [
        {"client_id": "c-1", "recorded_at": at(9, 10)} | citizen(nik_for(2), services=[KK]),
        action("call", "a-1", at(9, 20), number="KK-001"),
        action("call", "a-2", at(9, 20), number="JKN-001"),
    ]

    def as_(*roles: str, **claims: Any) -> dict[str, str]:
        return session_issuer().headers(*roles, **claims)

    front = await client.post(BATCH, json={"items": items}, headers=as_("front-desk"))
    desk = await client.post(
        BATCH, json={"items": items}, headers=as_("desk", agency="dukcapil", subject="kk-1")
    )
    viewer = await client.post(BATCH, json={"items": items}, headers=as_("viewer"))

    def outcome(response: httpx.Response) -> list[tuple[str, int | None]]:
        return [
            (r["result"], r["problem"]["status"] if r["problem"] else None)
            for r in response.json()["results"]
        ]

    assert outcome(front) == [("created", None), ("rejected", 403), ("rejected", 403)]
    assert outcome(desk) == [("rejected", 403), ("applied", None), ("rejected", 403)]
    assert_problem(viewer, 403, "role-required")


@pytest.mark.parametrize(
    "item",
    [
        action("transfer", "a-1", at(9, 0), number="KK-001"),
        action("call", "a-1", at(9, 0)),  # no ticket named
        action("call", "a-1", at(9, 0), number="KK-001", ticket_id="t-1"),  # two
        action("outcome", "a-1", at(9, 0), number="KK-001"),  # no outcome
        action("call", "a-1", "2026-12-01T09:00:00", number="KK-001"),  # no offset
    ],
)
async def test_a_malformed_item_refuses_the_batch(
    opened: httpx.AsyncClient, item: dict[str, Any]
) -> None:
    assert_problem(await opened.post(BATCH, json={"items": [item]}), 422, "invalid-request")


async def _outbox_size(deps: Deps) -> int:
    async with deps.db.session() as session:
        return len((await session.exec(select(OutboxEvent.event_id))).all())
