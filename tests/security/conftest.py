"""The four services running in one test, as an attacker with valid tokens meets them.

`fleet` runs every service's app (its lifespan, migrations and bus) on the session's
nats-server, each on a SQLite file of its own, and talks to each over ASGI with a token that
holds every role (and the agency `dukcapil`), so every route's access check is passed and
what is left to refuse bad input is the input handling itself. `explore` runs a Hypothesis
property with a bounded number of examples against those running apps.
"""

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botram_cli.nats_server import EmbeddedNatsServer
from botram_runtime.clock import local_today, system_clock
from helpers import ALL_ROLES, eventually, running, session_issuer

SERVICES = ("scheduler", "registry", "notifier", "reporting")
# Examples per route and property: enough to find the classes of input that crash, few
# enough for `make test` on two shared cores.
EXAMPLES_PER_ROUTE = 25
EXAMPLE_TIMEOUT_SECONDS = 60


@dataclass
class Fleet:
    """The four services, a client of each, and ids that exist in them."""

    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    known: dict[str, list[str]] = field(default_factory=dict)


def everything_token() -> dict[str, str]:
    return session_issuer().headers(*ALL_ROLES, agency="dukcapil")


@pytest.fixture
async def fleet(nats_server: EmbeddedNatsServer, nc: Any, tmp_path: Path) -> AsyncIterator[Fleet]:
    """The four services running, with a session opened, a citizen checked in and called,
    and a subscription: so generated requests also reach ids that exist."""
    async with AsyncExitStack() as stack:
        apps: dict[str, FastAPI] = {}
        clients: dict[str, httpx.AsyncClient] = {}
        for name in SERVICES:
            main = importlib.import_module(f"botram_{name}.main")
            settings_module = importlib.import_module(f"botram_{name}.settings")
            built = settings_module.Settings(
                nats_url=nats_server.url,
                database_url=f"sqlite+aiosqlite:///{tmp_path / name}.db",
                outbox_poll_seconds=0.1,
            )
            apps[name] = main.create_app(built)
            clients[name] = await stack.enter_async_context(
                running(apps[name], headers=everything_token())
            )
        fleet = Fleet(apps, clients)
        await _seed(fleet)
        yield fleet


async def _seed(fleet: Fleet) -> None:
    scheduler, registry, notifier = (fleet.clients[n] for n in SERVICES[:3])
    today = local_today(system_clock).isoformat()
    created = await scheduler.post(
        "/v1/sessions", json={"level": "kecamatan", "kecamatan": "Sukatani", "date": today}
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    assert (await scheduler.post(f"/v1/sessions/{session_id}/open")).status_code == 200

    async def check_in() -> httpx.Response | None:
        answer = await registry.post(
            f"/v1/sessions/{session_id}/check-ins",
            json={"nik": "3216054507900001", "name": "Siti Aminah", "services": ["dukcapil-kk"]},
        )
        return answer if answer.status_code == 201 else None

    checked_in = await eventually(check_in, within=20, interval=0.2)
    ticket_id = checked_in.json()["tickets"][0]["ticket_id"]
    subscription = await notifier.post(
        "/v1/subscriptions",
        json={
            "agency": "dukcapil",
            "url": "https://hooks.dukcapil.example/botram",
            "event_types": ["botram.ticket.called.v1"],
        },
    )
    assert subscription.status_code == 201, subscription.text
    fleet.known = {
        "session_id": [session_id],
        "ticket_id": [ticket_id],
        "subscription_id": [subscription.json()["id"]],
        "service": ["dukcapil-kk"],
    }


Check = Callable[[Any], Awaitable[None]]


@pytest.fixture
def explore() -> Callable[[st.SearchStrategy[Any], Check, int], Awaitable[None]]:
    """`await explore(strategy, check, examples)`: run `check` on examples of `strategy`.

    Hypothesis drives the examples from a worker thread; each `check` runs on the test's
    own event loop (where the services and their bus live), bounded in time.
    """

    async def run(strategy: st.SearchStrategy[Any], check: Check, examples: int) -> None:
        loop = asyncio.get_running_loop()

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def holds(value: Any) -> None:
            future = asyncio.run_coroutine_threadsafe(check(value), loop)
            future.result(timeout=EXAMPLE_TIMEOUT_SECONDS)

        await asyncio.to_thread(holds)

    return run
