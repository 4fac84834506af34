"""A session's end on a real nats-server and database: the tickets still waiting when it
closes end expired, when it is cancelled (an emergency) end cancelled, each with its event."""

from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import SessionCancelledV1, SessionClosedV1
from botram_runtime.clock import local_today
from helpers import FakeClock, fetch_events, publish_event

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
AnnounceSession = Callable[..., Awaitable[None]]
SUKATANI = {"level": "kecamatan", "kecamatan": "sukatani"}


async def _two_waiting_one_called(
    registry: httpx.AsyncClient, citizen: Citizen, nik_for: Callable[[int], str]
) -> tuple[list[dict[str, str]], str]:
    """Three citizens for dukcapil-kk; the first is called: (the two still waiting, the called)."""
    tickets = []
    for serial in (1, 2, 3):
        response = await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(serial), services=["dukcapil-kk"])
        )
        assert response.status_code == 201, response.text
        tickets += response.json()["tickets"]
    called = await registry.post(
        "/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": "meja-1"}
    )
    assert called.json()["ticket_id"] == tickets[0]["ticket_id"]
    return tickets[1:], tickets[0]["ticket_id"]


async def test_a_closing_session_expires_its_waiting_tickets_once_with_an_event_each(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    waiting, called = await _two_waiting_one_called(registry, citizen, nik_for)
    closed = SessionClosedV1(
        session_id="s-1", date=local_today(clock), closed_at=clock(), **SUKATANI
    )

    await publish_event(nc, closed, "scheduler")
    await known_session(registry, "s-1", "closed")
    await publish_event(nc, closed, "scheduler")  # redelivered, or closed twice: nothing new

    expired = await fetch_events(nc, "botram.ticket.expired.v1.dukcapil.dukcapil-kk", 2)
    assert [e.data.ticket_id for e in expired] == [t["ticket_id"] for t in waiting]
    assert [e.data.number for e in expired] == [t["number"] for t in waiting]
    for ticket in waiting:
        state = (await registry.get(f"/v1/tickets/{ticket['ticket_id']}")).json()
        assert state["status"] == "expired"
    page = await registry.get(waiting[0]["status_url"].removeprefix("http://service"))
    assert "tidak terlayani: layanan hari ini sudah ditutup" in page.text  # the citizen's page
    assert (await registry.get(f"/v1/tickets/{called}")).json()["status"] == "called"
    every_expiry = await nc.jetstream().pull_subscribe("botram.ticket.expired.v1.>")
    assert len(await every_expiry.fetch(10, timeout=1)) == 2  # none from the repeated close


async def test_a_cancelled_opened_session_cancels_its_waiting_tickets_with_the_reason(
    registry: httpx.AsyncClient,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    waiting, called = await _two_waiting_one_called(registry, citizen, nik_for)

    await publish_event(
        nc,
        SessionCancelledV1(
            session_id="s-1", date=local_today(clock), reason="banjir di lokasi", **SUKATANI
        ),
        "scheduler",
    )
    await known_session(registry, "s-1", "cancelled")

    cancelled = await fetch_events(nc, "botram.ticket.cancelled.v1.dukcapil.dukcapil-kk", 2)
    assert {e.data.ticket_id for e in cancelled} == {t["ticket_id"] for t in waiting}
    assert {e.data.reason for e in cancelled} == {"banjir di lokasi"}
    for ticket in waiting:
        state = (await registry.get(f"/v1/tickets/{ticket['ticket_id']}")).json()
        assert state["status"] == "cancelled"
    assert (await registry.get(f"/v1/tickets/{called}")).json()["status"] == "called"
