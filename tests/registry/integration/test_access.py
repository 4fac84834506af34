"""Who may call each registry route (docs/operations.md, "Access"), and the issue's attacks."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import CitizenContactSharedV1, TicketCalledV1
from botram_registry.deps import Deps
from botram_registry.main import create_app
from botram_registry.settings import Settings
from botram_registry.store import CitizenRow
from helpers import (
    PUBLIC,
    assert_access_matrix,
    assert_problem,
    fetch_events,
    running,
    session_issuer,
)

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"
NIK = "3216054507900001"
Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]

FRONT_DESK = {"front-desk", "operator"}
DESK = {"desk", "operator"}
ORGANISING = {"operator"}
MATRIX = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/asyncapi"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/v1/audit"): ORGANISING,
    ("POST", "/v1/sessions/{session_id}/check-ins"): FRONT_DESK,
    ("POST", "/v1/sessions/{session_id}/check-ins:batch"): FRONT_DESK | DESK,
    ("PUT", "/v1/check-ins/{check_in_id}/contact"): FRONT_DESK,
    ("POST", "/v1/sessions/{session_id}/services/{service}/call-next"): DESK,
    ("GET", "/v1/sessions/{session_id}/tickets/{number}"): DESK,
    ("POST", "/v1/sessions/{session_id}/tickets/{number}/call"): DESK,
    ("POST", "/v1/tickets/{ticket_id}/complete"): DESK,
    ("POST", "/v1/tickets/{ticket_id}/no-show"): DESK,
    ("POST", "/v1/tickets/{ticket_id}/recall"): DESK,
    ("POST", "/v1/tickets/{ticket_id}/transfer"): DESK,
    ("GET", "/v1/tickets/{ticket_id}"): DESK,
    ("POST", "/v1/tickets/{ticket_id}/follow-ups"): {"agency", "desk"},
    ("GET", "/v1/sessions/{session_id}/queue"): PUBLIC,
    ("POST", "/v1/sessions/{session_id}/pre-registrations"): FRONT_DESK,
    ("POST", "/v1/sessions/{session_id}/pre-registrations/{code}/check-in"): FRONT_DESK,
    ("GET", "/v1/sessions/{session_id}/slots"): PUBLIC,
    # The screens (contract, "Screens") and the JSON only they use.
    ("POST", "/v1/nik-checks"): FRONT_DESK,
    ("GET", "/v1/open-sessions"): PUBLIC,
    ("GET", "/v1/ticket-status/{code}"): PUBLIC,
    ("POST", "/v1/ticket-status/{code}/survey"): PUBLIC,
    ("GET", "/v1/sessions/{session_id}/display"): PUBLIC,
    ("GET", "/front-desk"): PUBLIC,
    ("GET", "/desk"): PUBLIC,
    ("GET", "/display/{session_id}"): PUBLIC,
    ("GET", "/t/{code}"): PUBLIC,
    ("GET", "/t/{code}/slip"): PUBLIC,
    ("GET", "/p/{code}"): PUBLIC,
}


async def test_every_route_answers_each_role_as_the_matrix_says(
    nats_server: EmbeddedNatsServer, database_url: str
) -> None:
    settings = Settings(nats_url=nats_server.url, database_url=database_url)
    app: FastAPI = create_app(settings)
    async with running(app) as client:
        await assert_access_matrix(client, app, MATRIX)


async def opened(
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    registry: httpx.AsyncClient,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")


async def waiting(registry: httpx.AsyncClient) -> dict[str, int]:
    queue = (await registry.get("/v1/sessions/s-1/queue")).json()
    return {s["service"]: s["waiting"] for s in queue["services"]}


def desk_of(agency: str, sub: str = "desk-7", **claims: Any) -> dict[str, str]:
    return session_issuer().headers("desk", agency=agency, subject=sub, **claims)


async def test_forged_tokens_are_refused_and_change_nothing(
    registry: httpx.AsyncClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await opened(announce_session, known_session, registry)
    forged = session_issuer().forged_tokens("front-desk", "operator")

    for what, token in forged.items():
        headers = {"Authorization": f"Bearer {token}"}
        answer = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(), headers=headers)
        contact = await registry.put(
            "/v1/check-ins/any/contact", json={"phone": "081299990000"}, headers=headers
        )

        for refused in (answer, contact):
            assert_problem(refused, 401, "unauthenticated")
            assert 'error="invalid_token"' in refused.headers["www-authenticate"], what
            assert token not in refused.text, what
    assert sum((await waiting(registry)).values()) == 0
    assert (await registry.get("/v1/audit")).json() == []


async def test_a_desk_acts_only_on_its_own_agencys_queue_and_tickets(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await opened(announce_session, known_session, registry)
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen())

    dukcapil_on_bpjs = await registry.post(
        f"/v1/sessions/s-1/services/{JKN}/call-next", headers=desk_of("dukcapil")
    )
    other_service = await registry.post(
        f"/v1/sessions/s-1/services/{KK}/call-next",
        headers=desk_of("dukcapil", services=["dukcapil-akta-lahir"]),
    )
    assert await waiting(registry) == {KK: 1, JKN: 1}
    called = await registry.post(
        f"/v1/sessions/s-1/services/{JKN}/call-next",
        json={"desk": "meja-3"},
        headers=desk_of("bpjs-kesehatan", "bpjs-desk-3"),
    )
    ticket_id = called.json()["ticket_id"]
    completed_by_dukcapil = await registry.post(
        f"/v1/tickets/{ticket_id}/complete", json={"outcome": "served"}, headers=desk_of("dukcapil")
    )
    read_by_dukcapil = await registry.get(f"/v1/tickets/{ticket_id}", headers=desk_of("dukcapil"))

    body = assert_problem(dukcapil_on_bpjs, 403, "agency-required")
    assert "bpjs-kesehatan" in body["detail"]
    assert_problem(other_service, 403, "service-required")
    assert called.status_code == 200, called.text
    assert_problem(completed_by_dukcapil, 403, "agency-required")
    assert_problem(read_by_dukcapil, 403, "agency-required")
    assert (await registry.get(f"/v1/tickets/{ticket_id}")).json()["status"] == "called"
    [event] = await fetch_events(nc, "botram.ticket.called.>", 1)
    assert isinstance(event.data, TicketCalledV1)
    assert event.data.actor == "bpjs-desk-3"  # the desk's opaque sub, so agencies tell desks apart
    [entry] = (await registry.get("/v1/audit", params={"actor": "bpjs-desk-3"})).json()
    assert (entry["action"], entry["agency"]) == ("call_next", "bpjs-kesehatan")
    assert entry["resource_ids"]["ticket_id"] == ticket_id


async def test_attack_2_a_repeated_nik_cannot_redirect_the_citizens_messages(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await opened(announce_session, known_session, registry)
    victim = await registry.post(
        "/v1/sessions/s-1/check-ins", json=citizen(services=[KK], phone="081111111111")
    )
    attacker = session_issuer().headers("front-desk", subject="front-desk-9")

    again = await registry.post(
        "/v1/sessions/s-1/check-ins",
        json=citizen(name="Penyerang", phone="082222222222", services=[KK, JKN]),
        headers=attacker,
    )

    assert victim.status_code == 201 and again.status_code == 200, again.text
    body = again.json()
    # Only the ticket this request issued; of the victim's, the number a slip shows anyway.
    assert [t["service"] for t in body["tickets"]] == [JKN]
    assert body["held_numbers"] == ["KK-001"]
    assert victim.json()["tickets"][0]["ticket_id"] not in again.text
    async with deps.db.session() as tx:
        [stored] = (await tx.exec(select(CitizenRow))).all()
    assert (stored.name, stored.phone) == ("Siti Aminah", "081111111111")
    shared = await fetch_events(nc, "botram.private.>", 2)
    assert all(isinstance(e.data, CitizenContactSharedV1) for e in shared)
    assert [e.data.phone for e in shared] == ["081111111111", "081111111111"]
    trail = (await registry.get("/v1/audit", params={"actor": "front-desk-9"})).json()
    assert [entry["action"] for entry in trail] == ["add_services"]


async def test_a_contact_change_is_its_own_front_desk_action_and_is_audited(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    announce_session: Callable[..., Awaitable[None]],
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await opened(announce_session, known_session, registry)
    first = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(phone="081111111111"))
    check_in_id = first.json()["check_in_id"]
    front_desk = session_issuer().headers("front-desk", subject="front-desk-2")

    by_a_desk = await registry.put(
        f"/v1/check-ins/{check_in_id}/contact",
        json={"phone": "089999999999"},
        headers=desk_of("dukcapil"),
    )
    changed = await registry.put(
        f"/v1/check-ins/{check_in_id}/contact", json={"phone": "083333333333"}, headers=front_desk
    )
    unknown = await registry.put(
        "/v1/check-ins/nope/contact", json={"phone": "083333333333"}, headers=front_desk
    )

    assert_problem(by_a_desk, 403, "role-required")
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"check_in_id": check_in_id, "session_id": "s-1", "tickets": 2}
    assert_problem(unknown, 404, "check-in-not-found")
    async with deps.db.session() as tx:
        [stored] = (await tx.exec(select(CitizenRow))).all()
    assert stored.phone == "083333333333"
    shared = await fetch_events(nc, "botram.private.>", 2)
    assert [e.data.phone for e in shared] == ["081111111111", "083333333333"]
    assert {t.service for t in shared[1].data.tickets} == {KK, JKN}
    trail = await registry.get("/v1/audit", params={"session_id": "s-1"})
    assert [(e["action"], e["actor"]) for e in trail.json()][:1] == [
        ("change_contact", "front-desk-2")
    ]
    assert "083333333333" not in trail.text and "Siti" not in trail.text
    assert trail.json()[-1]["action"] == "check_in"  # the group-commit path is audited too
    assert trail.json()[-1]["resource_ids"]["check_in_id"] == check_in_id
