"""Desks on a real nats-server and database: fair calls, ticket states, recalls, transfers,
and the queue's estimates."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import ServiceCompletedV1, decode_event
from helpers import FakeClock, assert_problem, fetch_events, session_issuer

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"
LANSIA_NIK = "3216050101500001"  # born 1 January 1950

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
AnnounceSession = Callable[..., Awaitable[None]]


async def call(
    registry: httpx.AsyncClient, service: str = KK, desk: str = "meja-1"
) -> httpx.Response:
    return await registry.post(
        f"/v1/sessions/s-1/services/{service}/call-next", json={"desk": desk}
    )


async def test_four_desks_calling_at_once_call_every_ticket_exactly_once(
    registry: httpx.AsyncClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    tickets = 200
    await announce_session(quotas={"dukcapil-kk": tickets})
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
    registry: httpx.AsyncClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
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


async def test_a_mixed_queue_is_called_with_the_configured_interleaving(
    registry: httpx.AsyncClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
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
    registry: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
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
    assert tickets["held_numbers"] == ["KK-001", "JKN-001"]
    [message] = await sub.fetch(1, timeout=5)
    completed = decode_event(message.data).data
    assert isinstance(completed, ServiceCompletedV1)
    assert (completed.outcome, completed.transferred_to) == ("referred", new["ticket_id"])
    assert completed.service_seconds == 120


async def test_transfer_is_refused_when_it_would_duplicate_or_is_not_offered(
    registry: httpx.AsyncClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
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
    registry: httpx.AsyncClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
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


async def test_a_desk_finds_a_ticket_by_its_number_and_calls_it_out_of_turn(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    numbers = []
    for serial in (1, 2, 3):
        response = await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(serial), services=[KK])
        )
        numbers.append(response.json()["tickets"][0]["number"])
    third = numbers[2]
    bpjs_desk = session_issuer().headers("desk", agency="bpjs-kesehatan", subject="bpjs-1")

    found = await registry.get(f"/v1/sessions/s-1/tickets/{third}")
    other_agency = await registry.get(f"/v1/sessions/s-1/tickets/{third}", headers=bpjs_desk)
    other_call = await registry.post(
        f"/v1/sessions/s-1/tickets/{third}/call", json={"desk": "x"}, headers=bpjs_desk
    )
    out_of_turn = await registry.post(
        f"/v1/sessions/s-1/tickets/{third.lower()}/call", json={"desk": "meja-2"}
    )
    again = await registry.post(f"/v1/sessions/s-1/tickets/{third}/call")
    unknown = await registry.get("/v1/sessions/s-1/tickets/KK-999")
    next_in_turn = await call(registry)

    assert (found.json()["number"], found.json()["status"]) == (third, "waiting")
    assert_problem(other_agency, 403)
    assert_problem(other_call, 403)
    assert (out_of_turn.json()["status"], out_of_turn.json()["desk"]) == ("called", "meja-2")
    assert_problem(again, 409, "ticket-state")
    assert_problem(unknown, 404, "ticket-not-found")
    assert next_in_turn.json()["number"] == numbers[0]  # the fair order goes on as it was
    history = (await registry.get(f"/v1/sessions/s-1/tickets/{third}")).json()["history"]
    assert [step["action"] for step in history] == ["call_out_of_turn"]
    calls = await fetch_events(nc, f"botram.ticket.called.v1.dukcapil.{KK}", 2)
    assert [(e.data.number, e.data.out_of_turn) for e in calls] == [
        (third, True),
        (numbers[0], None),
    ]
    assert [w.number for w in calls[0].data.up_next or []] == numbers[:2]
