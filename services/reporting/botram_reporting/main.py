"""Wiring: build the reporting app (or a rebuild's dependencies) from its settings."""

from pathlib import Path

from fastapi import FastAPI

from botram_contracts.reference import load_catalogue, load_regions
from botram_reporting import api, ikm_api, subscribers
from botram_reporting.deps import Deps
from botram_reporting.metrics import Aggregates, consumer_lag_probe, register_collector
from botram_reporting.replay import replay_stream
from botram_reporting.settings import Settings
from botram_reporting.usecases.ingest import CONSUMER, load_mirror
from botram_reporting.usecases.rebuild import Progress, Replayed, rebuild
from botram_runtime.clock import Clock, system_clock
from botram_runtime.db import Database
from botram_runtime.service import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Botram reporting: aggregates, reports, demand ranking and the Prometheus metrics of "
    "the contract. Consumes every public botram.* event."
)


def build_deps(
    settings: Settings, db: Database, clock: Clock = system_clock, *, publish_rankings: bool = True
) -> Deps:
    """Reporting's dependencies, reference data loaded once (the regency from the settings)."""
    return Deps(
        db=db,
        clock=clock,
        settings=settings,
        catalogue=load_catalogue(regency=settings.regency),
        regions=load_regions(settings.province, settings.regency),
        aggregates=Aggregates(),
        publish_rankings=publish_rankings,
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
    app = runtime.create_app("Botram reporting")
    app.state.deps = deps
    app.include_router(api.router)
    app.include_router(ikm_api.router)
    return app


async def rebuild_from_stream(settings: Settings, progress: Progress | None = None) -> Replayed:
    """Migrate the database, then replay the stream into its emptied tables (service stopped)."""
    db = Database(
        settings.resolved_database_url(),
        service=settings.service_name,
        sqlite_inline=settings.sqlite_inline,
    )
    try:
        await db.migrate(MIGRATIONS)
        async with replay_stream(settings, settings.reporting_rebuild_batch_size) as replay:
            return await rebuild(build_deps(settings, db, publish_rankings=False), replay, progress)
    finally:
        await db.dispose()
