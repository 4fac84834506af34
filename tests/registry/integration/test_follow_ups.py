"""Follow-ups on a real nats-server and database: an agency tells the holder of a served
ticket, days after its session closed, that the document is ready; the public event carries
no personal data, the phone kept for it travels once on the private subject and is forgotten."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_contracts.events import (
    CitizenFollowUpSharedV1,
    ServiceFollowedUpV1,
    SessionClosedV1,
)
from botram_registry.deps import Deps
from botram_registry.followups_store import FollowUpContactRow
from botram_registry.store import CitizenRow
from botram_registry.usecases.retention import erase_expired_follow_up_contacts
from botram_runtime.clock import local_today
from helpers import FakeClock, assert_problem, fetch_events, publish_event, session_issuer

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
AnnounceSession = Callable[..., Awaitable[None]]
PHONE = "081234567890"
READY = {
    "kind": "document_ready",
    "place": "Kantor Disdukcapil Cikarang, loket 3",
    "note": "Bawa bukti pendaftaran",
}


def agency(name: str = "dukcapil", role: str = "agency", **claims: Any) -> dict[str, str]:
    return session_issuer().headers(role, agency=name, subject=f"{name}-system", **claims)


def closed_now(clock: FakeClock) -> SessionClosedV1:
    return SessionClosedV1(
        session_id="s-1",
        level="kecamatan",
        kecamatan="sukatani",
        date=local_today(clock),
        closed_at=clock(),
    )


async def _served(
    registry: httpx.AsyncClient, citizen: Citizen, nik_for: Callable[[int], str], serial: int
) -> dict[str, Any]:
    """A citizen with a phone checked in for KK, called and served: their KK ticket."""
    body = citizen(nik_for(serial), services=["dukcapil-kk"], phone=PHONE)
    answer = await registry.post("/v1/sessions/s-1/check-ins", json=body)
    assert answer.status_code == 201, answer.text
    ticket: dict[str, Any] = answer.json()["tickets"][0]
    await registry.post("/v1/sessions/s-1/services/dukcapil-kk/call-next", json={"desk": "1"})
    done = await registry.post(
        f"/v1/tickets/{ticket['ticket_id']}/complete", json={"outcome": "served"}
    )
    assert done.json()["status"] == "completed", done.text
    return ticket


async def test_a_document_ready_days_after_the_session_reaches_the_citizen_once(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    ticket = await _served(registry, citizen, nik_for, 1)
    await publish_event(nc, closed_now(clock), "scheduler")
    await known_session(registry, "s-1", "closed")
    async with deps.db.session() as tx:
        assert [c.phone for c in (await tx.exec(select(CitizenRow))).all()] == [None]
        kept = (await tx.exec(select(FollowUpContactRow))).all()
        assert [(k.ticket_id, k.phone) for k in kept] == [(ticket["ticket_id"], PHONE)]

    clock.advance(timedelta(days=3).total_seconds())
    until = (local_today(clock) + timedelta(days=14)).isoformat()
    answer = await registry.post(
        f"/v1/tickets/{ticket['ticket_id']}/follow-ups",
        json=READY | {"until": until},
        headers=agency(),
    )

    assert answer.status_code == 201, answer.text
    recorded = answer.json()
    assert recorded["citizen_notified"] is True and recorded["number"] == ticket["number"]
    assert recorded["seconds_since_completion"] >= timedelta(days=3).total_seconds()
    [public] = await fetch_events(nc, "botram.service.followed_up.v1.dukcapil.dukcapil-kk", 1)
    assert isinstance(public.data, ServiceFollowedUpV1)
    assert (public.data.place, public.data.until.isoformat(), public.data.kind) == (
        READY["place"],
        until,
        "document_ready",
    )
    assert public.data.actor == "dukcapil-system" and public.data.outcome == "served"
    raw = public.model_dump_json()
    assert PHONE not in raw and "Siti" not in raw and nik_for(1) not in raw
    [private] = await fetch_events(nc, "botram.private.citizen.follow_up_shared.v1.s-1", 1)
    assert isinstance(private.data, CitizenFollowUpSharedV1)
    assert (private.data.phone, private.data.place, private.data.number) == (
        PHONE,
        READY["place"],
        ticket["number"],
    )
    async with deps.db.session() as tx:  # the phone kept for it is forgotten at once
        assert (await tx.exec(select(FollowUpContactRow))).all() == []
    page = await registry.get(ticket["status_url"].removeprefix("http://service"))
    assert "Dokumen Anda sudah siap" in page.text and READY["place"] in page.text
    code = ticket["status_url"].rsplit("/", 1)[1]
    status = (await registry.get(f"/v1/ticket-status/{code}")).json()
    assert status["follow_ups"] == [
        {"kind": "document_ready", "place": READY["place"], "until": until, "note": READY["note"]}
    ]

    again = await registry.post(
        f"/v1/tickets/{ticket['ticket_id']}/follow-ups", json=READY, headers=agency()
    )
    assert_problem(again, 409, "follow-up-exists")


async def test_only_the_tickets_agency_follows_up_a_served_or_referred_ticket(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    served = await _served(registry, citizen, nik_for, 1)
    waiting = (
        await registry.post(
            "/v1/sessions/s-1/check-ins", json=citizen(nik_for(2), services=["dukcapil-kk"])
        )
    ).json()["tickets"][0]
    url = f"/v1/tickets/{served['ticket_id']}/follow-ups"

    assert_problem(
        await registry.post(url, json=READY, headers=agency("bpjs-kesehatan")),
        403,
        "agency-required",
    )
    assert_problem(
        await registry.post(
            url, json=READY, headers=agency(role="desk", services=["dukcapil-akta"])
        ),
        403,
        "service-required",
    )
    assert_problem(
        await registry.post(url, json=READY, headers=session_issuer().headers("front-desk")), 403
    )
    assert_problem(
        await registry.post(
            f"/v1/tickets/{waiting['ticket_id']}/follow-ups", json=READY, headers=agency()
        ),
        409,
        "ticket-not-finished",
    )
    assert_problem(
        await registry.post(url, json=READY | {"until": "2001-01-01"}, headers=agency()), 422
    )
    assert_problem(await registry.post(url, json=READY | {"place": ""}, headers=agency()), 422)
    assert_problem(
        await registry.post("/v1/tickets/nope/follow-ups", json=READY, headers=agency()), 404
    )

    by_desk = await registry.post(url, json=READY, headers=agency(role="desk"))
    # The session is still open: the phone the citizen gave at check-in is used.
    assert by_desk.status_code == 201 and by_desk.json()["citizen_notified"] is True
    await publish_event(nc, closed_now(clock), "scheduler")
    await known_session(registry, "s-1", "closed")
    async with deps.db.session() as tx:  # followed up already: no phone kept for it
        assert (await tx.exec(select(FollowUpContactRow))).all() == []


async def test_a_phone_kept_for_a_follow_up_that_never_came_is_erased_when_it_expires(
    registry: httpx.AsyncClient,
    deps: Deps,
    nc: NatsClient,
    clock: FakeClock,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
    nik_for: Callable[[int], str],
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    ticket = await _served(registry, citizen, nik_for, 1)
    await publish_event(nc, closed_now(clock), "scheduler")
    await known_session(registry, "s-1", "closed")

    assert await erase_expired_follow_up_contacts(deps) == 0
    clock.advance(timedelta(days=deps.settings.follow_up_contact_days, seconds=1).total_seconds())
    assert await erase_expired_follow_up_contacts(deps) == 1

    late = await registry.post(
        f"/v1/tickets/{ticket['ticket_id']}/follow-ups", json=READY, headers=agency()
    )
    assert late.status_code == 201 and late.json()["citizen_notified"] is False
