"""Wiring: build the notifier app from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_notifier.settings import Settings
from botram_shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram notifier: agency webhook subscriptions and deliveries (Standard Webhooks), and "
    "messages to citizens. Consumes botram.* events."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    return runtime.create_app("Botram notifier")
