"""Fakes for the notifier's unit tests: dependencies with no database, network or bus."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from botram_contracts.reference import load_catalogue
from botram_notifier.deps import Deps, Wakeup
from botram_notifier.metrics import NotifierMetrics
from botram_notifier.settings import Settings
from helpers import FakeClock


class NoDatabase:
    """A database a unit test must never reach: any use fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a unit test reached the database ({name})")


@dataclass
class FakeWebhooks:
    """The webhook sender: records the URLs it was asked to check, sends nothing."""

    checked: list[str] = field(default_factory=list)

    async def check_url(self, url: str) -> None:
        self.checked.append(url)

    async def close(self) -> None:
        return None


@dataclass
class FakeSms:
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, phone: str, text: str, *, message_id: str, kind: str) -> None:
        self.sent.append((phone, text))

    async def close(self) -> None:
        return None


@dataclass
class FakePrivateStream:
    """The private stream: records the sessions whose private events were purged."""

    purged: list[str] = field(default_factory=list)

    async def purge_session(self, session_id: str) -> None:
        self.purged.append(session_id)


@pytest.fixture
def webhooks() -> FakeWebhooks:
    return FakeWebhooks()


@pytest.fixture
def deps(clock: FakeClock, webhooks: FakeWebhooks) -> Deps:
    """The notifier's dependencies with fakes for everything that does I/O."""
    return Deps(
        db=NoDatabase(),  # type: ignore[arg-type]  # a fake
        clock=clock,
        settings=Settings(),
        catalogue=load_catalogue(),
        metrics=NotifierMetrics(CollectorRegistry()),
        webhooks=webhooks,  # type: ignore[arg-type]  # a fake
        sms=FakeSms(),
        private_events=FakePrivateStream(),
        deliveries_due=Wakeup(),
        messages_due=Wakeup(),
    )
