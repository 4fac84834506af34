"""Wiring: build the notifier app from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_contracts.reference import load_catalogue
from botram_notifier import api, subscribers
from botram_notifier.adapters.private_stream import PrivateStream
from botram_notifier.adapters.sms import message_provider
from botram_notifier.adapters.webhook_sender import WebhookSender
from botram_notifier.deps import Deps, Wakeup
from botram_notifier.metrics import NotifierMetrics
from botram_notifier.settings import Settings
from botram_notifier.usecases.retention import sweep
from botram_notifier.workers import DeliveryWorker, MessageWorker
from botram_runtime.bus import jetstream_of
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram notifier: agency webhook subscriptions and deliveries (Standard Webhooks), and "
    "messages to citizens. Consumes botram.* events and the private botram.private.* ones."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(
        settings,
        MIGRATIONS,
        description=DESCRIPTION,
        # The revision that hashes opted-out phones needs the key (migrations/versions).
        migration_attributes={"opt_out_key": settings.opt_out_key.get_secret_value()},
    )
    private_stream = PrivateStream(lambda: jetstream_of(runtime.broker))
    deps = Deps(
        db=runtime.database,
        clock=clock,
        settings=settings,
        catalogue=load_catalogue(regency=settings.regency),
        metrics=NotifierMetrics(runtime.registry),
        webhooks=WebhookSender(
            timeout=settings.webhook_timeout_seconds, ssrf_guard=settings.ssrf_guard
        ),
        sms=message_provider(settings),
        private_events=private_stream,
        deliveries_due=Wakeup(),
        messages_due=Wakeup(),
    )
    subscribers.register(runtime, deps)
    delivery_worker = DeliveryWorker(deps)
    message_worker = MessageWorker(deps)

    @runtime.after_migrate
    async def start_workers() -> None:
        # Pending deliveries of a previous run resume at once, even before the bus is back.
        delivery_worker.start()
        message_worker.start()

    runtime.on_start(private_stream.clear_legacy_copies)

    async def retention_sweep() -> None:
        await sweep(deps)

    runtime.every(settings.retention_sweep_seconds, retention_sweep, name="retention-sweep")

    @runtime.on_stop
    async def stop_workers() -> None:
        await delivery_worker.stop()
        await deps.webhooks.close()
        await message_worker.stop()
        await deps.sms.close()

    app = runtime.create_app("Botram notifier")
    app.state.deps = deps
    app.include_router(api.router)
    return app
