"""Scheduler lifecycle: a person and the clock open and close sessions at their times."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from botram_scheduler.usecases import lifecycle
from helpers import FakeClock, assert_problem, eventually, fetch_events, running

Generate = Callable[..., Awaitable[dict[str, Any]]]
Jakarta = Callable[..., datetime]


async def test_a_closed_session_cannot_be_rescheduled(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    generate: Generate,
) -> None:
    await generate(july_scheduler, "2024-07-06", "2024-07-06")
    [session] = (await july_scheduler.get("/v1/sessions")).json()["items"]
    await july_scheduler.post(f"/v1/sessions/{session['id']}/open")
    await july_scheduler.post(f"/v1/sessions/{session['id']}/close")

    response = await july_scheduler.post(
        f"/v1/sessions/{session['id']}/reschedule", json={"date": "2024-07-07", "reason": "x"}
    )

    assert "closed" in assert_problem(response, 409, "invalid-transition")["detail"]
    assert (await july_scheduler.get(f"/v1/sessions/{session['id']}")).json()[
        "date"
    ] == "2024-07-06"


async def test_the_clock_opens_sessions_at_their_start_and_closes_them_at_their_end(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    july_clock: FakeClock,
    generate: Generate,
    jakarta: Jakarta,
) -> None:
    await generate(july_scheduler, "2024-07-06", "2024-07-06")
    [session] = (await july_scheduler.get("/v1/sessions")).json()["items"]
    deps = july_scheduler._transport.app.state.deps  # type: ignore[attr-defined]

    july_clock.now = jakarta(date(2024, 7, 6), 7)  # before 08:00: nothing yet
    assert await lifecycle.advance(deps) == []
    july_clock.now = jakarta(date(2024, 7, 6), 8)
    [opened] = await lifecycle.advance(deps)
    july_clock.now = jakarta(date(2024, 7, 6), 13)
    assert await lifecycle.advance(deps) == []  # still open mid-day
    july_clock.now = jakarta(date(2024, 7, 6), 14)
    [closed] = await lifecycle.advance(deps)

    assert (opened.id, opened.status, closed.status) == (session["id"], "opened", "closed")
    events = await fetch_events(nc, "botram.session.>", 3)
    assert [e.type for e in events][1:] == ["botram.session.opened.v1", "botram.session.closed.v1"]
    assert (await july_scheduler.get(f"/v1/sessions/{session['id']}")).json()["status"] == "closed"


async def test_the_running_service_opens_a_session_when_its_clock_reaches_the_start(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    july_clock: FakeClock,
    generate: Generate,
    jakarta: Jakarta,
) -> None:
    settings = Settings(
        nats_url=nats_server.url, database_url=database_url, outbox_poll_seconds=0.1,
        tick_seconds=0.1,
    )  # fmt: skip
    async with running(create_app(settings, clock=july_clock)) as client:
        await generate(client, "2024-07-06", "2024-07-06")
        [session] = (await client.get("/v1/sessions")).json()["items"]

        july_clock.now = jakarta(date(2024, 7, 6), 8)

        async def opened() -> bool:
            response = await client.get(f"/v1/sessions/{session['id']}")
            return response.json()["status"] == "opened"

        await eventually(opened)
        [event] = await fetch_events(nc, "botram.session.opened.v1.>", 1)
    assert event.data.session_id == session["id"]


async def test_two_replicas_clocks_on_postgresql_open_and_close_each_session_once(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    postgres_url: str,
    july_clock: FakeClock,
    generate: Generate,
    jakarta: Jakarta,
) -> None:
    settings = Settings(
        nats_url=nats_server.url, database_url=postgres_url, outbox_poll_seconds=0.1,
        auto_lifecycle=False,
    )  # fmt: skip
    async with (
        running(create_app(settings, clock=july_clock)) as one,
        running(create_app(settings, clock=july_clock)) as two,
    ):
        await generate(one, "2024-07-01", "2024-07-31")
        days = sorted({s["date"] for s in (await one.get("/v1/sessions")).json()["items"]})
        replicas = [c._transport.app.state.deps for c in (one, two)]  # type: ignore[attr-defined]
        moved: list[tuple[str, str]] = []
        for day in days:
            for hour in (8, 14):
                july_clock.now = jakarta(date.fromisoformat(day), hour)
                for changed in await asyncio.gather(*(lifecycle.advance(d) for d in replicas)):
                    moved += [(row.id, row.status) for row in changed]
        sessions = (await one.get("/v1/sessions", params={"limit": 200})).json()["items"]
        # Three events per session (generated, opened, closed), each once.
        events = await fetch_events(nc, "botram.session.>", len(sessions) * 3)
        await asyncio.sleep(0.3)  # a second announcement would have landed by now
        stored = (await nc.jetstream().stream_info("BOTRAM")).state.messages

    assert sorted(moved) == sorted(
        [(s["id"], "opened") for s in sessions] + [(s["id"], "closed") for s in sessions]
    )
    assert len({e.id for e in events}) == stored == len(sessions) * 3
