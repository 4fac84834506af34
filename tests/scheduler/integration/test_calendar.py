"""Scheduler calendar feed: RFC 5545, one stable VEVENT per session, places checked."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from helpers import assert_problem

Generate = Callable[..., Awaitable[dict[str, Any]]]


async def test_the_calendar_feed_parses_back_into_exactly_the_listed_sessions(
    july_scheduler: httpx.AsyncClient,
    generate: Generate,
) -> None:
    await generate(july_scheduler, "2024-07-01", "2024-07-31")
    listed = (await july_scheduler.get("/v1/sessions")).json()["items"]
    setu = next(s for s in listed if s["kecamatan"] == "setu")
    await july_scheduler.post(f"/v1/sessions/{setu['id']}/cancel", json={"reason": "Hujan deras"})
    listed = (await july_scheduler.get("/v1/sessions")).json()["items"]

    response = await july_scheduler.get("/v1/calendar.ics")

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

    one_desa = await july_scheduler.get(
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
    july_scheduler: httpx.AsyncClient,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    assert_problem(await july_scheduler.get("/v1/calendar.ics", params=params), status, code)
