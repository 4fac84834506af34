"""Wiring: build the scheduler app from its settings."""

from pathlib import Path

import structlog
from fastapi import FastAPI

from botram_contracts.reference import load_catalogue, load_regions
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime
from botram_scheduler import api, subscribers
from botram_scheduler.context import SchedulerContext
from botram_scheduler.handlers import advance_lifecycle
from botram_scheduler.settings import Settings

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram scheduler: the calendar of Botram Kecamatan (Saturdays) and Botram Desa "
    "(Tuesdays and Thursdays) sessions. It owns sessions and publishes botram.session.* events."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    context = SchedulerContext(
        settings=settings,
        db=runtime.database,
        clock=clock,
        catalogue=load_catalogue(),
        regions=load_regions(settings.province, settings.regency),
        rules_path=settings.rules_path,
    )
    context.rules()  # refuse to start on a rules file that cannot be used
    subscribers.register(runtime, runtime.database)
    if settings.auto_lifecycle:
        runtime.every(settings.tick_seconds, lambda: _advance(context), name="lifecycle-clock")
    app = runtime.create_app("Botram scheduler")
    app.state.context = context
    app.include_router(api.router)
    return app


async def _advance(context: SchedulerContext) -> None:
    """Open and close the sessions whose start or end has come."""
    for row in await advance_lifecycle(context.db, context.clock):
        log.info("session_status_advanced", session_id=row.id, status=row.status)
