"""Alembic environment of the scheduler's database."""

from sqlmodel import SQLModel

from botram_runtime.migrations_env import run_migrations
from botram_scheduler.settings import Settings
from botram_scheduler.store import ServiceTable

# Shared tables (outbox, processed events) live on SQLModel.metadata, the service's own apart.
METADATA = [SQLModel.metadata, ServiceTable.metadata]
run_migrations(METADATA, lambda: Settings().resolved_database_url())
