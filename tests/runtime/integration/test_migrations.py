"""Each service's Alembic revisions build exactly the tables its models describe."""

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from botram_runtime.db import Database

SERVICES = ["scheduler", "registry", "notifier", "reporting"]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrating_to_head_leaves_no_difference_from_the_models(
    service: str, database_url: str
) -> None:
    package = importlib.import_module(f"botram_{service}")
    store = importlib.import_module(f"botram_{service}.store")
    importlib.import_module(f"botram_{service}.main")  # every table module the app wires
    importlib.import_module("botram_runtime.audit")  # the shared tables' models
    importlib.import_module("botram_runtime.outbox")
    importlib.import_module("botram_runtime.inbox")
    metadata = [SQLModel.metadata, store.ServiceTable.metadata]
    database = Database(database_url)
    try:
        await database.migrate(Path(package.__file__).parent / "migrations")
        async with database.engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await database.dispose()

    assert differences == []
