"""Scheduler generation over HTTP: preview, idempotent generation, rules changes, demand
rankings, the iCalendar feed, the lifecycle clock and the outbox across a crash."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import holidays
import httpx
import nats
import pytest
from icalendar import Calendar
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import DemandRankedV1, Period, RankedService
from botram_runtime.clock import JAKARTA
from botram_scheduler.handlers import advance_lifecycle
from botram_scheduler.main import create_app
from botram_scheduler.rules import DEFAULT_RULES_PATH
from botram_scheduler.settings import Settings
from helpers import FakeClock, assert_problem, eventually, fetch_events, publish_event, running

SEED = {
    "2024-07-06": ("kecamatan", "sukatani", None),
    "2024-07-09": ("desa", "cikarang-selatan", "ciantra"),
    "2024-07-13": ("kecamatan", "tarumajaya", None),
    "2024-07-20": ("kecamatan", "muara-gembong", None),
    "2024-07-27": ("kecamatan", "setu", None),
}


def jakarta(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), JAKARTA).astimezone(UTC)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """A copy of the shipped rules that a test may edit, as planners edit theirs."""
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_PATH.read_text())
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def july_clock() -> FakeClock:
    """Friday 5 July 2024, the day before the seed's first session."""
    return FakeClock(jakarta(date(2024, 7, 5)))


@pytest.fixture
async def scheduler(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    july_clock: FakeClock,
    rules_file: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        rules_path=rules_file,
        auto_lifecycle=False,  # tests drive the clock's tick themselves
    )
    async with running(create_app(settings, clock=july_clock)) as client:
        yield client


