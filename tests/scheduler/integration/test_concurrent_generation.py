"""Planners generating the same range at once, on one instance or two: every request is
answered as a repeated generation would be, and each session is stored and announced once."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from helpers import FakeClock, fetch_events, running

StreamCount = Callable[[NatsClient], Awaitable[int]]
BODY = {"from": "2024-07-01", "to": "2024-12-31"}


async def generate_at_once(*clients: httpx.AsyncClient) -> list[httpx.Response]:
    return list(
        await asyncio.gather(*(c.post("/v1/schedule/generate", json=BODY) for c in clients))
    )


async def assert_generated_once(
    answers: list[httpx.Response],
    planner: httpx.AsyncClient,
    nc: NatsClient,
    stream_count: StreamCount,
) -> None:
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    results = [a.json() for a in answers]
    # Whichever ran first created the sessions; the others found them, as a second run would.
    created = max(r["created"] for r in results)
    assert created > 60 and sum(r["created"] for r in results) == created
    assert all(r["rescheduled"] == 0 and r["cancelled"] == [] for r in results)
    ids = [{s["session_id"] for s in r["sessions"] if s["session_id"]} for r in results]
    assert all(found == ids[0] for found in ids) and len(ids[0]) == created
    assert (await planner.get("/v1/sessions", params={"limit": 1})).json()["total"] == created
    events = await fetch_events(nc, "botram.session.>", created)
    assert {e.data.session_id for e in events} == ids[0]
    await asyncio.sleep(0.3)  # a second announcement would have landed by now
    assert await stream_count(nc) == created


async def test_concurrent_generations_on_one_instance_store_each_session_once(
    july_scheduler: httpx.AsyncClient, nc: NatsClient, stream_count: StreamCount
) -> None:
    answers = await generate_at_once(july_scheduler, july_scheduler, july_scheduler)

    await assert_generated_once(answers, july_scheduler, nc, stream_count)


@pytest.mark.timeout(300)
async def test_concurrent_generations_on_two_instances_store_each_session_once(
    july_scheduler: httpx.AsyncClient,
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    july_clock: FakeClock,
    rules_file: Path,
    stream_count: StreamCount,
) -> None:
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        rules_path=rules_file,
        auto_lifecycle=False,
    )
    async with running(create_app(settings, clock=july_clock)) as other_instance:
        answers = await generate_at_once(july_scheduler, other_instance)

    await assert_generated_once(answers, july_scheduler, nc, stream_count)
