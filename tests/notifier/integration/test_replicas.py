"""Two notifier replicas on one PostgreSQL database: each webhook and each citizen message
goes out once, whichever replica's worker finds it first."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import ServiceCompletedV1
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
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
