"""The notifier's consumers: agency events become webhook deliveries; citizens' queues move."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent
from botram_contracts.subjects import (
    PRIVATE_CITIZEN_EVENTS,
    SERVICE_EVENTS,
    SESSION_EVENTS,
    TICKET_EVENTS,
)
from botram_notifier.deps import Deps
from botram_notifier.usecases.intake import take_private_event, take_public_event
from botram_runtime.service import ServiceRuntime

UseCase = Callable[[Deps, AsyncSession, CloudEvent[Any]], Awaitable[None]]

# Durable consumer names are kept as deployed: renaming one would replay the whole stream.
# durable -> (subject, use case, description)
CONSUMERS: dict[str, tuple[str, UseCase, str]] = {
    "notifier-sessions": (
        SESSION_EVENTS,
        take_public_event,
        "Session events: webhooks to every subscribed agency; cancelled/moved messages to "
        "pre-registered citizens; contacts erased (and purged from the private stream) when "
        "a session closes.",
    ),
    "notifier-tickets": (
        TICKET_EVENTS,
        take_public_event,
        "Ticket events: webhooks to the ticket's agency; the queue moves and citizens whose "
        "turn is near are told.",
    ),
    "notifier-services": (
        SERVICE_EVENTS,
        take_public_event,
        "Service outcomes: webhooks to the service's agency; the queue projection.",
    ),
    "notifier-private": (
        PRIVATE_CITIZEN_EVENTS,
        take_private_event,
        "Private contact events (phone numbers, stream BOTRAM_PRIVATE): ticket-issued and "
        "pre-registration messages.",
    ),
}


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    def wake_workers() -> None:
        """New deliveries or messages may have been committed: attempt them now."""
        deps.deliveries_due.notify()
        deps.messages_due.notify()

    for durable, (subject, use_case, description) in CONSUMERS.items():
        runtime.subscribe(
            subject,
            durable=durable,
            handler=partial(use_case, deps),
            description=description,
            after_commit=wake_workers,
        )
