"""Wiring: build the scheduler app from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_scheduler import api
from botram_scheduler.context import SchedulerContext
from botram_scheduler.settings import Settings
from botram_shared.clock import Clock, system_clock
from botram_shared.reference import load_catalogue, load_regions
from botram_shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram scheduler: the calendar of Botram Kecamatan (Saturdays) and Botram Desa "
    "(Tuesdays and Thursdays) sessions. It owns sessions and publishes botram.session.* events."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    app = runtime.create_app("Botram scheduler")
    app.state.context = SchedulerContext(
        settings=settings,
        db=runtime.database,
        clock=clock,
        catalogue=load_catalogue(),
        regions=load_regions(settings.province, settings.regency),
    )
    app.include_router(api.router)
    return app
