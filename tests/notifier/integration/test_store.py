"""The notifier's tables: its migrations build exactly what its models declare."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from botram_notifier.main import MIGRATIONS
from botram_notifier.store import ServiceTable
from botram_runtime.db import Database


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    # As the service's migrations/env.py: shared tables on SQLModel's metadata, its own apart.
    found: list[Any] = compare_metadata(context, [SQLModel.metadata, ServiceTable.metadata])
    return found


async def test_an_autogenerate_against_the_models_finds_nothing_to_change(
    database_url: str,
) -> None:
    """Typed states (StrEnums) keep their string columns: no migration is due."""
    database = Database(database_url, service="notifier")
    try:
        await database.migrate(MIGRATIONS)
        async with database.engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await database.dispose()

    assert found == []
