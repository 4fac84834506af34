"""Pre-registered citizens are told, once, when their session is cancelled, moved or loses a
service they registered for; one who checked in already is told once, not twice (a real
nats-server, a test SMS gateway on 127.0.0.1)."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from nats.aio.client import Client as NatsClient
from notifier.integration.test_citizens import SESSION, Receiver, Start, consumed, texts
from sqlmodel import select

from botram_contracts.events import (
    CitizenContactSharedV1,
    CitizenPreRegisteredV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionRescheduledV1,
    SessionUpdatedV1,
    TicketRef,
)
from botram_notifier.pre_registration_store import PreRegistrationContactRow
from botram_runtime.clock import local_today, system_clock
from botram_runtime.db import Database
from helpers import publish_event

DAY = local_today(system_clock) + timedelta(days=6)
AHEAD, CHECKED_IN, LATE, RELEASED = "081200000001", "081200000002", "081200000003", "0812000004"


def pre_registered(
    n: int,
    phone: str,
    slot: tuple[time, time] = (time(9), time(9, 30)),
    day: date = DAY,
    services: Sequence[str] = ("dukcapil-kk",),
) -> CitizenPreRegisteredV1:
    return CitizenPreRegisteredV1(
        pre_registration_id=f"p-{n}",
        session_id="s-1",
        phone=phone,
        date=day,
        slot_start=slot[0],
        slot_end=slot[1],
        place="Muara Gembong",
        services=list(services),
        code=f"CODE{n}",
    )


async def register_four(nc: NatsClient, gateway: Receiver, late: tuple[time, time]) -> None:
    """Four pre-registered: one ahead, one who checks in (another spelling of the same phone),
    one with another slot, one whose slot ended yesterday (released: not told)."""
    await publish_event(nc, pre_registered(1, AHEAD), "registry")
    await publish_event(nc, pre_registered(2, CHECKED_IN), "registry")
    await publish_event(nc, pre_registered(3, LATE, late), "registry")
    await publish_event(nc, pre_registered(4, RELEASED, day=DAY - timedelta(days=7)), "registry")
    checked_in = TicketRef(
        ticket_id="t-2", service="dukcapil-kk", agency="dukcapil", number="KK-002", position=1
    )
    await publish_event(
        nc,
        CitizenContactSharedV1(
            check_in_id="c-2", session_id="s-1", phone="+6281200000002", tickets=[checked_in]
        ),
        "registry",
    )
    await texts(gateway, 5)  # four slots, one ticket
    await consumed(nc, "notifier-private")


def told(gateway: Receiver, words: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for request in gateway.requests:
        body = request.json()
        if words in body["text"]:
            found.setdefault(body["to"], []).append(body["text"])
    return found


async def contacts_left(database_url: str) -> list[Any]:
    db = Database(database_url)
    try:
        async with db.transaction() as tx:
            return list((await tx.exec(select(PreRegistrationContactRow))).all())
    finally:
        await db.dispose()


async def test_a_cancellation_tells_each_pre_registered_citizen_once(
    start: Start, nc: NatsClient, gateway: Receiver, database_url: str
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        await register_four(nc, gateway, (time(10), time(10, 30)))
        cancelled = SessionCancelledV1(**SESSION, date=DAY, reason="banjir")
        await publish_event(nc, cancelled, "scheduler")
        await publish_event(nc, cancelled, "scheduler")  # redelivered: nothing new
        await texts(gateway, 8)
        await consumed(nc, "notifier-sessions")

    cancellations = told(gateway, "dibatalkan. Alasan: banjir.")
    assert sorted(cancellations) == sorted([AHEAD, "+6281200000002", LATE])
    assert all(len(sent) == 1 for sent in cancellations.values())
    assert gateway.count() == 8
    assert await contacts_left(database_url) == []  # the cancelled session's contacts went


async def test_a_move_tells_each_pre_registered_citizen_once_with_their_slot(
    start: Start, nc: NatsClient, gateway: Receiver, database_url: str
) -> None:
    new_day = DAY + timedelta(days=7)
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        await register_four(nc, gateway, (time(13, 30), time(14)))
        moved = SessionRescheduledV1(
            **SESSION,
            date=new_day,
            previous_date=DAY,
            start=time(8),
            end=time(12),
            reason="listrik padam",
        )
        await publish_event(nc, moved, "scheduler")
        await texts(gateway, 8)
        await consumed(nc, "notifier-sessions")
        # The checked-in citizen's went; those expected follow the move, the released one
        # waits for the retention sweep.
        kept = {row.pre_registration_id: row.date for row in await contacts_left(database_url)}
        assert kept == {"p-1": new_day, "p-3": new_day, "p-4": DAY - timedelta(days=7)}
        await publish_event(
            nc, SessionClosedV1(**SESSION, date=new_day, closed_at=datetime.now(UTC)), "scheduler"
        )
        await texts(gateway, 9)
        await consumed(nc, "notifier-sessions")

    moves = told(gateway, "dipindahkan dari")
    assert sorted(moves) == sorted([AHEAD, "+6281200000002", LATE])
    assert all(len(sent) == 1 for sent in moves.values())
    assert "Silakan datang pada slot Anda, pukul 09.00-09.30 WIB" in moves[AHEAD][0]
    assert (
        "Slot pukul 13.30-14.00 WIB tidak lagi ada; silakan datang pukul 08.00-12.00 WIB"
        in (moves[LATE][0])
    )
    assert len(told(gateway, "sudah ditutup")) == 1  # the close: the checked-in's ticket
    assert gateway.count() == 9
    assert await contacts_left(database_url) == []  # erased at the close


async def test_a_removed_service_is_told_to_those_registered_for_it(
    start: Start, nc: NatsClient, gateway: Receiver
) -> None:
    both = ("dukcapil-kk", "dukcapil-akta-kelahiran")
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        await publish_event(nc, pre_registered(1, AHEAD, services=both), "registry")
        await publish_event(
            nc, pre_registered(2, LATE, services=["dukcapil-akta-kelahiran"]), "registry"
        )
        await texts(gateway, 2)
        await consumed(nc, "notifier-private")
        updated = SessionUpdatedV1(
            **SESSION,
            date=DAY,
            start=time(8),
            end=time(13),
            services=["dukcapil-akta-kelahiran"],
            changed=["services"],
        )
        await publish_event(nc, updated, "scheduler")
        await texts(gateway, 3)
        await consumed(nc, "notifier-sessions")

    removed = told(gateway, "tidak lagi tersedia")
    assert list(removed) == [AHEAD]
    assert "Kartu Keluarga (KK)" in removed[AHEAD][0]
    assert "tetap berlaku" in removed[AHEAD][0]
