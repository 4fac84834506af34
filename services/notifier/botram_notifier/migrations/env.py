"""Alembic environment of the notifier's database."""

from sqlmodel import SQLModel

import botram_notifier.pre_registration_store  # noqa: F401  (its table, on ServiceTable.metadata)
from botram_notifier.settings import Settings
from botram_notifier.store import ServiceTable
from botram_runtime.migrations_env import run_migrations

# Shared tables (outbox, processed events) live on SQLModel.metadata, the service's own apart.
METADATA = [SQLModel.metadata, ServiceTable.metadata]
run_migrations(METADATA, lambda: Settings().resolved_database_url())
