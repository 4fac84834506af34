"""Scheduler generation over HTTP: preview, idempotent generation, rules changes, holidays and
the outbox across a crash."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import holidays
import httpx
import nats
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from helpers import FakeClock, assert_problem, fetch_events, running, session_issuer

SEED = {
    "2024-07-06": ("kecamatan", "sukatani", None),
    "2024-07-09": ("desa", "cikarang-selatan", "ciantra"),
    "2024-07-13": ("kecamatan", "tarumajaya", None),
    "2024-07-20": ("kecamatan", "muara-gembong", None),
    "2024-07-27": ("kecamatan", "setu", None),
}
Generate = Callable[..., Awaitable[dict[str, Any]]]
StreamCount = Callable[[NatsClient], Awaitable[int]]
EditRules = Callable[[str, str], None]
Jakarta = Callable[..., datetime]


async def test_the_preview_shows_the_seeds_july_2024_sessions_and_stores_nothing(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    generate: Generate,
    stream_count: StreamCount,
) -> None:
    # Any range, past included: with today's clock July 2024 is long gone.
    preview = await generate(july_scheduler, "2024-07-01", "2024-07-31", dry_run=True)

    found = {s["date"]: (s["level"], s["kecamatan"], s["desa"]) for s in preview["sessions"]}
    assert SEED.items() <= found.items()
    assert {s["action"] for s in preview["sessions"]} == {"preview"}
    assert (preview["from"], preview["to"], preview["created"]) == ("2024-07-01", "2024-07-31", 0)
    assert (await july_scheduler.get("/v1/sessions")).json()["total"] == 0
    await asyncio.sleep(0.3)  # a stray publish would have landed by now
    assert await stream_count(nc) == 0


async def test_generating_twice_creates_nothing_new(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    generate: Generate,
    stream_count: StreamCount,
) -> None:
    first = await generate(july_scheduler, "2024-07-01", "2024-07-31")
    second = await generate(july_scheduler, "2024-07-01", "2024-07-31")

    # From today (Fri 5 Jul, before the rotations begin): 4 Saturdays and 7 desa days.
    assert first["created"] == 11
    assert second["created"] == 0 and second["rescheduled"] == 0
    assert {s["action"] for s in second["sessions"]} == {"unchanged"}
    events = await fetch_events(nc, "botram.session.>", 11)
    assert {e.type for e in events} == {"botram.session.scheduled.v1"}
    listed = (await july_scheduler.get("/v1/sessions", params={"limit": 100})).json()
    assert listed["total"] == 11
    by_date = {s["date"]: (s["level"], s["kecamatan"], s["desa"]) for s in listed["items"]}
    assert SEED.items() <= by_date.items()
    await asyncio.sleep(0.3)
    assert await stream_count(nc) == 11


async def test_a_rules_change_moves_future_sessions_and_leaves_opened_ones_alone(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    edit_rules: EditRules,
    generate: Generate,
) -> None:
    await generate(july_scheduler, "2024-07-01", "2024-07-31")
    sessions = (await july_scheduler.get("/v1/sessions")).json()["items"]
    ciantra = next(s for s in sessions if s["desa"] == "ciantra")
    await july_scheduler.post(f"/v1/sessions/{ciantra['id']}/open")
    await fetch_events(nc, "botram.session.>", 12)

    edit_rules('end = "13:00"', 'end = "12:00"')  # desa days end earlier
    edit_rules('# "2025-10-11" = "Cikarang Pusat"', '"2024-07-20" = "Cikarang Pusat"')
    again = await generate(july_scheduler, "2024-07-01", "2024-07-31")

    actions = {(s["date"], s["kecamatan"]): s["action"] for s in again["sessions"]}
    assert actions[("2024-07-09", "cikarang-selatan")] == "kept"  # opened: never changes
    assert actions[("2024-07-06", "sukatani")] == "unchanged"
    assert actions[("2024-07-20", "cikarang-pusat")] == "created"
    assert actions[("2024-07-27", "muara-gembong")] == "rescheduled"
    assert actions[("2024-08-03", "setu")] == "rescheduled"  # pushed past the range, followed
    desa_later = [s for s in again["sessions"] if s["level"] == "desa" and s["date"] > "2024-07-09"]
    assert desa_later and {s["action"] for s in desa_later} == {"rescheduled"}
    assert again["cancelled"] == []
    assert again["rescheduled"] == 2 + len(desa_later)
    events = await fetch_events(nc, "botram.session.>", 12 + 1 + again["rescheduled"])
    moved = [e for e in events if e.type == "botram.session.rescheduled.v1"]
    assert len(moved) == again["rescheduled"]
    assert all(e.data.session_id != ciantra["id"] for e in moved)
    assert (await july_scheduler.get(f"/v1/sessions/{ciantra['id']}")).json()["end"] == "13:00:00"


async def test_a_new_blackout_with_the_skip_policy_cancels_that_future_session(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    edit_rules: EditRules,
    generate: Generate,
) -> None:
    await generate(july_scheduler, "2024-07-01", "2024-07-31")
    edit_rules('policy = "move"', 'policy = "skip"')
    edit_rules(
        '# [[holidays.blackout]]\n# date = 2025-10-10\n# reason = "HUT Kabupaten Bekasi"',
        '[[holidays.blackout]]\ndate = 2024-07-13\nreason = "Banjir di Tarumajaya"',
    )

    again = await generate(july_scheduler, "2024-07-01", "2024-07-31")

    [cancelled_id] = again["cancelled"]
    cancelled = (await july_scheduler.get(f"/v1/sessions/{cancelled_id}")).json()
    assert (cancelled["kecamatan"], cancelled["status"]) == ("tarumajaya", "cancelled")
    assert "Banjir di Tarumajaya" in cancelled["status_reason"]
    assert again["moves"] == [
        {
            "date": "2024-07-13",
            "level": "kecamatan",
            "reason": "Banjir di Tarumajaya",
            "action": "skip",
            "kecamatan": "tarumajaya",
            "desa": None,
            "moved_to": None,
        }
    ]
    assert again["rescheduled"] == 0  # skip: nobody else moves
    events = await fetch_events(nc, "botram.session.cancelled.v1.>", 1)
    assert events[0].data.session_id == cancelled_id


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"from": "2024-07-31", "to": "2024-07-01"}, "end-before-start"),
        ({"from": "2024-06-01", "to": "2024-06-30"}, "date-in-past"),
        ({"from": "2024-07-01", "to": "2030-07-01"}, "range-too-long"),
    ],
)
async def test_bad_generation_requests_are_refused_and_leave_nothing_behind(
    july_scheduler: httpx.AsyncClient,
    nc: NatsClient,
    body: dict[str, str],
    code: str,
    stream_count: StreamCount,
) -> None:
    assert_problem(await july_scheduler.post("/v1/schedule/generate", json=body), 422, code)
    assert (await july_scheduler.get("/v1/sessions")).json()["total"] == 0
    assert await stream_count(nc) == 0


async def test_sessions_committed_while_the_bus_is_down_are_published_once_by_the_next_instance(
    own_nats_server: EmbeddedNatsServer,
    database_url: str,
    july_clock: FakeClock,
    generate: Generate,
    stream_count: StreamCount,
) -> None:
    settings = Settings(
        nats_url=own_nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        auto_lifecycle=False,
    )
    own_nats_server.stop()  # the commit happens, the publish cannot: as if killed in between
    first = create_app(settings, clock=july_clock)
    async with first.router.lifespan_context(first):
        transport = httpx.ASGITransport(app=first)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://service",
            headers=session_issuer().headers("planner"),
        ) as client:
            created = await generate(client, "2024-07-06", "2024-07-13")
    assert created["created"] == 4

    own_nats_server.start()
    async with running(create_app(settings, clock=july_clock)) as client:
        nc = await nats.connect(own_nats_server.url)
        try:
            events = await fetch_events(nc, "botram.session.>", 4, within=30)
            assert {e.data.session_id for e in events} == {
                s["session_id"] for s in created["sessions"]
            }
            await asyncio.sleep(0.5)  # a duplicate publish would have landed by now
            assert await stream_count(nc) == 4
            again = await generate(client, "2024-07-06", "2024-07-13")
            assert again["created"] == 0
        finally:
            await nc.close()


async def test_generating_all_of_2025_puts_nothing_on_a_holiday_and_reports_every_move(
    july_scheduler: httpx.AsyncClient,
    july_clock: FakeClock,
    generate: Generate,
    jakarta: Jakarta,
) -> None:
    july_clock.now = jakarta(date(2024, 12, 31))

    year = await generate(july_scheduler, "2025-01-01", "2025-12-31")

    public = holidays.country_holidays("ID", years=2025)
    cuti_bersama = {date(2025, 4, 2), date(2025, 4, 3), date(2025, 5, 13), date(2025, 12, 26)}
    stored = {s["date"] for s in year["sessions"] if s["action"] == "created"}
    assert len(stored) == year["created"] > 140  # ~156 rotation days, minus days off
    assert not stored & {d.isoformat() for d in set(public) | cuti_bersama}
    moved = {m["date"]: m for m in year["moves"]}
    assert {"2025-04-01", "2025-04-03", "2025-12-25"} <= set(moved)  # Lebaran, cuti, Natal
    assert all(m["action"] == "move" and m["moved_to"] > m["date"] for m in moved.values())
    assert all(m["moved_to"] in stored for m in moved.values() if m["moved_to"] <= "2025-12-31")
