"""Two planners generating the same range at once: both answered, the calendar made once."""

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from nats.aio.client import Client as NatsClient

from helpers import fetch_events

StreamCount = Callable[[NatsClient], Awaitable[int]]


async def test_two_concurrent_generations_answer_alike_and_store_each_session_once(
    july_scheduler: httpx.AsyncClient, nc: NatsClient, stream_count: StreamCount
) -> None:
    body = {"from": "2024-07-01", "to": "2024-12-31"}

    answers = await asyncio.gather(
        *(july_scheduler.post("/v1/schedule/generate", json=body) for _ in range(2))
    )

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    first, second = (a.json() for a in answers)
    # Whichever ran first created the sessions; the other found them, as a second run would.
    assert sorted([first["created"], second["created"]])[0] == 0
    created = max(first["created"], second["created"])
    assert created > 60
    assert {s["session_id"] for s in first["sessions"]} == {
        s["session_id"] for s in second["sessions"]
    }
    listed = (await july_scheduler.get("/v1/sessions", params={"limit": 1})).json()
    assert listed["total"] == created
    events = await fetch_events(nc, "botram.session.>", created)
    assert len({e.data.session_id for e in events}) == created
    await asyncio.sleep(0.3)  # a second announcement would have landed by now
    assert await stream_count(nc) == created
