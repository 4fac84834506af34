"""Who may call each reporting route (docs/operations.md, "Access"): reports are for viewers,
planners and operators (their screen, `/reports`, is a public shell); only an operator
publishes a demand ranking, and it is audited."""

from typing import Any

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient

from botram_reporting.main import create_app
from botram_reporting.settings import Settings
from helpers import (
    PUBLIC,
    assert_access_matrix,
    assert_problem,
    fetch_events,
    running,
    session_issuer,
)

READERS = {"viewer", "operator", "planner"}
COMMON: dict[tuple[str, str], str | set[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/asyncapi"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/v1/audit"): {"operator"},
}
MATRIX: dict[tuple[str, str], str | set[str]] = COMMON | {
    ("GET", "/reports"): PUBLIC,
    ("GET", "/v1/reports/sessions"): READERS,
    ("GET", "/v1/reports/sessions/{session_id}"): READERS,
    ("GET", "/v1/reports/sessions/{session_id}/print"): READERS,
    ("GET", "/v1/reports/summary"): READERS,
    ("GET", "/v1/reports/demand"): READERS,
    ("GET", "/v1/reports/ikm"): READERS,
    ("POST", "/v1/reports/demand/publish"): {"operator"},
}
RANKED = "botram.demand.ranked.v1.kecamatan"


async def test_every_route_answers_each_role_as_the_matrix_says(settings: Settings) -> None:
    app: FastAPI = create_app(settings)
    async with running(app) as client:
        await assert_access_matrix(client, app, MATRIX)


async def audit_trail(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit", headers=session_issuer().headers("operator"))
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_publishing_a_ranking_is_audited_with_its_operator(
    settings: Settings, nc: NatsClient
) -> None:
    operator = session_issuer().headers("operator", subject="operator-7")
    async with running(create_app(settings), headers={}) as client:
        published = await client.post(
            "/v1/reports/demand/publish", json={"to": "2024-07-06"}, headers=operator
        )
        trail = await audit_trail(client)

    assert published.status_code == 202, published.text
    (entry,) = trail
    assert (entry["action"], entry["actor"], entry["roles"]) == (
        "publish_demand_ranking",
        "operator-7",
        ["operator"],
    )
    assert entry["resource_ids"] == {"event_id": published.json()["event_id"], "level": "kecamatan"}


async def test_forged_tokens_publish_nothing_and_leave_no_trail(
    settings: Settings, nc: NatsClient
) -> None:
    forged = session_issuer().forged_tokens("operator", "viewer")
    async with running(create_app(settings), headers={}) as client:
        for name, token in forged.items():
            headers = {"Authorization": f"Bearer {token}"}
            for method, path in [
                ("POST", "/v1/reports/demand/publish"),
                ("GET", "/v1/reports/summary"),
            ]:
                answer = await client.request(method, path, json={}, headers=headers)
                assert_problem(answer, 401, "unauthenticated")
                assert 'error="invalid_token"' in answer.headers["www-authenticate"], name
        trail_after_forgeries = await audit_trail(client)
        # One real publish afterwards: the outbox keeps order, so a forged publish staged
        # before it would be on the stream before it.
        real = await client.post(
            "/v1/reports/demand/publish", json={}, headers=session_issuer().headers("operator")
        )
        (event,) = await fetch_events(nc, RANKED, 1)
        info = await nc.jetstream().stream_info("BOTRAM", subjects_filter=RANKED)

    assert trail_after_forgeries == []
    assert real.status_code == 202, real.text
    assert str(event.id) == real.json()["event_id"]
    assert info.state.subjects == {RANKED: 1}
