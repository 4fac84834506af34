"""What reporting's use cases need, built once in `main.py` and handed to every route
(`api_deps.py`), or by the rebuild command."""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from botram_contracts.reference import Catalogue, Regency, load_catalogue, load_regions
from botram_reporting.metrics import Aggregates
from botram_reporting.settings import Settings
from botram_runtime.clock import Clock, system_clock
from botram_runtime.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True, slots=True)
class Deps:
    """Reporting's dependencies: database, clock, settings, reference data, metrics mirror."""

    db: Database
    clock: Clock
    settings: Settings
    catalogue: Catalogue
    regions: Regency
    # The in-memory mirror of the stored aggregates that /metrics serves.
    aggregates: Aggregates
    # Off while rebuilding: replaying history must not publish rankings again.
    publish_rankings: bool = True
    # Held while the mirror changes: a batch's commit and its deltas, or a reload.
    mirror_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
