"""The registry on a real nats-server and a real database (SQLite, and PostgreSQL when
BOTRAM_TEST_DATABASE_URL is set): the app, the sessions it learns from events, citizens."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import time
from typing import Any, Protocol

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import SessionOpenedV1, SessionScheduledV1
from botram_registry.deps import Deps
from botram_registry.main import create_app
from botram_registry.settings import Settings
from botram_runtime.clock import local_today
from helpers import FakeClock, eventually, publish_event, running

SERVICES = ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]
NIK = "3216054507900001"


class AnnounceSession(Protocol):
    async def __call__(
        self, session_id: str = "s-1", *, open_it: bool = True, quotas: dict[str, int] | None = None
    ) -> None: ...


@pytest.fixture
async def app_and_client(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Deps, httpx.AsyncClient]]:
    """A running registry: its dependencies, and an HTTP client talking to it."""
    settings = Settings(
        nats_url=nats_server.url, database_url=database_url, outbox_poll_seconds=0.1
    )
    app = create_app(settings, clock=clock)
    async with running(app) as client:
        yield app.state.deps, client


@pytest.fixture
def registry(app_and_client: tuple[Deps, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


@pytest.fixture
def deps(app_and_client: tuple[Deps, httpx.AsyncClient]) -> Deps:
    return app_and_client[0]


@pytest.fixture
def announce_session(nc: NatsClient, clock: FakeClock) -> AnnounceSession:
    """Publish a session at Sukatani today, as the scheduler would (and open it)."""

    async def announce(
        session_id: str = "s-1", *, open_it: bool = True, quotas: dict[str, int] | None = None
    ) -> None:
        common: dict[str, Any] = {
            "session_id": session_id,
            "level": "kecamatan",
            "kecamatan": "sukatani",
            "date": local_today(clock),
        }
        await publish_event(
            nc,
            SessionScheduledV1(
                **common, start=time(8), end=time(14), services=SERVICES, quotas=quotas or {}
            ),
            "scheduler",
        )
        if open_it:
            await publish_event(nc, SessionOpenedV1(**common, opened_at=clock()), "scheduler")

    return announce


@pytest.fixture
def known_session() -> Callable[[httpx.AsyncClient, str, str], Awaitable[None]]:
    """Wait until the registry has a session in a status."""

    async def known(registry: httpx.AsyncClient, session_id: str, status: str) -> None:
        async def has_status() -> bool:
            response = await registry.get(f"/v1/sessions/{session_id}/queue")
            return response.status_code == 200 and response.json()["status"] == status

        await eventually(has_status)

    return known


@pytest.fixture
def citizen() -> Callable[..., dict[str, object]]:
    """A check-in body: Siti Aminah, for both services of the session, unless overridden."""

    def body(nik: str = NIK, **overrides: object) -> dict[str, object]:
        return {"nik": nik, "name": "Siti Aminah", "services": SERVICES} | overrides

    return body


@pytest.fixture
def nik_for() -> Callable[[int], str]:
    """A valid NIK per serial number (born 1 January 1990, resident of Kabupaten Bekasi)."""

    def nik(serial: int) -> str:
        return f"3216050101900{serial:03d}" if serial < 1000 else f"321605010190{serial:04d}"

    return nik
