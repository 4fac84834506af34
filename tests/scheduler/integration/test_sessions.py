"""Scheduler: sessions by hand, their lifecycle, and the events they publish."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_contracts.events import CloudEvent
from botram_runtime.clock import local_today
from helpers import FakeClock, assert_problem, fetch_events, session_issuer


async def session_events(nc: NatsClient, count: int) -> list[CloudEvent[Any]]:
    return await fetch_events(nc, "botram.session.>", count)


def sukatani_today(clock: FakeClock, **overrides: object) -> dict[str, object]:
    return {
        "level": "kecamatan",
        "kecamatan": "Sukatani",
        "date": local_today(clock).isoformat(),
    } | overrides


async def test_a_session_created_by_hand_is_scheduled_and_announced(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    response = await scheduler.post("/v1/sessions", json=sukatani_today(clock))

    assert response.status_code == 201, response.text
    session = response.json()
    assert session["status"] == "scheduled"
    assert session["kecamatan"] == "sukatani"
    assert len(session["services"]) >= 40  # a kecamatan session offers the whole catalogue
    [event] = await session_events(nc, 1)
    assert event.type == "botram.session.scheduled.v1"
    assert event.subject == "botram.session.scheduled.v1.kecamatan.sukatani"
    assert event.data.session_id == session["id"]
    assert event.data.services == session["services"]


async def test_a_desa_session_needs_a_desa_of_that_kecamatan(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    ok = await scheduler.post(
        "/v1/sessions",
        json=sukatani_today(clock, level="desa", kecamatan="Cikarang Selatan", desa="Ciantra"),
    )
    wrong = await scheduler.post(
        "/v1/sessions", json=sukatani_today(clock, level="desa", desa="Ciantra")
    )

    assert ok.status_code == 201 and ok.json()["desa"] == "ciantra"
    body = assert_problem(wrong, 422, "unknown-region")
    assert "Cikarang Selatan" in body["detail"]


async def test_an_unknown_kecamatan_suggests_the_closest_names(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    response = await scheduler.post(
        "/v1/sessions", json=sukatani_today(clock, kecamatan="Muara Gembung")
    )

    assert "Muara Gembong" in assert_problem(response, 422, "unknown-region")["detail"]


async def test_a_kecamatan_written_without_its_space_is_recognised(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    # The seed itself writes "Muaragembong" for Kecamatan Muara Gembong.
    response = await scheduler.post(
        "/v1/sessions", json=sukatani_today(clock, kecamatan="Muaragembong")
    )

    assert response.status_code == 201, response.text
    assert response.json()["kecamatan"] == "muara-gembong"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"start": "14:00", "end": "08:00"}, "end-before-start"),
        ({"services": ["no-such-service"]}, "unknown-service"),
    ],
)
async def test_bad_sessions_are_refused_with_the_rule_they_break(
    scheduler: httpx.AsyncClient, clock: FakeClock, overrides: dict[str, object], code: str
) -> None:
    response = await scheduler.post("/v1/sessions", json=sukatani_today(clock, **overrides))

    assert_problem(response, 422, code)


async def test_a_session_in_the_past_is_refused_and_leaves_nothing_behind(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    yesterday = (local_today(clock) - timedelta(days=1)).isoformat()

    response = await scheduler.post("/v1/sessions", json=sukatani_today(clock, date=yesterday))

    assert_problem(response, 422, "date-in-past")
    assert (await scheduler.get("/v1/sessions")).json()["total"] == 0
    assert (await nc.jetstream().stream_info("BOTRAM")).state.messages == 0


async def test_malformed_json_is_a_422_problem(scheduler: httpx.AsyncClient) -> None:
    response = await scheduler.post(
        "/v1/sessions", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert_problem(response, 422, "invalid-request")


async def test_the_lifecycle_publishes_each_change_and_refuses_impossible_steps(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = (await scheduler.post("/v1/sessions", json=sukatani_today(clock))).json()["id"]

    opened = await scheduler.post(f"/v1/sessions/{session_id}/open")
    cancel_opened = await scheduler.post(
        f"/v1/sessions/{session_id}/cancel",
        json={"reason": "x"},
        headers=session_issuer().headers("planner"),
    )
    closed = await scheduler.post(f"/v1/sessions/{session_id}/close")
    cancel_closed = await scheduler.post(f"/v1/sessions/{session_id}/cancel", json={"reason": "x"})

    assert opened.json()["status"] == "opened"
    assert_problem(cancel_opened, 403, "operator-cancels-opened")  # an operator's call
    assert closed.json()["status"] == "closed"
    assert_problem(cancel_closed, 409, "invalid-transition")
    events = await session_events(nc, 3)
    assert [e.type for e in events] == [
        "botram.session.scheduled.v1",
        "botram.session.opened.v1",
        "botram.session.closed.v1",
    ]


async def test_an_operator_cancels_an_opened_session_with_the_reason(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = (await scheduler.post("/v1/sessions", json=sukatani_today(clock))).json()["id"]
    await scheduler.post(f"/v1/sessions/{session_id}/open")

    cancelled = await scheduler.post(
        f"/v1/sessions/{session_id}/cancel",
        json={"reason": "banjir di lokasi"},
        headers=session_issuer().headers("operator"),
    )

    assert cancelled.json()["status"] == "cancelled"
    events = await session_events(nc, 3)
    assert events[-1].type == "botram.session.cancelled.v1"
    assert events[-1].data.reason == "banjir di lokasi"


async def test_an_unknown_session_is_a_404_problem(scheduler: httpx.AsyncClient) -> None:
    assert_problem(await scheduler.post("/v1/sessions/nope/open"), 404, "session-not-found")


async def test_sessions_are_listed_by_date_with_filters(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    today = local_today(clock)
    for days, kecamatan in ((2, "Setu"), (1, "Tarumajaya"), (3, "Setu")):
        day = (today + timedelta(days=days)).isoformat()
        await scheduler.post(
            "/v1/sessions", json=sukatani_today(clock, kecamatan=kecamatan, date=day)
        )

    page = (await scheduler.get("/v1/sessions", params={"kecamatan": "setu", "limit": 1})).json()

    assert page["total"] == 2
    assert [s["date"] for s in page["items"]] == [(today + timedelta(days=2)).isoformat()]


async def test_readiness_reports_the_bus_and_the_database(scheduler: httpx.AsyncClient) -> None:
    response = await scheduler.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "bus": True}


async def test_a_time_with_an_offset_is_converted_to_wib_and_announced_without_one(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    response = await scheduler.post(
        "/v1/sessions", json=sukatani_today(clock, start="01:30:00Z", end="14:00:00+07:00")
    )

    assert response.status_code == 201, response.text
    assert (response.json()["start"], response.json()["end"]) == ("08:30:00", "14:00:00")
    [event] = await session_events(nc, 1)
    assert event.model_dump(mode="json")["data"]["start"] == "08:30:00"


async def test_an_end_before_the_start_across_offsets_is_refused_not_a_500(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    response = await scheduler.post(
        "/v1/sessions", json=sukatani_today(clock, start="09:00:00+07:00", end="01:00:00Z")
    )

    assert_problem(response, 422)


async def test_an_offset_beyond_what_a_database_holds_is_a_422(
    scheduler: httpx.AsyncClient,
) -> None:
    response = await scheduler.get("/v1/sessions", params={"offset": 2**63})

    assert_problem(response, 422)
