"""The registry's dependencies, built once in `main.py` and handed to every use case."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from botram_contracts.reference import Catalogue
from botram_registry.batching import Batcher
from botram_registry.domain.check_in import CheckInResult, PendingCheckIn
from botram_registry.settings import Settings
from botram_runtime.clock import Clock
from botram_runtime.db import Database
from botram_runtime.live import LiveFeed


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    catalogue: Catalogue
    settings: Settings
    # Group commit of new check-ins (`usecases.check_in.check_in_group`, wired by main);
    # None stores every check-in on its own.
    group_commit: Batcher[PendingCheckIn, CheckInResult | None] | None = None
    # The registry's own events, live on every instance, for the public display (None: the
    # display shows the board once, without live updates).
    live: LiveFeed | None = None


async def get_deps(request: Request) -> Deps:
    """The app's `Deps` (async: FastAPI would run a plain function in a worker thread)."""
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
