"""Wiring: build the reporting app from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_reporting import api, subscribers
from botram_reporting.handlers import Reporting, load_aggregates
from botram_reporting.metrics import Aggregates, register_collector
from botram_reporting.settings import Settings
from botram_runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram reporting: aggregates, reports, demand ranking and the Prometheus metrics of "
    "the contract. Consumes every public botram.* event."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    reporting = Reporting(
        db=runtime.database,
        aggregates=Aggregates(),
        demand_window_days=settings.demand_window_days,
    )
    register_collector(runtime.registry, reporting.aggregates)
    runtime.after_migrate(lambda: load_aggregates(reporting))
    subscribers.register(runtime, reporting, settings)
    app = runtime.create_app("Botram reporting")
    app.state.reporting = reporting
    app.include_router(api.router)
    return app
