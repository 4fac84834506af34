"""Wiring: build the scheduler app from its settings."""

from functools import partial
from pathlib import Path

import structlog
from fastapi import FastAPI

from botram_contracts.reference import load_catalogue, load_regions
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime
from botram_scheduler import api, pages, subscribers
from botram_scheduler.deps import Deps
from botram_scheduler.rules_file import load_rules
from botram_scheduler.settings import Settings
from botram_scheduler.usecases import lifecycle

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram scheduler: the calendar of Botram Kecamatan (Saturdays) and Botram Desa "
    "(Tuesdays and Thursdays) sessions. It owns sessions and publishes botram.session.* events."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    catalogue = load_catalogue(regency=settings.regency)
    regions = load_regions(settings.province, settings.regency)
    deps = Deps(
        db=runtime.database,
        clock=clock,
        settings=settings,
        catalogue=catalogue,
        regions=regions,
        rules=partial(load_rules, settings.rules_path, regions, catalogue),
    )
    deps.rules()  # refuse to start on a rules file that cannot be used
    subscribers.register(runtime, deps)
    if settings.auto_lifecycle:
        runtime.every(settings.tick_seconds, partial(_advance, deps), name="lifecycle-clock")
    app = runtime.create_app("Botram scheduler", pages=Path(__file__).parent)
    app.state.deps = deps
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


async def _advance(deps: Deps) -> None:
    """Open and close the sessions whose start or end has come."""
    for row in await lifecycle.advance(deps):
        log.info("session_status_advanced", session_id=row.id, status=row.status)
