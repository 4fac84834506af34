"""Wiring: build the notifier app from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_contracts.reference import load_catalogue
from botram_notifier import api, subscribers
from botram_notifier.citizens import MessageSender
from botram_notifier.delivery import DeliveryWorker
from botram_notifier.handlers import Notifier
from botram_notifier.metrics import NotifierMetrics
from botram_notifier.providers import HttpGatewayProvider, LogProvider, MessageProvider
from botram_notifier.settings import Settings
from botram_notifier.webhooks import WebhookSender
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram notifier: agency webhook subscriptions and deliveries (Standard Webhooks), and "
    "messages to citizens. Consumes botram.* events."
)


def create_app(
    settings: Settings | None = None,
    clock: Clock = system_clock,
    provider: MessageProvider | None = None,
) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    notifier = Notifier(
        db=runtime.database,
        settings=settings,
        catalogue=load_catalogue(),
        clock=clock,
        metrics=NotifierMetrics(runtime.registry),
    )
    worker = DeliveryWorker(
        notifier,
        WebhookSender(timeout=settings.webhook_timeout_seconds, ssrf_guard=settings.ssrf_guard),
    )
    sender = MessageSender(notifier, provider or _provider(settings))

    def on_committed() -> None:
        notifier.deliveries_ready.set()
        sender.ready.set()

    subscribers.register(runtime, notifier, on_committed)

    @runtime.after_migrate
    async def start_workers() -> None:
        # Pending deliveries of a previous run resume at once, even before the bus is back.
        worker.start()
        sender.start()

    @runtime.on_stop
    async def stop_workers() -> None:
        await worker.stop()
        await sender.stop()

    app = runtime.create_app("Botram notifier")
    app.state.notifier = notifier
    app.state.delivery_worker = worker
    app.state.message_sender = sender
    app.include_router(api.router)
    return app


def _provider(settings: Settings) -> MessageProvider:
    if settings.sms_provider == "http":
        if not settings.sms_gateway_url:
            raise ValueError("BOTRAM_SMS_GATEWAY_URL is required when BOTRAM_SMS_PROVIDER=http")
        token = (
            settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        )
        return HttpGatewayProvider(settings.sms_gateway_url, token)
    return LogProvider()
