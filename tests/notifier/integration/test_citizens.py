"""Citizen messages: a real nats-server, a test SMS gateway on 127.0.0.1, captured logs."""

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_cli.nats_server import EmbeddedNatsServer, free_port
from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketRef,
    WaitingTicketRef,
)
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_notifier.store import CitizenMessageRow, ContactRow
from botram_runtime.db import Database
from botram_runtime.stream import PRIVATE_STREAM_NAME
from helpers import consumed as consumed_by
from helpers import eventually, publish_event, running, session_issuer

PHONE = "081234567890"
SESSION = {"session_id": "s-1", "level": "kecamatan", "kecamatan": "muara-gembong"}

PSEUDONYM = "a" * 64

Start = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
Receiver = Any  # the `gateway` fixture (tests/notifier/conftest.py)
Called = Callable[..., TicketCalledV1]


@pytest.fixture
def start(nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str) -> Start:
    def start_notifier(**overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        options: dict[str, Any] = dict(
            nats_url=nats_server.url,
            database_url=database_url,
            sms_poll_seconds=0.1,
            turn_near_ahead=2,
        )
        return running(create_app(Settings(**(options | overrides))))

    return start_notifier


def ticket(n: int, position: int | None = None) -> TicketRef:
    return TicketRef(
        ticket_id=f"t-{n}",
        service="dukcapil-kk",
        agency="dukcapil",
        number=f"KK-00{n}",
        position=position or n,
    )


async def check_in(
    nc: NatsClient,
    n: int,
    phone: str | None = None,
    *,
    priority: bool = False,
    position: int | None = None,
) -> None:
    """The n-th citizen checks in for KK (at position n unless told), with a phone or not."""
    tickets = [ticket(n, position)]
    await publish_event(
        nc,
        CitizenCheckedInV1(
            **SESSION,
            check_in_id=f"c-{n}",
            citizen=PSEUDONYM,
            sex="F",
            age_band="30-44",
            resident=True,
            priority=priority,
            tickets=tickets,
            checked_in_at=datetime.now(UTC),
        ),
        "registry",
    )
    if phone:
        await publish_event(
            nc,
            CitizenContactSharedV1(
                check_in_id=f"c-{n}", session_id="s-1", phone=phone, tickets=tickets
            ),
            "registry",
        )


async def consumed(nc: NatsClient, *durables: str) -> None:
    """Every event so far handled by these consumers of the notifier."""
    await consumed_by(nc, "notifier", *durables)


async def texts(gateway: Receiver, count: int) -> list[str]:
    await eventually(lambda: gateway.count() >= count)
    return [r.json()["text"] for r in gateway.requests]


async def citizen_flow(nc: NatsClient, called: Called) -> None:
    """Four check-ins (only the fourth shares a phone), then the desk calls the first."""
    for n in (1, 2, 3):
        await check_in(nc, n)
    await check_in(nc, 4, phone=PHONE)
    await consumed(nc, "notifier-private")
    await publish_event(nc, called("t-1", "KK-001"), "registry")


async def test_a_citizen_is_told_the_number_then_that_the_turn_is_near_in_bahasa_indonesia(
    start: Start, nc: NatsClient, gateway: Receiver, called: Called
) -> None:
    async with start(
        sms_provider="http",
        sms_gateway_url=gateway.url + "/send",
        sms_gateway_token="gateway-token",
    ):
        await citizen_flow(nc, called)
        issued, near = await texts(gateway, 2)

    assert issued == (
        "Botram Kab. Bekasi: nomor antrean Anda KK-004 untuk layanan Kartu Keluarga (KK). "
        "Perkiraan waktu tunggu sekitar 30 menit. Balas STOP untuk berhenti."
    )
    assert "giliran Anda sudah dekat" in near and "KK-004" in near
    assert "tinggal 2 antrean lagi" in near
    request = gateway.requests[0]
    assert request.json()["to"] == PHONE
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert gateway.count() == 2  # one message per ticket per kind, nothing for the others


async def test_a_call_an_offline_desk_uploaded_later_tells_nobody_their_turn_is_near(
    start: Start, nc: NatsClient, gateway: Receiver, called: Called, database_url: str
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        for n in (1, 2, 3):
            await check_in(nc, n)
        await check_in(nc, 4, phone=PHONE)
        await texts(gateway, 1)  # the number, when it was issued
        offline = called("t-1", "KK-001", up_next=up_next(2, 3, 4))
        await publish_event(nc, offline.model_copy(update={"recorded_offline": True}), "registry")
        await consumed(nc, "notifier-tickets")
        after_offline_call = await near_messages(database_url)
        await publish_event(nc, called("t-2", "KK-002", up_next=up_next(3, 4)), "registry")
        near = (await texts(gateway, 2))[1]

    # The offline call moved the queue (KK-004 had 2 ahead then) without a message; the next
    # live call tells the citizen, with the places as they are now.
    assert after_offline_call == []
    assert "KK-004" in near and "tinggal 1 antrean lagi" in near


def up_next(*ns: int) -> list[WaitingTicketRef]:
    return [WaitingTicketRef(ticket_id=f"t-{n}", number=f"KK-00{n}") for n in ns]


async def test_the_turn_near_message_follows_the_fair_order_of_calls(
    start: Start, nc: NatsClient, gateway: Receiver, called: Called, database_url: str
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        for n in (1, 2, 3):
            await check_in(nc, n)
        await check_in(nc, 4, phone=PHONE)  # 4th: not near yet (2 ahead or fewer is near)
        await texts(gateway, 1)
        # Two priority citizens arrive and go first: KK-004 is 6th now.
        for n, position in ((5, 1), (6, 2)):
            await check_in(nc, n, priority=True, position=position)
        await publish_event(nc, called("t-5", "KK-005", up_next=up_next(6, 1, 2, 3, 4)), "registry")
        await publish_event(nc, called("t-6", "KK-006", up_next=up_next(1, 2, 3, 4)), "registry")
        await consumed(nc, "notifier-tickets")
        early = await near_messages(database_url)
        await publish_event(nc, called("t-1", "KK-001", up_next=up_next(2, 3, 4)), "registry")
        near = (await texts(gateway, 2))[1]

    assert early == []  # first in, first out would have said "2 ahead" after the first call
    assert "KK-004" in near and "tinggal 2 antrean lagi" in near


async def near_messages(database_url: str) -> list[str]:
    database = Database(database_url)
    try:
        async with database.session() as session:
            rows = (await session.exec(select(CitizenMessageRow))).all()
    finally:
        await database.dispose()
    return [row.body for row in rows if row.kind == "turn_near"]


def start_process(environment: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    with open(log_file, "wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "botram_notifier"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("provider", ["log", "http"])
async def test_a_notifier_process_logs_the_messages_but_never_the_phone(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    gateway: Receiver,
    tmp_path: Path,
    provider: str,
    called: Called,
) -> None:
    """The real process (`python -m botram_notifier`), its whole output captured in a file."""
    port = free_port()
    log_file = tmp_path / "notifier.log"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("BOTRAM_")
    } | {
        "BOTRAM_NATS_URL": nats_server.url,
        "BOTRAM_NOTIFIER_DATABASE_URL": database_url,
        "BOTRAM_HTTP_PORT": str(port),
        "BOTRAM_SMS_POLL_SECONDS": "0.1",
        "BOTRAM_TURN_NEAR_AHEAD": "2",
        "BOTRAM_SMS_PROVIDER": provider,
        "BOTRAM_SMS_GATEWAY_URL": gateway.url,
        "BOTRAM_LOG_LEVEL": "DEBUG",
    }
    process = start_process(environment, log_file)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, within=30)
            await citizen_flow(nc, called)

            async def both_sent() -> bool:
                metrics = (await client.get("/metrics")).text
                return 'kind="turn_near",result="sent"} 1.0' in metrics

            await eventually(both_sent)
    finally:
        process.terminate()
        process.wait(timeout=20)

    output_text = log_file.read_text()
    if provider == "log":
        assert "nomor antrean Anda KK-004" in output_text
        assert "giliran Anda sudah dekat" in output_text
    else:
        assert [r.json()["to"] for r in gateway.requests] == [PHONE, PHONE]
    assert "service_stopped" in output_text
    assert PHONE not in output_text and PHONE[1:] not in output_text


async def test_a_cancelled_session_is_announced_and_a_closed_session_erases_the_phones(
    start: Start, nc: NatsClient, gateway: Receiver, database_url: str
) -> None:
    js = nc.jetstream()
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        await check_in(nc, 4, phone=PHONE)
        await texts(gateway, 1)
        stored = await js.stream_info(PRIVATE_STREAM_NAME, subjects_filter="botram.private.>")
        assert stored.state.subjects == {"botram.private.citizen.contact_shared.v1.s-1": 1}
        await publish_event(
            nc,
            SessionCancelledV1(**SESSION, date=date(2026, 12, 5), reason="banjir"),
            "scheduler",
        )
        cancelled = (await texts(gateway, 2))[1]
        await publish_event(
            nc,
            SessionClosedV1(**SESSION, date=date(2026, 12, 5), closed_at=datetime.now(UTC)),
            "scheduler",
        )
        await consumed(nc, "notifier-sessions")

    # Gone from the private stream as well: nothing of the session is left to read there.
    stored = await js.stream_info(PRIVATE_STREAM_NAME, subjects_filter="botram.private.>")
    assert not stored.state.subjects and stored.state.messages == 0
    assert cancelled == (
        "Botram Kab. Bekasi: mohon maaf, layanan Botram di Muara Gembong pada 5 Desember 2026 "
        "dibatalkan. Alasan: banjir. "
        "Jadwal Botram berikutnya diumumkan di kantor kecamatan dan desa."
    )
    database = Database(database_url)
    try:
        async with database.session() as session:
            assert (await session.exec(select(ContactRow))).all() == []
            messages = (await session.exec(select(CitizenMessageRow))).all()
    finally:
        await database.dispose()
    assert [m.status for m in messages] == ["sent", "sent"]
    assert all(m.phone is None for m in messages)


async def test_an_opted_out_phone_gets_nothing_and_a_phone_is_rate_limited(
    start: Start, nc: NatsClient, gateway: Receiver
) -> None:
    async with start(
        sms_provider="http", sms_gateway_url=gateway.url, sms_max_per_phone_per_hour=1
    ) as notifier:
        # Recorded by the front desk (the citizen asked there, or the gateway relayed STOP).
        front_desk = session_issuer().headers("front-desk")
        opted = await notifier.post(
            "/v1/opt-outs", json={"phone": "081298765432"}, headers=front_desk
        )
        await check_in(nc, 1, phone="081298765432")
        await check_in(nc, 2, phone=PHONE)
        await check_in(nc, 3, phone=PHONE)  # same phone, a second ticket: over the limit
        await consumed(nc, "notifier-private")

        async def all_settled() -> str:
            metrics = (await notifier.get("/metrics")).text
            wanted = [
                'kind="ticket_issued",result="sent"} 1.0',
                'kind="ticket_issued",result="skipped"} 2.0',
            ]
            return metrics if all(w in metrics for w in wanted) else ""

        await eventually(all_settled)

    assert opted.status_code == 204
    assert [r.json()["to"] for r in gateway.requests] == [PHONE]


async def test_a_redelivered_contact_event_sends_no_second_message(
    start: Start, nc: NatsClient, gateway: Receiver
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        event = await publish_event(
            nc,
            CitizenContactSharedV1(
                check_in_id="c-1", session_id="s-1", phone=PHONE, tickets=[ticket(1)]
            ),
            "registry",
        )
        # The registry may publish the same contact again (another event id, same ticket).
        await publish_event(nc, event.data, "registry")
        await consumed(nc, "notifier-private")
        await texts(gateway, 1)

    assert gateway.count() == 1


def ended(kind: type[TicketExpiredV1] | type[TicketCancelledV1], n: int) -> Any:
    """The registry ended the n-th citizen's ticket with its session."""
    at = datetime.now(UTC)
    common = {"ticket_id": f"t-{n}", "session_id": "s-1", "service": "dukcapil-kk"}
    if kind is TicketExpiredV1:
        return TicketExpiredV1(**common, agency="dukcapil", number=f"KK-00{n}", expired_at=at)
    return TicketCancelledV1(
        **common, agency="dukcapil", number=f"KK-00{n}", reason="banjir", cancelled_at=at
    )


async def stored_messages(database_url: str) -> list[CitizenMessageRow]:
    database = Database(database_url)
    try:
        async with database.session() as session:
            return list((await session.exec(select(CitizenMessageRow))).all())
    finally:
        await database.dispose()


async def test_a_closing_session_tells_each_citizen_still_waiting_once_then_forgets_the_phone(
    start: Start, nc: NatsClient, gateway: Receiver, called: Called, database_url: str
) -> None:
    async with start(
        sms_provider="http", sms_gateway_url=gateway.url, schedule_url="https://botram.test/jadwal"
    ):
        await check_in(nc, 1, phone=PHONE)  # still waiting at the close
        await check_in(nc, 2, phone="081200000002")  # served before the close
        await check_in(nc, 3)  # waiting, but gave no phone
        await check_in(nc, 4, phone="081200000004")  # its expiry overtakes the session's close
        await texts(gateway, 3)
        await publish_event(nc, called("t-2", "KK-002"), "registry")
        await publish_event(nc, ended(TicketExpiredV1, 4), "registry")
        await consumed(nc, "notifier-tickets")
        closed = SessionClosedV1(**SESSION, date=date(2026, 12, 5), closed_at=datetime.now(UTC))
        await publish_event(nc, closed, "scheduler")
        await publish_event(nc, closed, "scheduler")  # closed twice: the phones are gone
        # three numbers, KK-004's turn near after the call, two expiries
        await texts(gateway, 6)
        await consumed(nc, "notifier-sessions")

    expiries = [r.json() for r in gateway.requests if "sudah ditutup" in r.json()["text"]]
    assert sorted(e["to"] for e in expiries) == sorted([PHONE, "081200000004"])
    assert gateway.count() == 6
    assert expiries[0]["text"] in {
        "Botram Kab. Bekasi: mohon maaf, layanan Botram di Muara Gembong hari ini sudah ditutup "
        f"sebelum nomor KK-00{n} untuk layanan Kartu Keluarga (KK) terlayani. Silakan datang "
        "ke Botram berikutnya yang membuka layanan tersebut. Jadwal: https://botram.test/jadwal"
        for n in (1, 4)
    }
    messages = await stored_messages(database_url)
    assert sorted(m.kind for m in messages).count("tickets_expired") == 2
    assert all(m.phone is None and m.status == "sent" for m in messages)


async def test_an_emergency_cancellation_tells_each_citizen_not_yet_served_once_with_the_reason(
    start: Start, nc: NatsClient, gateway: Receiver, called: Called
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        for session_id, day, where in (
            ("s-later", date(2026, 12, 19), {"kecamatan": "muara-gembong"}),
            ("s-desa", date(2026, 12, 8), {"kecamatan": "muara-gembong", "desa": "pantai-bahagia"}),
            ("s-elsewhere", date(2026, 12, 6), {"kecamatan": "babelan"}),
        ):
            await publish_event(nc, next_session(session_id, day, **where), "scheduler")
        await check_in(nc, 1, phone=PHONE)  # waiting
        await check_in(nc, 2, phone="081200000002")  # at the desk already: interrupted too
        await check_in(nc, 3, phone="081200000003")  # its cancellation comes first
        await texts(gateway, 3)
        await publish_event(nc, called("t-2", "KK-002"), "registry")
        await publish_event(nc, ended(TicketCancelledV1, 3), "registry")
        await publish_event(nc, ended(TicketCancelledV1, 1), "registry")
        await consumed(nc, "notifier-tickets")
        await publish_event(
            nc,
            SessionCancelledV1(**SESSION, date=date(2026, 12, 5), reason="banjir"),
            "scheduler",
        )
        await texts(gateway, 6)
        await publish_event(
            nc,
            SessionClosedV1(**SESSION, date=date(2026, 12, 5), closed_at=datetime.now(UTC)),
            "scheduler",
        )
        await consumed(nc, "notifier-sessions")

    told = [r.json() for r in gateway.requests if "dibatalkan" in r.json()["text"]]
    assert sorted(t["to"] for t in told) == sorted([PHONE, "081200000002", "081200000003"])
    # The next session nearby: a desa of the same kecamatan within two weeks, not the earlier
    # one in another kecamatan nor the later one at the same place.
    assert all(
        t["text"].endswith(
            "Alasan: banjir. Botram terdekat berikutnya: Pantai Bahagia, 8 Desember 2026 "
            "pukul 08.00 di Kantor Desa."
        )
        for t in told
    )
    assert gateway.count() == 6  # nothing at the close: the cancelled were told already


def next_session(session_id: str, day: date, **where: str) -> SessionScheduledV1:
    return SessionScheduledV1(
        session_id=session_id,
        level="desa" if "desa" in where else "kecamatan",
        date=day,
        start=time(8),
        end=time(13),
        venue="Kantor Desa",
        services=["dukcapil-kk"],
        **where,  # type: ignore[arg-type]
    )


async def test_a_session_moved_while_open_tells_the_citizens_checked_in(
    start: Start, nc: NatsClient, gateway: Receiver
) -> None:
    async with start(sms_provider="http", sms_gateway_url=gateway.url):
        await check_in(nc, 1, phone=PHONE)
        await check_in(nc, 2)  # no phone: nobody to tell
        await texts(gateway, 1)
        await publish_event(
            nc,
            SessionRescheduledV1(
                **SESSION,
                date=date(2026, 12, 12),
                previous_date=date(2026, 12, 5),
                reason="listrik padam",
            ),
            "scheduler",
        )
        [_, moved] = await texts(gateway, 2)
        await consumed(nc, "notifier-sessions")

    assert gateway.count() == 2
    assert "dipindahkan dari 5 Desember 2026 ke 12 Desember 2026. Alasan: listrik padam." in moved
