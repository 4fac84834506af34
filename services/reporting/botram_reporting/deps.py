"""What reporting's use cases need, built once in `main.py` and handed to every route."""

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from botram_contracts.reference import Catalogue, Regency
from botram_reporting.metrics import Aggregates
from botram_reporting.settings import Settings
from botram_runtime.clock import Clock
from botram_runtime.db import Database


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


async def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
