"""Reporting's dependencies as a FastAPI dependency of its routes."""

from typing import Annotated

from fastapi import Depends, Request

from botram_reporting.deps import Deps


async def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(get_deps)]
