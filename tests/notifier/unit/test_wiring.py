"""The notifier's wiring without a bus or database: consumers, wake-ups, workers, use cases."""

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from botram_contracts.subjects import SERVICE_EVENTS, SESSION_EVENTS, TICKET_EVENTS
from botram_notifier import subscribers, workers
from botram_notifier.deps import Deps, Wakeup
from botram_notifier.domain.subscriptions import CreateSubscription
from botram_notifier.usecases import subscriptions
from botram_notifier.usecases.intake import take_private_event, take_public_event
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import DomainError
from helpers import eventually


class FakeRuntime:
    """Records what `subscribers.register` asks of the service runtime."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[str, Any]] = {}

    def subscribe(self, subject: str, **options: Any) -> None:
        self.subscriptions[options["durable"]] = {"subject": subject, **options}


def test_the_four_consumers_keep_their_deployed_durable_names(deps: Deps) -> None:
    runtime = FakeRuntime()

    subscribers.register(runtime, deps)  # type: ignore[arg-type]  # a fake runtime

    found = {name: s["subject"] for name, s in runtime.subscriptions.items()}
    assert found == {
        "notifier-sessions": SESSION_EVENTS,
        "notifier-tickets": TICKET_EVENTS,
        "notifier-services": SERVICE_EVENTS,
        "notifier-private": "botram.private.citizen.>",
    }
    handlers = {name: s["handler"].func for name, s in runtime.subscriptions.items()}
    assert handlers["notifier-private"] is take_private_event
    assert {handlers[name] for name in found if name != "notifier-private"} == {take_public_event}
    assert all(s["handler"].args == (deps,) for s in runtime.subscriptions.values())
    assert all(s["description"] for s in runtime.subscriptions.values())


async def test_a_committed_event_wakes_both_workers(deps: Deps) -> None:
    runtime = FakeRuntime()
    subscribers.register(runtime, deps)  # type: ignore[arg-type]  # a fake runtime

    runtime.subscriptions["notifier-tickets"]["after_commit"]()

    async with asyncio.timeout(1):
        await deps.deliveries_due.wait(60)
        await deps.messages_due.wait(60)


async def test_a_wakeup_returns_at_once_when_notified_before_and_then_waits_again() -> None:
    wakeup = Wakeup()
    wakeup.notify()
    loop = asyncio.get_running_loop()

    started = loop.time()
    await wakeup.wait(5)
    woken = loop.time() - started
    started = loop.time()
    await wakeup.wait(0.05)
    waited = loop.time() - started

    assert woken < 1
    assert waited >= 0.04


async def test_a_bad_subscription_is_refused_before_any_lookup_or_write(
    deps: Deps, webhooks: Any
) -> None:
    command = CreateSubscription(
        actor=Actor(sub="operator-1", roles=frozenset({Role.OPERATOR})),
        agency="bpjs-kesehatan",
        url="https://hooks.example.org/botram",
        event_types=["botram.citizen.checked_in.v1"],
    )

    with pytest.raises(DomainError) as refused:
        await subscriptions.create_subscription(deps, command)

    assert (refused.value.status, refused.value.code) == (403, "event-type-forbidden")
    assert webhooks.checked == []  # no DNS lookup; the fake database was never reached


async def test_an_agency_naming_another_agency_is_refused_before_any_lookup_or_write(
    deps: Deps, webhooks: Any
) -> None:
    command = CreateSubscription(
        actor=Actor(sub="baznas-system", roles=frozenset({Role.AGENCY}), agency="baznas"),
        agency="bpjs-kesehatan",
        url="https://hooks.example.org/botram",
        event_types=["botram.service.completed.v1"],
    )

    with pytest.raises(DomainError) as refused:
        await subscriptions.create_subscription(deps, command)

    assert (refused.value.status, refused.value.code) == (403, "agency-mismatch")
    assert webhooks.checked == []


async def test_each_endpoint_gets_at_most_its_share_of_concurrent_attempts(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deliveries to one slow endpoint never hold up a third to another endpoint."""
    settings = deps.settings.model_copy(update={"webhook_concurrency_per_endpoint": 1})
    deps = replace(deps, settings=settings)
    slow = asyncio.Event()
    started: list[str] = []
    done: list[str] = []

    async def due(_deps: Deps) -> list[tuple[str, str]]:
        return [
            ("a", "https://slow.example/1"),
            ("b", "https://slow.example/2"),
            ("c", "https://fast.example/"),
        ]

    async def attempt(_deps: Deps, delivery_id: str) -> None:
        started.append(delivery_id)
        if delivery_id != "c":
            await slow.wait()
        done.append(delivery_id)

    monkeypatch.setattr(workers.attempts, "due_deliveries", due)
    monkeypatch.setattr(workers.attempts, "attempt_delivery", attempt)
    worker = workers.DeliveryWorker(deps)

    await worker.dispatch_due()
    await eventually(lambda: "c" in done, within=2, interval=0.01)

    assert started == ["a", "c"]  # b waits for a: one at a time to the slow endpoint
    slow.set()
    await eventually(lambda: len(done) == 3, within=2, interval=0.01)
    assert done == ["c", "a", "b"]
