"""Alembic environment of the registry's database."""

import botram_registry.store  # noqa: F401  (registers the tables on SQLModel.metadata)
from botram_registry.settings import Settings
from botram_shared.migrations_env import run_migrations
from sqlmodel import SQLModel

run_migrations(SQLModel.metadata, lambda: Settings().resolved_database_url())
