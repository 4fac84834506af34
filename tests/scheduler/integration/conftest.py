"""Scheduler integration fixtures: the service on a real nats-server and a real database
(SQLite, and PostgreSQL when BOTRAM_TEST_DATABASE_URL is set), driven over HTTP."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_runtime.clock import JAKARTA
from botram_scheduler.main import create_app
from botram_scheduler.rules_file import DEFAULT_RULES_PATH
from botram_scheduler.settings import Settings
from helpers import FakeClock, running


def _jakarta(day: date, hour: int = 7) -> datetime:
    return datetime.combine(day, time(hour), JAKARTA).astimezone(UTC)


@pytest.fixture
def jakarta() -> Callable[..., datetime]:
    """`jakarta(day, hour=7)`: that hour of that day in Bekasi, as a UTC time."""
    return _jakarta


@pytest.fixture
async def scheduler(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The scheduler with today's clock and the shipped rules; sessions opened by hand."""
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        auto_lifecycle=False,  # these tests open and close by hand
    )
    async with running(create_app(settings, clock=clock)) as client:
        yield client


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """A copy of the shipped rules that a test may edit, as planners edit theirs."""
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES_PATH.read_text())
    return path


@pytest.fixture
def edit_rules(rules_file: Path) -> Callable[[str, str], None]:
    """`edit_rules(old, new)`: replace text in the rules file (which must contain `old`)."""

    def edit(old: str, new: str) -> None:
        text = rules_file.read_text()
        assert old in text
        rules_file.write_text(text.replace(old, new))

    return edit


@pytest.fixture
def july_clock() -> FakeClock:
    """Friday 5 July 2024, the day before the seed's first session."""
    return FakeClock(_jakarta(date(2024, 7, 5)))


@pytest.fixture
async def july_scheduler(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    july_clock: FakeClock,
    rules_file: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    """The scheduler on 5 July 2024 with an editable copy of the shipped rules."""
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        rules_path=rules_file,
        auto_lifecycle=False,  # tests drive the clock's tick themselves
    )
    async with running(create_app(settings, clock=july_clock)) as client:
        yield client


class Generate(Protocol):
    def __call__(
        self, client: httpx.AsyncClient, start: str, end: str, *, dry_run: bool = False
    ) -> Awaitable[dict[str, Any]]: ...


async def _generate(
    client: httpx.AsyncClient, start: str, end: str, *, dry_run: bool = False
) -> dict[str, Any]:
    response = await client.post(
        "/v1/schedule/generate", json={"from": start, "to": end, "dry_run": dry_run}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def generate() -> Generate:
    """`await generate(client, from, to, dry_run=False)`: the generation's answer (200)."""
    return _generate


async def _stream_count(nc: NatsClient) -> int:
    return (await nc.jetstream().stream_info("BOTRAM")).state.messages  # type: ignore[no-any-return]


@pytest.fixture
def stream_count() -> Callable[[NatsClient], Awaitable[int]]:
    """`await stream_count(nc)`: how many events the BOTRAM stream holds."""
    return _stream_count
