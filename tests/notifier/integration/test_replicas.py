"""Two notifier replicas on one PostgreSQL database: each webhook and each citizen message
goes out once, whichever replica's worker finds it first."""

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    ServiceCompletedV1,
    TicketRef,
)
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_notifier.store import CitizenMessageRow
from botram_runtime.db import Database
from helpers import eventually, publish_event, running, session_issuer

Receiver = Any  # the `receiver` fixture (tests/notifier/conftest.py)
EVENTS = 40

pytestmark = pytest.mark.timeout(120)


def replica_settings(nats_server: EmbeddedNatsServer, postgres_url: str) -> Settings:
    return Settings(
        nats_url=nats_server.url,
        database_url=postgres_url,
        notifier_retry_schedule="0.2,0.2,0.2",
        webhook_jitter=0,
        webhook_poll_seconds=0.02,
        webhook_timeout_seconds=5,
    )


async def test_two_replicas_post_each_webhook_once(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    postgres_url: str,
    receiver: Receiver,
    completed: Callable[..., ServiceCompletedV1],
) -> None:
    settings = replica_settings(nats_server, postgres_url)
    async with running(create_app(settings)) as one, running(create_app(settings)) as two:
        response = await one.post(
            "/v1/subscriptions",
            json={
                "agency": "bpjs-kesehatan",
                "url": receiver.url + "/hooks",
                "event_types": ["botram.service.completed.v1"],
            },
            headers=session_issuer().headers("agency", agency="bpjs-kesehatan"),
        )
        assert response.status_code == 201, response.text
        subscription = response.json()["id"]
        events = [
            await publish_event(nc, completed(ticket_id=f"t-{n}"), "registry")
            for n in range(EVENTS)
        ]

        async def all_delivered() -> list[dict[str, Any]] | None:
            answer = await two.get(f"/v1/subscriptions/{subscription}/deliveries")
            found: list[dict[str, Any]] = answer.json()
            done = len(found) == EVENTS and all(d["status"] == "delivered" for d in found)
            return found if done else None

        listed = await eventually(all_delivered, within=30)
        await asyncio.sleep(0.5)  # a second post would have arrived by now

    posts = Counter(r.headers["webhook-id"] for r in receiver.requests)
    assert posts == Counter({str(e.id): 1 for e in events})
    assert sorted(d["attempts"] for d in listed) == [1] * EVENTS


async def check_in_with_phone(nc: NatsClient, n: int, phone: str) -> None:
    tickets = [
        TicketRef(
            ticket_id=f"t-{n}", service="dukcapil-kk", agency="dukcapil", number=f"KK-{n:03}",
            position=n + 1,
        )
    ]  # fmt: skip
    session = {"session_id": "s-1", "level": "kecamatan", "kecamatan": "muara-gembong"}
    await publish_event(
        nc,
        CitizenCheckedInV1(
            **session, check_in_id=f"c-{n}", citizen="a" * 64, sex="F", age_band="30-44",
            resident=True, priority=False, tickets=tickets, checked_in_at=datetime.now(UTC),
        ),
        "registry",
    )  # fmt: skip
    await publish_event(
        nc,
        CitizenContactSharedV1(
            check_in_id=f"c-{n}", session_id="s-1", phone=phone, tickets=tickets
        ),
        "registry",
    )


async def test_two_replicas_send_each_message_once_and_share_the_rate_limit(
    nats_server: EmbeddedNatsServer, nc: NatsClient, postgres_url: str, gateway: Receiver
) -> None:
    settings = replica_settings(nats_server, postgres_url).model_copy(
        update={
            "sms_provider": "http",
            "sms_gateway_url": gateway.url,
            "sms_poll_seconds": 0.02,
            "sms_max_per_phone_per_hour": 2,
        }
    )
    phones = [f"08123456{n:04}" for n in range(EVENTS)]
    shared_phone = "081299990000"  # five tickets, a limit of two an hour
    async with running(create_app(settings)), running(create_app(settings)):
        for n, phone in enumerate(phones):
            await check_in_with_phone(nc, n, phone)
        for n in range(EVENTS, EVENTS + 5):
            await check_in_with_phone(nc, n, shared_phone)
        db = Database(postgres_url)
        try:

            async def all_settled() -> bool:
                async with db.session() as tx:
                    rows = (await tx.exec(select(CitizenMessageRow.status))).all()
                return len(rows) == EVENTS + 5 and "pending" not in rows

            await eventually(all_settled, within=30)
        finally:
            await db.dispose()
        await asyncio.sleep(0.5)  # a second send would have arrived by now

    sent = Counter(r.json()["to"] for r in gateway.requests)
    assert sent == Counter({phone: 1 for phone in phones} | {shared_phone: 2})
