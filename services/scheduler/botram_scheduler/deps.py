"""The scheduler's dependencies, built once in `main.py` and handed to every use case."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from botram_contracts.reference import Catalogue, Regency
from botram_runtime.clock import Clock
from botram_runtime.db import Database
from botram_scheduler.domain.rotation import Rules
from botram_scheduler.settings import Settings


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    settings: Settings
    catalogue: Catalogue
    regions: Regency
    # The rotation rules as the file says now (read on every call: planners edit it, then
    # generate again); raises `RulesError` when the file cannot be used.
    rules: Callable[[], Rules]
    # One generation at a time in this process: a second one waits here for the first, not
    # for a database connection (SQLite has one, and its pool gives up after 30 s).
    generations: asyncio.Lock = field(default_factory=asyncio.Lock)


async def get_deps(request: Request) -> Deps:
    """The app's `Deps` (set by `create_app`)."""
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
