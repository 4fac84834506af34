"""The notifier's dependencies, built once in `main.py` and handed to every use case."""

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from botram_contracts.reference import Catalogue
from botram_notifier.adapters.private_stream import PrivateEvents
from botram_notifier.adapters.sms import MessageProvider
from botram_notifier.adapters.webhook_sender import WebhookSender
from botram_notifier.domain.deliveries import RetryPolicy
from botram_notifier.metrics import NotifierMetrics
from botram_notifier.settings import Settings
from botram_runtime.clock import Clock
from botram_runtime.db import Database


class Wakeup:
    """Wakes a worker loop when there is work for it, instead of waiting for its next poll."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, at_most: float) -> None:
        """Return once notified (even before this call) or after `at_most` seconds."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=at_most)
        self._event.clear()


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    settings: Settings
    catalogue: Catalogue
    metrics: NotifierMetrics
    webhooks: WebhookSender
    sms: MessageProvider
    # The private stream's copies of phone numbers (purged when their session closes).
    private_events: PrivateEvents
    # New or re-queued webhook deliveries: the delivery worker attempts them at once.
    deliveries_due: Wakeup
    # New citizen messages: the message worker sends them at once.
    messages_due: Wakeup

    def retry_policy(self) -> RetryPolicy:
        settings = self.settings
        return RetryPolicy(
            schedule=settings.retry_schedule(),
            jitter=settings.webhook_jitter,
            max_retry_after_seconds=settings.webhook_max_retry_after_seconds,
            auto_disable_after_seconds=settings.webhook_auto_disable_after_seconds,
        )

    def service_agency(self) -> dict[str, str]:
        """Which agency offers each service of the catalogue."""
        return {service.code: service.agency for service in self.catalogue}

    def service_name(self, code: str) -> str:
        """A service's name for citizens (its code when the catalogue does not know it)."""
        return self.catalogue.get(code).name if code in self.catalogue else code


async def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
