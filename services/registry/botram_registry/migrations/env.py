"""Alembic environment of the registry's database."""

from sqlmodel import SQLModel

from botram_registry import (
    followups_store,  # noqa: F401  (its tables join the metadata)
    offline_store,  # noqa: F401  (its table, on the same metadata)
    pre_registration_store,  # noqa: F401  (its table)
    survey_store,  # noqa: F401  (its table)
)
from botram_registry.settings import Settings
from botram_registry.store import ServiceTable
from botram_runtime.migrations_env import run_migrations

# Shared tables (outbox, processed events) live on SQLModel.metadata, the service's own apart.
METADATA = [SQLModel.metadata, ServiceTable.metadata]
run_migrations(METADATA, lambda: Settings().resolved_database_url())
