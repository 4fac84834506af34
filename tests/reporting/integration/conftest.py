"""Fixtures of reporting's integration tests: its settings on the test bus and database, and
its dependencies on a migrated database (for use cases called directly)."""

from collections.abc import AsyncIterator

import pytest

from botram_cli.nats_server import EmbeddedNatsServer
from botram_reporting.deps import Deps
from botram_reporting.main import MIGRATIONS, build_deps
from botram_reporting.settings import Settings
from botram_runtime.db import Database


@pytest.fixture
def settings(nats_server: EmbeddedNatsServer, database_url: str) -> Settings:
    """Reporting on the test nats-server and database, polling fast."""
    return Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        reporting_batch_size=200,
        reporting_batch_timeout_seconds=0.2,
        consumer_lag_poll_seconds=0.2,
    )


@pytest.fixture
async def deps(database_url: str) -> AsyncIterator[Deps]:
    """Reporting's dependencies on a migrated database; rankings off (tests turn them on)."""
    db = Database(database_url)
    await db.migrate(MIGRATIONS)
    yield build_deps(Settings(database_url=database_url), db, publish_rankings=False)
    await db.dispose()
