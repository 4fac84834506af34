"""Runtime tests' databases: only the tables a test needs, no service's schema."""

from typing import Any

from sqlmodel import SQLModel

from botram_runtime.db import Database


async def create_tables(db: Database, *models: Any) -> None:
    """Create the tables of these SQLModel table classes in `db`."""
    tables = [model.__table__ for model in models]
    async with db.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)
