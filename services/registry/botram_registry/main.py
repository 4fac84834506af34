"""Wiring: build the registry app from its settings."""

import dataclasses
import functools
from pathlib import Path

import structlog
from fastapi import FastAPI

from botram_contracts.reference import load_catalogue
from botram_contracts.subjects import CITIZEN_EVENTS, SERVICE_EVENTS, TICKET_EVENTS
from botram_registry import (
    api,
    followups_api,
    offline_api,
    pages,
    pre_registrations_api,
    screens_api,
    subscribers,
    survey_api,
)
from botram_registry.batching import Batcher
from botram_registry.deps import Deps
from botram_registry.domain.check_in import CheckInResult, PendingCheckIn
from botram_registry.settings import Settings
from botram_registry.usecases.check_in import check_in_group
from botram_registry.usecases.retention import (
    erase_expired_follow_up_contacts,
    erase_expired_personal_data,
    erase_expired_ticket_notes,
)
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
    # The display follows check-ins, calls and completions made on any instance.
    live = runtime.listen((CITIZEN_EVENTS, TICKET_EVENTS, SERVICE_EVENTS))
    deps = Deps(
        db=runtime.database,
        clock=clock,
        catalogue=load_catalogue(regency=settings.regency),
        settings=settings,
        live=live,
    )
    if settings.check_in_group_max > 1:
        deps = _with_group_commit(runtime, deps, settings.check_in_group_max)
    subscribers.register(runtime, deps)
    runtime.every(
        settings.retention_sweep_seconds, lambda: _erase_expired(deps), name="retention-sweep"
    )
    app = runtime.create_app("Botram registry", pages=Path(__file__).parent)
    app.state.deps = deps
    app.include_router(api.router)
    app.include_router(offline_api.router)
    app.include_router(screens_api.router)
    app.include_router(pre_registrations_api.router)
    app.include_router(followups_api.router)
    app.include_router(survey_api.router)
    app.include_router(pages.router)
    return app


def _with_group_commit(runtime: ServiceRuntime, deps: Deps, max_size: int) -> Deps:
    """`deps` with group commit: new check-ins that arrive together share one transaction."""
    batcher: Batcher[PendingCheckIn, CheckInResult | None] = Batcher(
        functools.partial(check_in_group, deps), max_size=max_size
    )
    runtime.on_start(batcher.start)
    runtime.on_stop(batcher.stop)
    return dataclasses.replace(deps, group_commit=batcher)


async def _erase_expired(deps: Deps) -> None:
    erased = await erase_expired_personal_data(deps)
    if erased:
        log.info("personal_data_erased", citizens=erased)
    notes = await erase_expired_ticket_notes(deps)
    if notes:
        log.info("ticket_notes_erased", tickets=notes)
    phones = await erase_expired_follow_up_contacts(deps)
    if phones:
        log.info("follow_up_contacts_erased", tickets=phones)
