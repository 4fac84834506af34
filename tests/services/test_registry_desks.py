"""Registry on a real nats-server: more services, fair priority, desks, estimates, retention."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from pydantic import ValidationError
from sqlmodel import select
from test_registry import SERVICES, announce_session, citizen, known_session, nik_for

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import ServiceCompletedV1, decode_event
from botram_registry.handlers import erase_expired_personal_data
from botram_registry.main import create_app
from botram_registry.settings import DEV_PSEUDONYM_KEY, Settings
from botram_registry.store import CheckInRow, CitizenRow
from helpers import FakeClock, assert_problem, eventually, running

KK, JKN = SERVICES
LANSIA_NIK = "3216050101500001"  # born 1 January 1950


@pytest.fixture
async def registry(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        nats_url=nats_server.url, database_url=database_url, outbox_poll_seconds=0.1
    )
    async with running(create_app(settings, clock=clock)) as client:
        yield client


async def opened(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock, **kw: object
) -> None:
    await announce_session(nc, clock, **kw)  # type: ignore[arg-type]
    await known_session(registry, "s-1", "opened")


async def call(
    registry: httpx.AsyncClient, service: str = KK, desk: str = "meja-1"
) -> httpx.Response:
    return await registry.post(
        f"/v1/sessions/s-1/services/{service}/call-next", json={"desk": desk}
    )


async def test_asking_for_another_service_adds_a_ticket_and_keeps_the_first_ones(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    first = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))).json()
    sub = await nc.jetstream().pull_subscribe("botram.citizen.>", durable="added-test")

    more = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))
    again = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))

    assert more.status_code == 200, more.text
    body = more.json()
    assert body["check_in_id"] == first["check_in_id"]
    assert body["added_services"] == [JKN]
    assert [t["number"] for t in body["tickets"]] == ["KK-001", "JKN-001"]
    assert body["tickets"][0] == first["tickets"][0]
    assert again.json()["added_services"] == [] and again.json()["tickets"] == body["tickets"]
    types: list[str] = []

    async def both_announced() -> bool:
        types.extend(decode_event(m.data).type for m in await sub.fetch(2, timeout=5))
        return len(types) >= 2

    await eventually(both_announced)
    # The check-in is announced once; the added ticket has an event of its own.
    assert sorted(types) == ["botram.citizen.checked_in.v1", "botram.citizen.tickets_added.v1"]


async def test_adding_a_service_beyond_its_quota_changes_nothing(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock, quotas={JKN: 1})
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen(nik_for(9), services=[JKN]))
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))

    refused = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK, JKN]))
    after = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))

    assert "kuota habis" in assert_problem(refused, 409, "quota-full")["detail"]
    assert [t["service"] for t in after.json()["tickets"]] == [KK]


async def test_a_mixed_queue_is_called_with_the_configured_interleaving(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    regular = [nik_for(n) for n in range(1, 4)]
    for nik in regular:
        await registry.post("/v1/sessions/s-1/check-ins", json=citizen(nik, services=[KK]))
    flagged = [
        citizen(LANSIA_NIK, services=[KK]),  # lansia: derived from the NIK
        citizen(nik_for(11), services=[KK], priority_reasons=["disabilitas"]),
        citizen(nik_for(12), services=[KK], priority_reasons=["ibu-hamil"]),
        citizen(nik_for(13), services=[KK], priority=True),
        citizen(nik_for(14), services=[KK], priority_reasons=["disabilitas", "ibu-hamil"]),
    ]
    for body in flagged:
        response = await registry.post("/v1/sessions/s-1/check-ins", json=body)
        assert response.json()["priority"] is True, response.text

    queue = (await registry.get("/v1/sessions/s-1/queue")).json()["services"][0]
    called = []
    for _ in range(9):  # bounded: 8 tickets, then an empty queue
        response = await call(registry)
        if response.status_code == 404:
            break
        called.append(response.json()["number"])

    # 2 priority calls per regular call (the default), FIFO within each class.
    expected = ["KK-004", "KK-005", "KK-001", "KK-006", "KK-007", "KK-002", "KK-008", "KK-003"]
    assert called == expected
    assert [p["number"] for p in queue["positions"]] == expected


async def test_recall_and_transfer_keep_the_link_and_the_acting_desk(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    checked = await registry.post("/v1/sessions/s-1/check-ins", json=citizen(services=[KK]))
    ticket_id = checked.json()["tickets"][0]["ticket_id"]
    sub = await nc.jetstream().pull_subscribe("botram.service.>", durable="transfer-test")
    await call(registry, desk="meja-2")

    recalled = await registry.post(f"/v1/tickets/{ticket_id}/recall", json={"desk": "meja-2"})
    clock.advance(120)
    moved = await registry.post(
        f"/v1/tickets/{ticket_id}/transfer", json={"service": JKN, "desk": "meja-2"}
    )
    moved_again = await registry.post(f"/v1/tickets/{ticket_id}/transfer", json={"service": JKN})
    original = (await registry.get(f"/v1/tickets/{ticket_id}")).json()
    new = (await registry.get(f"/v1/tickets/{moved.json()['ticket_id']}")).json()
    tickets = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen())).json()

    assert recalled.json()["recalls"] == 1
    assert moved.status_code == 201, moved.text
    assert moved.json()["number"] == "JKN-001"
    assert_problem(moved_again, 409, "ticket-state")
    assert (original["status"], original["outcome"]) == ("transferred", "referred")
    assert original["transferred_to"] == new["ticket_id"]
    assert new["transferred_from"] == ticket_id and new["status"] == "waiting"
    assert [(a["action"], a["desk"]) for a in original["history"]] == [
        ("call", "meja-2"),
        ("recall", "meja-2"),
        ("transfer", "meja-2"),
    ]
    assert [t["service"] for t in tickets["tickets"]] == [KK, JKN]
    [message] = await sub.fetch(1, timeout=5)
    completed = decode_event(message.data).data
    assert isinstance(completed, ServiceCompletedV1)
    assert (completed.outcome, completed.transferred_to) == ("referred", new["ticket_id"])
    assert completed.service_seconds == 120


async def test_transfer_is_refused_when_it_would_duplicate_or_is_not_offered(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    checked = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen())).json()
    ticket_id = checked["tickets"][0]["ticket_id"]

    not_called = await registry.post(f"/v1/tickets/{ticket_id}/transfer", json={"service": JKN})
    await call(registry)
    duplicate = await registry.post(f"/v1/tickets/{ticket_id}/transfer", json={"service": JKN})
    elsewhere = await registry.post(
        f"/v1/tickets/{ticket_id}/transfer", json={"service": "pmi-donor-darah"}
    )
    same = await registry.post(f"/v1/tickets/{ticket_id}/transfer", json={"service": KK})
    recall_unknown = await registry.post("/v1/tickets/nope/recall")

    assert_problem(not_called, 409, "ticket-state")
    assert_problem(duplicate, 409, "already-queued")
    assert_problem(elsewhere, 409, "service-not-offered")
    assert_problem(same, 422, "transfer-same-service")
    assert_problem(recall_unknown, 404, "ticket-not-found")
    assert (await registry.get(f"/v1/tickets/{ticket_id}")).json()["status"] == "called"


async def test_queue_status_estimates_waits_from_service_times_and_active_desks(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    for serial in range(1, 7):
        await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(serial), services=[KK])
        )
    for desk in ("meja-1", "meja-2"):
        ticket = (await call(registry, desk=desk)).json()
        clock.advance(300)
        await registry.post(
            f"/v1/tickets/{ticket['ticket_id']}/complete", json={"outcome": "served"}
        )
    await call(registry, desk="meja-1")

    kk = (await registry.get("/v1/sessions/s-1/queue")).json()["services"][0]

    assert kk["mean_service_seconds"] == 300
    assert kk["active_desks"] == 2
    assert (kk["waiting"], kk["now_serving"]) == (3, ["KK-003"])
    # One ticket at a desk plus the ones ahead, shared by two desks of 300 s each.
    assert [(p["number"], p["estimated_wait_seconds"]) for p in kk["positions"]] == [
        ("KK-004", 150.0),
        ("KK-005", 300.0),
        ("KK-006", 450.0),
    ]
    assert kk["estimated_wait_seconds"] == 600.0


async def test_personal_data_is_erased_after_the_retention_period(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)
    await registry.post(
        "/v1/sessions/s-1/check-ins",
        json=citizen(phone="081234567890", priority_reasons=["ibu-hamil"]),
    )
    app_registry = registry._transport.app.state.registry  # type: ignore[attr-defined]

    assert await erase_expired_personal_data(app_registry) == 0
    clock.advance(timedelta(days=31).total_seconds())
    assert await erase_expired_personal_data(app_registry) == 1

    async with app_registry.db.session() as session:
        person = (await session.exec(select(CitizenRow))).one()
        visit = (await session.exec(select(CheckInRow))).one()
    assert (person.nik, person.name, person.phone) == (None, None, None)
    assert len(person.pseudonym) == 64 and visit.priority_reasons == []
    assert await erase_expired_personal_data(app_registry) == 0


def test_production_refuses_the_default_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOTRAM_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production", pseudonym_key="")
    with pytest.raises(ValidationError, match="BOTRAM_PSEUDONYM_KEY"):
        Settings(env="production", pseudonym_key=DEV_PSEUDONYM_KEY)

    real = Settings(env="production", pseudonym_key="a-real-secret-from-the-vault")
    assert real.pseudonym_key.get_secret_value() == "a-real-secret-from-the-vault"


async def test_many_check_ins_of_one_citizen_at_once_make_one_check_in(
    registry: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    await opened(registry, nc, clock)

    responses = await asyncio.gather(
        *(registry.post("/v1/sessions/s-1/check-ins", json=citizen()) for _ in range(5))
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["check_in_id"] for r in responses}) == 1
