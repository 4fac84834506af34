"""Who may call each scheduler route (docs/operations.md, "Access")."""

from datetime import timedelta

import httpx
from fastapi import FastAPI

from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from helpers import PUBLIC, FakeClock, assert_access_matrix, running

PLANNING = {"planner", "operator"}
ORGANISING = {"operator"}
COMMON = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/asyncapi"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/v1/audit"): ORGANISING,
}
MATRIX = COMMON | {
    ("POST", "/v1/sessions"): PLANNING,
    ("GET", "/v1/sessions"): PUBLIC,
    ("GET", "/v1/sessions/{session_id}"): PUBLIC,
    ("PATCH", "/v1/sessions/{session_id}"): PLANNING,
    ("POST", "/v1/sessions/{session_id}/open"): ORGANISING,
    ("POST", "/v1/sessions/{session_id}/close"): ORGANISING,
    ("POST", "/v1/sessions/{session_id}/cancel"): PLANNING,
    ("POST", "/v1/sessions/{session_id}/reschedule"): PLANNING,
    ("POST", "/v1/schedule/generate"): PLANNING,
    ("GET", "/v1/calendar.ics"): PUBLIC,
    ("GET", "/planner"): PUBLIC,
    ("GET", "/planner/month"): PUBLIC,
}


async def test_every_route_answers_each_role_as_the_matrix_says(
    nats_server: object, database_url: str
) -> None:
    settings = Settings(
        nats_url=nats_server.url,  # type: ignore[attr-defined]
        database_url=database_url,
        auto_lifecycle=False,
    )
    app: FastAPI = create_app(settings)
    async with running(app) as client:
        await assert_access_matrix(client, app, MATRIX)


async def test_a_change_is_audited_with_its_actor(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    tomorrow = (clock.now + timedelta(days=1)).date().isoformat()
    created = await scheduler.post(
        "/v1/sessions",
        json={"level": "kecamatan", "kecamatan": "Sukatani", "date": tomorrow},
    )
    trail = await scheduler.get("/v1/audit", params={"session_id": created.json()["id"]})

    assert created.status_code == 201, created.text
    assert [entry["action"] for entry in trail.json()] == ["create_session"]
    assert {"planner", "operator"} <= set(trail.json()[0]["roles"])