async def generate(
    client: httpx.AsyncClient, start: str, end: str, *, dry_run: bool = False
) -> dict[str, Any]:
    response = await client.post(
        "/v1/schedule/generate", json={"from": start, "to": end, "dry_run": dry_run}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def stream_count(nc: NatsClient) -> int:
    return (await nc.jetstream().stream_info("BOTRAM")).state.messages  # type: ignore[no-any-return]


async def test_the_preview_shows_the_seeds_july_2024_sessions_and_stores_nothing(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    # Any range, past included: with today's clock July 2024 is long gone.
    preview = await generate(scheduler, "2024-07-01", "2024-07-31", dry_run=True)

    found = {s["date"]: (s["level"], s["kecamatan"], s["desa"]) for s in preview["sessions"]}
    assert SEED.items() <= found.items()
    assert {s["action"] for s in preview["sessions"]} == {"preview"}
    assert (preview["from"], preview["to"], preview["created"]) == ("2024-07-01", "2024-07-31", 0)
    assert (await scheduler.get("/v1/sessions")).json()["total"] == 0
    await asyncio.sleep(0.3)  # a stray publish would have landed by now
    assert await stream_count(nc) == 0


async def test_generating_twice_creates_nothing_new(
    scheduler: httpx.AsyncClient, nc: NatsClient
) -> None:
    first = await generate(scheduler, "2024-07-01", "2024-07-31")
    second = await generate(scheduler, "2024-07-01", "2024-07-31")

    # From today (Fri 5 Jul, before the rotations begin): 4 Saturdays and 7 desa days.
    assert first["created"] == 11
    assert second["created"] == 0 and second["rescheduled"] == 0
    assert {s["action"] for s in second["sessions"]} == {"unchanged"}
    events = await fetch_events(nc, "botram.session.>", 11)
    assert {e.type for e in events} == {"botram.session.scheduled.v1"}
    listed = (await scheduler.get("/v1/sessions", params={"limit": 100})).json()
    assert listed["total"] == 11
    by_date = {s["date"]: (s["level"], s["kecamatan"], s["desa"]) for s in listed["items"]}
    assert SEED.items() <= by_date.items()
    await asyncio.sleep(0.3)
    assert await stream_count(nc) == 11


async def test_a_rules_change_moves_future_sessions_and_leaves_opened_ones_alone(
    scheduler: httpx.AsyncClient, nc: NatsClient, rules_file: Path
) -> None:
    await generate(scheduler, "2024-07-01", "2024-07-31")
    sessions = (await scheduler.get("/v1/sessions")).json()["items"]
    ciantra = next(s for s in sessions if s["desa"] == "ciantra")
    await scheduler.post(f"/v1/sessions/{ciantra['id']}/open")
    await fetch_events(nc, "botram.session.>", 12)

    edit(rules_file, 'end = "13:00"', 'end = "12:00"')  # desa days end earlier
    edit(rules_file, '# "2025-10-11" = "Cikarang Pusat"', '"2024-07-20" = "Cikarang Pusat"')
    again = await generate(scheduler, "2024-07-01", "2024-07-31")

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
    assert (await scheduler.get(f"/v1/sessions/{ciantra['id']}")).json()["end"] == "13:00:00"


async def test_a_new_blackout_with_the_skip_policy_cancels_that_future_session(
    scheduler: httpx.AsyncClient, nc: NatsClient, rules_file: Path
) -> None:
    await generate(scheduler, "2024-07-01", "2024-07-31")
    edit(rules_file, 'policy = "move"', 'policy = "skip"')
    edit(
        rules_file,
        '# [[holidays.blackout]]\n# date = 2025-10-10\n# reason = "HUT Kabupaten Bekasi"',
        '[[holidays.blackout]]\ndate = 2024-07-13\nreason = "Banjir di Tarumajaya"',
    )

    again = await generate(scheduler, "2024-07-01", "2024-07-31")

    [cancelled_id] = again["cancelled"]
    cancelled = (await scheduler.get(f"/v1/sessions/{cancelled_id}")).json()
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


async def test_a_demand_ranking_changes_the_services_of_the_next_desa_sessions_only(
    scheduler: httpx.AsyncClient, nc: NatsClient
) -> None:
    before = await generate(scheduler, "2024-07-06", "2024-07-10")
    ranking = DemandRankedV1(
        period=Period(start=date(2024, 6, 1), end=date(2024, 6, 30)),
        level="kecamatan",
        ranking=[
            RankedService(service="bpn-sertifikat-tanah", agency="bpn", tickets=900),
            RankedService(service="diskopukm-pendataan-umkm", agency="diskopukm", tickets=500),
            RankedService(service="distan-vaksin-rabies", agency="distan", tickets=400),
        ],
    )
    event = await publish_event(nc, ranking, "reporting")

    async def ranking_seen() -> bool:
        preview = await generate(scheduler, "2024-07-11", "2024-07-11", dry_run=True)
        return preview["sessions"][0]["ranking_id"] == str(event.id)

    await eventually(ranking_seen)
    after = await generate(scheduler, "2024-07-06", "2024-07-20")

    old_desa = next(s for s in before["sessions"] if s["level"] == "desa")
    assert old_desa["ranking_id"] is None
    for session in after["sessions"]:
        if session["action"] == "unchanged":  # generated before the ranking: untouched
            assert session["ranking_id"] is None
        elif session["level"] == "desa":
            assert session["ranking_id"] == str(event.id)
            # Not desa-eligible services never go to a desa; the top eligible come first.
            assert session["services"][:2] == ["diskopukm-pendataan-umkm", "distan-vaksin-rabies"]
            assert (
                len(session["services"]) == 15 and "bpn-sertifikat-tanah" not in session["services"]
            )
        else:
            assert len(session["services"]) == 45 and session["ranking_id"] is None
    stored = (await scheduler.get(f"/v1/sessions/{old_desa['session_id']}")).json()
    assert stored["services"] == old_desa["services"]
    assert "diskopukm-pendataan-umkm" not in stored["services"]


async def test_the_calendar_feed_parses_back_into_exactly_the_listed_sessions(
    scheduler: httpx.AsyncClient,
) -> None:
    await generate(scheduler, "2024-07-01", "2024-07-31")
    listed = (await scheduler.get("/v1/sessions")).json()["items"]
    setu = next(s for s in listed if s["kecamatan"] == "setu")
    await scheduler.post(f"/v1/sessions/{setu['id']}/cancel", json={"reason": "Hujan deras"})
    listed = (await scheduler.get("/v1/sessions")).json()["items"]

    response = await scheduler.get("/v1/calendar.ics")

    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{s['id']}@botram.bekasikab.go.id" for s in listed}
    for session in listed:
        event = events[f"{session['id']}@botram.bekasikab.go.id"]
        starts = event.decoded("dtstart")
        assert starts.tzinfo is not None and starts.utcoffset() == timedelta(hours=7)
        assert starts.date().isoformat() == session["date"]
        assert starts.time().isoformat() == session["start"]
        assert event.decoded("dtend").time().isoformat() == session["end"]
        assert str(event["status"]) == ("CANCELLED" if session["id"] == setu["id"] else "CONFIRMED")
    assert "TZID=Asia/Jakarta" in response.text and "BEGIN:VTIMEZONE" in response.text

    one_desa = await scheduler.get(
        "/v1/calendar.ics", params={"kecamatan": "Cikarang Selatan", "desa": "Ciantra"}
    )
    [ciantra] = Calendar.from_ical(one_desa.content).walk("VEVENT")
    assert "Ciantra" in str(ciantra["summary"])
    # The same session keeps its UID across requests: calendar apps update it in place.
    assert str(ciantra["uid"]) in events


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"kecamatan": "Setuu"}, 422, "unknown-region"),
        ({"kecamatan": "Setu", "desa": "Ciantra"}, 422, "unknown-region"),
        ({"desa": "Ciantra"}, 422, "kecamatan-required"),
    ],
)
async def test_the_calendar_feed_refuses_unknown_places(
    scheduler: httpx.AsyncClient, params: dict[str, str], status: int, code: str
) -> None:
    assert_problem(await scheduler.get("/v1/calendar.ics", params=params), status, code)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"from": "2024-07-31", "to": "2024-07-01"}, "end-before-start"),
        ({"from": "2024-06-01", "to": "2024-06-30"}, "date-in-past"),
        ({"from": "2024-07-01", "to": "2030-07-01"}, "range-too-long"),
    ],
)
async def test_bad_generation_requests_are_refused_and_leave_nothing_behind(
    scheduler: httpx.AsyncClient, nc: NatsClient, body: dict[str, str], code: str
) -> None:
    assert_problem(await scheduler.post("/v1/schedule/generate", json=body), 422, code)
    assert (await scheduler.get("/v1/sessions")).json()["total"] == 0
    assert await stream_count(nc) == 0


