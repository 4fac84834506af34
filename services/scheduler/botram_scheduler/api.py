"""Scheduler HTTP routes: parse, call a use case, map its errors to problem+json."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from botram_scheduler import handlers
from botram_scheduler.context import SchedulerContext
from botram_scheduler.domain import ScheduleError, Status
from botram_scheduler.schemas import (
    Level,
    Reason,
    Reschedule,
    SessionCreate,
    SessionPage,
    SessionPublic,
)
from botram_scheduler.store import SessionRow
from botram_shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["sessions"])


def _context(request: Request) -> SchedulerContext:
    return request.app.state.context  # type: ignore[no-any-return]


def _public(row: SessionRow) -> SessionPublic:
    return SessionPublic.model_validate(row, from_attributes=True)


def _problem(error: Exception) -> Problem:
    if isinstance(error, handlers.SessionNotFound):
        return Problem(404, f"session {error} does not exist", code="session-not-found")
    if isinstance(error, ScheduleError):
        return Problem(error.status, str(error), code=error.code)
    raise error


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(body: SessionCreate, request: Request) -> SessionPublic:
    """Put a Botram session on the calendar (any day from today on) and announce it."""
    ctx = _context(request)
    try:
        row = await handlers.create_session(ctx.db, ctx.clock, ctx.catalogue, ctx.regions, body)
    except ScheduleError as error:
        raise _problem(error) from error
    return _public(row)


@router.get("/sessions")
async def list_sessions(
    request: Request,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    level: Level | None = None,
    kecamatan: str | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SessionPage:
    """Sessions in a date range, filtered by level, kecamatan and status, by date."""
    ctx = _context(request)
    rows, total = await handlers.list_sessions(
        ctx.db,
        start=from_,
        end=to,
        level=level,
        kecamatan=kecamatan,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return SessionPage(items=[_public(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/sessions/{session_id}")
async def get_session(session_id: str, request: Request) -> SessionPublic:
    """One session."""
    try:
        return _public(await handlers.get_session(_context(request).db, session_id))
    except handlers.SessionNotFound as error:
        raise _problem(error) from error


async def _transition(
    request: Request, session_id: str, target: Status, body: Reason | None
) -> SessionPublic:
    ctx = _context(request)
    try:
        row = await handlers.change_status(ctx.db, ctx.clock, session_id, target, body)
    except (handlers.SessionNotFound, ScheduleError) as error:
        raise _problem(error) from error
    return _public(row)


@router.post("/sessions/{session_id}/open")
async def open_session(session_id: str, request: Request) -> SessionPublic:
    """Open the desks: the registry starts accepting check-ins."""
    return await _transition(request, session_id, Status.OPENED, None)


@router.post("/sessions/{session_id}/close")
async def close_session(session_id: str, request: Request) -> SessionPublic:
    """Close the desks: no more check-ins."""
    return await _transition(request, session_id, Status.CLOSED, None)


@router.post("/sessions/{session_id}/cancel")
async def cancel_session(session_id: str, body: Reason, request: Request) -> SessionPublic:
    """Cancel a session that has not opened, with a reason citizens will be told."""
    return await _transition(request, session_id, Status.CANCELLED, body)


@router.post("/sessions/{session_id}/reschedule")
async def reschedule_session(session_id: str, body: Reschedule, request: Request) -> SessionPublic:
    """Move a session that has not opened to another date."""
    ctx = _context(request)
    try:
        row = await handlers.reschedule_session(ctx.db, ctx.clock, session_id, body)
    except (handlers.SessionNotFound, ScheduleError) as error:
        raise _problem(error) from error
    return _public(row)
