"""The body of every service's Alembic `env.py`: migrate one service's tables.

`Database.migrate` hands Alembic an open connection; the `alembic` command line (used to
write new revisions) gets a fresh engine from the service's configured database URL.
"""

import asyncio
from collections.abc import Callable, Sequence

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run_migrations(metadata: Sequence[MetaData], database_url: Callable[[], str]) -> None:
    """Run Alembic for `metadata`, on the given connection or on the configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection, metadata)
        return
    asyncio.run(_run_with_new_engine(database_url(), metadata))


def _run(connection: Connection, metadata: Sequence[MetaData]) -> None:
    context.configure(
        connection=connection,
        target_metadata=list(metadata),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_new_engine(url: str, metadata: Sequence[MetaData]) -> None:
    engine = create_async_engine(url, hide_parameters=True)
    async with engine.begin() as connection:
        await connection.run_sync(_run, metadata)
    await engine.dispose()
