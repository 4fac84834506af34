"""Notifier bus handlers: agency events become webhook deliveries; citizens' queues move."""

from collections.abc import Callable
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import DeliverPolicy, JStream, PullSub

from botram_contracts.events import CloudEvent
from botram_contracts.subjects import (
    PRIVATE_PREFIX,
    SERVICE_EVENTS,
    SESSION_EVENTS,
    TICKET_EVENTS,
)
from botram_notifier import citizens
from botram_notifier.handlers import Notifier, fan_out
from botram_runtime.bus import PULL_BATCH, PULL_TIMEOUT_SECONDS, Delivery, delivery_decoder
from botram_runtime.inbox import claim_event
from botram_runtime.service import ServiceRuntime
from botram_runtime.stream import STREAM_NAME

PRIVATE_EVENTS = f"{PRIVATE_PREFIX}.>"

# consumer name -> (subject, whether agencies may receive these events, description)
CONSUMERS: dict[str, tuple[str, bool, str]] = {
    "notifier-sessions": (
        SESSION_EVENTS,
        True,
        "Session events: webhooks to every subscribed agency; cancelled/moved messages to "
        "pre-registered citizens; contacts erased when a session closes.",
    ),
    "notifier-tickets": (
        TICKET_EVENTS,
        True,
        "Ticket events: webhooks to the ticket's agency; the queue moves and citizens whose "
        "turn is near are told.",
    ),
    "notifier-services": (
        SERVICE_EVENTS,
        True,
        "Service outcomes: webhooks to the service's agency; the queue projection.",
    ),
    "notifier-private": (
        PRIVATE_EVENTS,
        False,
        "Private contact events (phone numbers): ticket-issued messages.",
    ),
}


def register(runtime: ServiceRuntime, notifier: Notifier, on_committed: Callable[[], None]) -> None:
    for name, (subject, to_agencies, description) in CONSUMERS.items():
        _subscribe(runtime, notifier, name, subject, to_agencies, description, on_committed)


def _subscribe(
    runtime: ServiceRuntime,
    notifier: Notifier,
    name: str,
    subject: str,
    to_agencies: bool,
    description: str,
    on_committed: Callable[[], None],
) -> None:
    consume = runtime.consumer(name)

    async def apply(event: CloudEvent[Any], payload: bytes) -> None:
        async with notifier.db.transaction() as session:
            if not await claim_event(session, name, str(event.id)):
                return
            if to_agencies:
                await fan_out(notifier, session, event, payload)
            await citizens.apply_event(notifier, session, event)
        on_committed()

    @runtime.broker.subscriber(
        subject,
        stream=JStream(STREAM_NAME, declare=False),
        durable=name,
        deliver_policy=DeliverPolicy.ALL,
        pull_sub=PullSub(batch_size=PULL_BATCH, timeout=PULL_TIMEOUT_SECONDS),
        ack_policy=AckPolicy.ACK,
        decoder=delivery_decoder,
        title=f"notifier/{name}",
        description=description,
    )
    async def on_event(delivery: Delivery) -> None:
        """Match an event to webhook subscriptions and citizens' messages."""
        await consume(delivery, lambda event: apply(event, delivery.payload))
