"""Notifier tables (agency subscriptions and deliveries arrive with the notifier issue)."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from botram_shared.inbox import ProcessedEvent
from botram_shared.outbox import OutboxEvent

__all__ = ["OutboxEvent", "ProcessedEvent", "ServiceTable"]


class ServiceTable(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, apart from other services'."""
