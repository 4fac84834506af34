"""Alembic environment of the reporting's database."""

from sqlmodel import SQLModel

from botram_reporting import survey_store  # noqa: F401  # its table, on the same metadata
from botram_reporting.settings import Settings
from botram_reporting.store import ServiceTable
from botram_runtime.migrations_env import run_migrations

# Shared tables (outbox, processed events) live on SQLModel.metadata, the service's own apart.
METADATA = [SQLModel.metadata, ServiceTable.metadata]
run_migrations(METADATA, lambda: Settings().resolved_database_url())
