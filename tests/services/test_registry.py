"""Registry on a real nats-server: sessions from events, check-in, desks, dead letters."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import time

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import (
    CitizenCheckedInV1,
    SessionOpenedV1,
    SessionScheduledV1,
    decode_event,
)
from botram_registry.main import create_app
from botram_registry.settings import Settings
from botram_runtime.bus import DLQ_REASON_HEADER
from botram_runtime.clock import local_today
from helpers import FakeClock, assert_problem, eventually, publish_event, running

NIK = "3216054507900001"
SERVICES = ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]


@pytest.fixture
async def registry(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        nats_url=nats_server.url, database_url=database_url, outbox_poll_seconds=0.1
    )
    async with running(create_app(settings, clock=clock)) as client:
        yield client


async def announce_session(
    nc: NatsClient,
    clock: FakeClock,
    session_id: str = "s-1",
    *,
    open_it: bool = True,
    quotas: dict[str, int] | None = None,
) -> None:
    common = {
        "session_id": session_id,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": local_today(clock),
    }
    await publish_event(
        nc,
        SessionScheduledV1(
            **common, start=time(8), end=time(14), services=SERVICES, quotas=quotas or {}
        ),
        "scheduler",
    )
    if open_it:
        await publish_event(nc, SessionOpenedV1(**common, opened_at=clock()), "scheduler")


async def known_session(registry: httpx.AsyncClient, session_id: str, status: str) -> None:
    async def has_status() -> bool:
        response = await registry.get(f"/v1/sessions/{session_id}/queue")
        return response.status_code == 200 and response.json()["status"] == status

    await eventually(has_status)


def citizen(nik: str = NIK, **overrides: object) -> dict[str, object]:
    return {"nik": nik, "name": "Siti Aminah", "services": SERVICES} | overrides


def nik_for(serial: int) -> str:
    return f"3216050101900{serial:03d}" if serial < 1000 else f"321605010190{serial:04d}"


async def test_check_in_issues_numbered_tickets_and_announces_it_without_personal_data(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await announce_session(nc, clock)
    await known_session(registry, "s-1", "opened")

    response = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(phone="081234567890"))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["nik"] == "3216********0001"
    assert [t["number"] for t in body["tickets"]] == ["KK-001", "JKN-001"]
    sub = await nc.jetstream().pull_subscribe("botram.citizen.>", durable="registry-test")
    [message] = await sub.fetch(1, timeout=5)
    event = decode_event(message.data)
    assert isinstance(event.data, CitizenCheckedInV1)
    assert event.data.check_in_id == body["check_in_id"]
    assert (event.data.sex, event.data.resident) == ("F", True)
    for secret in (NIK, "Siti", "081234567890"):
        assert secret not in message.data.decode() and secret not in message.subject


async def test_the_same_nik_at_the_same_session_gets_the_same_tickets(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await announce_session(nc, clock)
    await known_session(registry, "s-1", "opened")

    first = await registry.post("/v1/sessions/s-1/check-ins", json=citizen())
    again = await registry.post("/v1/sessions/s-1/check-ins", json=citizen())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tickets"] == first.json()["tickets"]


async def test_check_in_refusals_say_why(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await announce_session(nc, clock, "s-open", quotas={"dukcapil-kk": 1})
    await announce_session(nc, clock, "s-planned", open_it=False)
    await known_session(registry, "s-open", "opened")
    await known_session(registry, "s-planned", "scheduled")

    unknown = await registry.post("/v1/sessions/nope/check-ins", json=citizen())
    not_open = await registry.post("/v1/sessions/s-planned/check-ins", json=citizen())
    bad_nik = await registry.post("/v1/sessions/s-open/check-ins", json=citizen("3216054507900000"))
    not_offered = await registry.post(
        "/v1/sessions/s-open/check-ins", json=citizen(services=["pmi-donor-darah"])
    )
    await registry.post("/v1/sessions/s-open/check-ins", json=citizen(services=["dukcapil-kk"]))
    quota = await registry.post(
        "/v1/sessions/s-open/check-ins", json=citizen(nik_for(2), services=["dukcapil-kk"])
    )

    assert_problem(unknown, 404, "session-not-found")
    assert_problem(not_open, 409, "session-not-open")
    assert_problem(bad_nik, 422, "invalid-nik-serial")
    assert_problem(not_offered, 409, "service-not-offered")
    assert "kuota habis" in assert_problem(quota, 409, "quota-full")["detail"]


async def test_a_validation_error_never_echoes_the_nik(registry: httpx.AsyncClient) -> None:
    response = await registry.post(
        "/v1/sessions/s-1/check-ins", json={"nik": NIK, "name": "", "services": []}
    )

    body = assert_problem(response, 422, "invalid-request")
    assert NIK not in response.text
    assert {e["field"] for e in body["errors"]} == {"name", "services"}


async def test_four_desks_calling_at_once_call_every_ticket_exactly_once(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    tickets = 200
    await announce_session(nc, clock, quotas={"dukcapil-kk": tickets})
    await known_session(registry, "s-1", "opened")
    for serial in range(1, tickets + 1):
        response = await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(serial), services=["dukcapil-kk"])
        )
        assert response.status_code == 201, response.text

    async def desk(name: str) -> list[str]:
        called = []
        for _ in range(tickets + 1):  # bounded: never more calls than tickets
            response = await registry.post(
                "/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": name}
            )
            if response.status_code == 404:
                return called
            assert response.status_code == 200, response.text
            called.append(response.json()["ticket_id"])
        return called

    results = await asyncio.gather(*(desk(f"meja-{n}") for n in range(4)))

    every_call = [ticket for calls in results for ticket in calls]
    assert len(every_call) == tickets
    assert len(set(every_call)) == tickets


async def test_desk_actions_follow_the_ticket_s_state(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await announce_session(nc, clock)
    await known_session(registry, "s-1", "opened")
    ticket = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen())).json()["tickets"][
        0
    ]
    url = f"/v1/tickets/{ticket['ticket_id']}"

    too_early = await registry.post(f"{url}/complete", json={"outcome": "served"})
    early_no_show = await registry.post(f"{url}/no-show")
    called = await registry.post(
        "/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": "meja-1"}
    )
    clock.advance(300)
    done = await registry.post(f"{url}/complete", json={"outcome": "referred", "note": "ke KUA"})
    late_no_show = await registry.post(f"{url}/no-show")

    assert_problem(too_early, 409, "ticket-state")
    assert_problem(early_no_show, 409, "ticket-state")
    assert called.json()["ticket_id"] == ticket["ticket_id"]
    assert done.json()["outcome"] == "referred"
    assert_problem(late_no_show, 409, "ticket-state")
    assert_problem(
        await registry.post("/v1/sessions/s-1/services/dukcapil-kk/call-next"), 404, "queue-empty"
    )


async def test_a_malformed_event_goes_to_the_dead_letter_with_its_reason(
    registry: httpx.AsyncClient, nc: NatsClient
) -> None:
    js = nc.jetstream()
    await js.publish(
        "botram.session.scheduled.v1.kecamatan.sukatani",
        json.dumps({"specversion": "1.0", "type": "botram.session.scheduled.v1"}).encode(),
    )
    dlq = await js.pull_subscribe("botram.dlq.registry", durable="dlq-test")

    [message] = await dlq.fetch(1, timeout=10)

    assert "not a valid CloudEvent" in message.headers[DLQ_REASON_HEADER]
    metrics = (await registry.get("/metrics")).text
    assert (
        'botram_events_consumed_total{consumer="registry-sessions",'
        'result="dead_letter",type="malformed"} 1.0' in metrics
    )
