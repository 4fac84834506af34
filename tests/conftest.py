"""Fixtures shared by the whole suite: a real nats-server, databases, service apps.

NATS: each test session starts its own `nats-server` (from the wheel) on a free port with a
temporary store; tests that kill or restart it get one of their own. Databases: every
storage test runs on SQLite and, when BOTRAM_TEST_DATABASE_URL is set, on PostgreSQL too,
each test in a database of its own.
"""

import importlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy.engine import make_url

from botram_cli.nats_server import EmbeddedNatsServer
from botram_runtime.stream import STREAM_NAMES, ensure_streams
from helpers import FakeClock, LiveService, SealedNats, TestIssuer, free_port

PG_URL = os.environ.get("BOTRAM_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session", autouse=True)
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIssuer]:
    """The test session's identity provider: every service built in a test trusts its key."""
    test_issuer = TestIssuer(tmp_path_factory.mktemp("auth"))
    test_issuer.make_session_issuer()
    previous = os.environ.get("BOTRAM_AUTH_JWKS_FILE")
    os.environ["BOTRAM_AUTH_JWKS_FILE"] = str(test_issuer.jwks_file)
    yield test_issuer
    if previous is None:
        os.environ.pop("BOTRAM_AUTH_JWKS_FILE", None)
    else:
        os.environ["BOTRAM_AUTH_JWKS_FILE"] = previous


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNatsServer]:
    """One nats-server with JetStream for the tests that only need a bus."""
    server = EmbeddedNatsServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[EmbeddedNatsServer]:
    """A nats-server this test may stop, kill -9 and restart."""
    server = EmbeddedNatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sealed_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealedNats]:
    """A nats-server of the shipped deploy/nats/nats.conf (no anonymous access), per module."""
    server = SealedNats(tmp_path_factory.mktemp("sealed-nats")).start()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_server: EmbeddedNatsServer) -> AsyncIterator[NatsClient]:
    """A raw nats-py client on the shared server, with both streams declared empty."""
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    await ensure_streams(js)
    for stream in STREAM_NAMES:
        await js.purge_stream(stream)
        for info in await js.consumers_info(stream):
            await js.delete_consumer(stream, info.name)
    yield client
    await client.drain()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, for what only PostgreSQL does (several replicas of a
    service on one database; SQLite is one process per file). Missing in CI is a failure,
    on a laptop without PostgreSQL a skip."""
    if PG_URL is None:
        if os.environ.get("CI"):
            pytest.fail("BOTRAM_TEST_DATABASE_URL is required in CI")
        pytest.skip("no PostgreSQL here: set BOTRAM_TEST_DATABASE_URL")
    async with fresh_postgres_database() as url:
        yield url


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"botram_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def serve(nats_server: EmbeddedNatsServer, tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """`serve("scheduler", auto_lifecycle=False, clock=…)`: that service, running, over HTTP.

    Settings default to the test's nats-server and a SQLite file in the test's folder; any
    keyword (besides `clock`) is a setting of the service. Stopped at the end of the test.
    """
    started: list[LiveService] = []

    def start(service: str, *, clock: Any = None, **settings: Any) -> LiveService:
        main = importlib.import_module(f"botram_{service}.main")
        settings_module = importlib.import_module(f"botram_{service}.settings")
        port = free_port()
        settings.setdefault("nats_url", nats_server.url)
        settings.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / service}.db")
        built = settings_module.Settings(http_port=port, **settings)
        app = main.create_app(built) if clock is None else main.create_app(built, clock)
        live = LiveService(service, app, port)
        live.start()
        started.append(live)
        return live

    yield start
    for live in reversed(started):
        live.stop()
