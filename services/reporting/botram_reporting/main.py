"""Wiring: build the reporting app from its settings."""

__all__ = ["MIGRATIONS", "build_deps", "create_app"]

from pathlib import Path

from fastapi import FastAPI

from botram_reporting import api, ikm_api, pages, subscribers
from botram_reporting.deps import MIGRATIONS, build_deps
from botram_reporting.lag import consumer_lag_probe
from botram_reporting.metrics import register_collector
from botram_reporting.settings import Settings
from botram_reporting.usecases.ingest import CONSUMER, load_mirror
from botram_runtime.clock import Clock, system_clock
from botram_runtime.service import ServiceRuntime

DESCRIPTION = (
    "Botram reporting: aggregates, reports, demand ranking and the Prometheus metrics of "
    "the contract. Consumes every public botram.* event."
)


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, MIGRATIONS, description=DESCRIPTION)
    deps = build_deps(settings, runtime.database, clock)
    register_collector(runtime.registry, deps.aggregates)
    if runtime.database.is_sqlite:
        runtime.after_migrate(lambda: load_mirror(deps))
    else:  # replicas: each reloads what all of them committed (first right after migrating)
        runtime.every(
            settings.metrics_refresh_seconds, lambda: load_mirror(deps), name="metrics-mirror"
        )
    subscribers.register(runtime, deps)
    runtime.every(
        settings.consumer_lag_poll_seconds,
        consumer_lag_probe(runtime, deps.aggregates, CONSUMER),
        name="reporting-lag-probe",
    )
    app = runtime.create_app("Botram reporting", pages=Path(__file__).parent)
    app.state.deps = deps
    app.include_router(api.router)
    app.include_router(ikm_api.router)
    app.include_router(pages.router)
    return app
