"""Notifier tables (agency subscriptions and deliveries arrive with the notifier issue)."""

from botram_shared.inbox import ProcessedEvent
from botram_shared.outbox import OutboxEvent

__all__ = ["OutboxEvent", "ProcessedEvent"]