async def test_a_closed_session_cannot_be_rescheduled(
    scheduler: httpx.AsyncClient, nc: NatsClient
) -> None:
    await generate(scheduler, "2024-07-06", "2024-07-06")
    [session] = (await scheduler.get("/v1/sessions")).json()["items"]
    await scheduler.post(f"/v1/sessions/{session['id']}/open")
    await scheduler.post(f"/v1/sessions/{session['id']}/close")

    response = await scheduler.post(
        f"/v1/sessions/{session['id']}/reschedule", json={"date": "2024-07-07", "reason": "x"}
    )

    assert "closed" in assert_problem(response, 409, "invalid-transition")["detail"]
    assert (await scheduler.get(f"/v1/sessions/{session['id']}")).json()["date"] == "2024-07-06"


async def test_the_clock_opens_sessions_at_their_start_and_closes_them_at_their_end(
    scheduler: httpx.AsyncClient, nc: NatsClient, july_clock: FakeClock
) -> None:
    await generate(scheduler, "2024-07-06", "2024-07-06")
    [session] = (await scheduler.get("/v1/sessions")).json()["items"]
    context = scheduler._transport.app.state.context  # type: ignore[attr-defined]

    july_clock.now = jakarta(date(2024, 7, 6), 7)  # before 08:00: nothing yet
    assert await advance_lifecycle(context.db, july_clock) == []
    july_clock.now = jakarta(date(2024, 7, 6), 8)
    [opened] = await advance_lifecycle(context.db, july_clock)
    july_clock.now = jakarta(date(2024, 7, 6), 13)
    assert await advance_lifecycle(context.db, july_clock) == []  # still open mid-day
    july_clock.now = jakarta(date(2024, 7, 6), 14)
    [closed] = await advance_lifecycle(context.db, july_clock)

    assert (opened.id, opened.status, closed.status) == (session["id"], "opened", "closed")
    events = await fetch_events(nc, "botram.session.>", 3)
    assert [e.type for e in events][1:] == ["botram.session.opened.v1", "botram.session.closed.v1"]
    assert (await scheduler.get(f"/v1/sessions/{session['id']}")).json()["status"] == "closed"


async def test_sessions_committed_while_the_bus_is_down_are_published_once_by_the_next_instance(
    own_nats_server: EmbeddedNatsServer, database_url: str, july_clock: FakeClock
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
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
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
    scheduler: httpx.AsyncClient, july_clock: FakeClock
) -> None:
    july_clock.now = jakarta(date(2024, 12, 31))

    year = await generate(scheduler, "2025-01-01", "2025-12-31")

    public = holidays.country_holidays("ID", years=2025)
    cuti_bersama = {date(2025, 4, 2), date(2025, 4, 3), date(2025, 5, 13), date(2025, 12, 26)}
    stored = {s["date"] for s in year["sessions"] if s["action"] == "created"}
    assert len(stored) == year["created"] > 140  # ~156 rotation days, minus days off
    assert not stored & {d.isoformat() for d in set(public) | cuti_bersama}
    moved = {m["date"]: m for m in year["moves"]}
    assert {"2025-04-01", "2025-04-03", "2025-12-25"} <= set(moved)  # Lebaran, cuti, Natal
    assert all(m["action"] == "move" and m["moved_to"] > m["date"] for m in moved.values())
    assert all(m["moved_to"] in stored for m in moved.values() if m["moved_to"] <= "2025-12-31")


async def test_the_running_service_opens_a_session_when_its_clock_reaches_the_start(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, july_clock: FakeClock
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
