"""Wiring: build the registry app from its settings."""

import asyncio
from contextlib import suppress
from pathlib import Path

import structlog
from fastapi import FastAPI

from botram_registry import api, subscribers
from botram_registry.handlers import Registry, erase_expired_personal_data
from botram_registry.settings import Settings
from botram_shared.clock import Clock, system_clock
from botram_shared.reference import load_catalogue
from botram_shared.runtime import ServiceRuntime

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram registry: citizens (the only holder of NIK, name and phone), check-ins, queue "
    "tickets and desks. Publishes botram.citizen.*, botram.ticket.* and botram.service.* events."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    registry = Registry(
        db=runtime.database, clock=clock, catalogue=load_catalogue(), settings=settings
    )
    subscribers.register(runtime, registry)
    _schedule_retention(runtime, registry, settings.retention_sweep_seconds)
    app = runtime.create_app("Botram registry")
    app.state.registry = registry
    app.include_router(api.router)
    return app


def _schedule_retention(runtime: ServiceRuntime, registry: Registry, every: float) -> None:
    """Erase expired personal data now and then, for as long as the service runs."""
    task: asyncio.Task[None] | None = None

    async def sweep_forever() -> None:
        while True:
            try:
                erased = await erase_expired_personal_data(registry)
                if erased:
                    log.info("personal_data_erased", citizens=erased)
            except Exception as error:  # the next sweep tries again
                log.warning("personal_data_erase_failed", error=repr(error))
            await asyncio.sleep(every)

    @runtime.after_migrate
    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(sweep_forever(), name="retention-sweep")

    @runtime.on_stop
    async def stop() -> None:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
