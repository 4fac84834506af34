"""What a consumed event does: webhooks for agencies, the queue and messages for citizens."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import CloudEvent
from botram_notifier.deps import Deps
from botram_notifier.usecases.citizen_messages import follow_event
from botram_notifier.usecases.fan_out import fan_out


async def take_public_event(deps: Deps, tx: AsyncSession, event: CloudEvent[Any]) -> None:
    """A session, ticket or service event: agencies' deliveries, then the citizens' side."""
    await fan_out(deps, tx, event)
    await follow_event(deps, tx, event)


async def take_private_event(deps: Deps, tx: AsyncSession, event: CloudEvent[Any]) -> None:
    """A private event (a citizen's phone): never for agencies, only for the citizen's messages."""
    await follow_event(deps, tx, event)
