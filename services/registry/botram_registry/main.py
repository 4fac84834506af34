"""Wiring: build the registry app from its settings."""

import dataclasses
import functools
from pathlib import Path

import structlog
from fastapi import FastAPI

from botram_contracts.reference import load_catalogue
from botram_registry import api, subscribers
from botram_registry.batching import Batcher
from botram_registry.group_check_in import PendingCheckIn, check_in_group
from botram_registry.handlers import Registry, erase_expired_personal_data
from botram_registry.nik import NikFacts
from botram_registry.schemas import CheckInRequest, CheckInResponse
from botram_registry.settings import Settings
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime

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
    if settings.check_in_group_max > 1:
        registry = _with_group_commit(runtime, registry, settings.check_in_group_max)
    subscribers.register(runtime, registry)
    runtime.every(
        settings.retention_sweep_seconds, lambda: _erase_expired(registry), name="retention-sweep"
    )
    app = runtime.create_app("Botram registry")
    app.state.registry = registry
    app.include_router(api.router)
    return app


def _with_group_commit(runtime: ServiceRuntime, registry: Registry, max_size: int) -> Registry:
    """The registry, with new check-ins that arrive together stored in one transaction."""
    batcher: Batcher[PendingCheckIn, CheckInResponse | None] = Batcher(
        functools.partial(check_in_group, registry), max_size=max_size
    )
    runtime.on_start(batcher.start)
    runtime.on_stop(batcher.stop)

    async def group_check_in(
        session_id: str, request: CheckInRequest, facts: NikFacts, citizen_key: str
    ) -> CheckInResponse | None:
        return await batcher.submit(PendingCheckIn(session_id, request, facts, citizen_key))

    return dataclasses.replace(registry, group_check_in=group_check_in)


async def _erase_expired(registry: Registry) -> None:
    erased = await erase_expired_personal_data(registry)
    if erased:
        log.info("personal_data_erased", citizens=erased)
