"""Scheduler HTTP routes: parse, call a use case, map its errors to problem+json."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from botram_runtime.problems import Problem
from botram_scheduler import generation, handlers
from botram_scheduler.context import SchedulerContext
from botram_scheduler.domain import ScheduleError, Status
from botram_scheduler.ics import render_calendar
from botram_scheduler.rules import RulesError
from botram_scheduler.schemas import (
    GeneratedSession,
    GenerateRequest,
    GenerationPublic,
    Level,
    Move,
    Reason,
    Reschedule,
    SessionCreate,
    SessionPage,
    SessionPublic,
)
from botram_scheduler.store import SessionRow

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
    if isinstance(error, RulesError):
        return Problem(500, f"the rotation rules file is invalid: {error}", code="invalid-rules")
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
    desa: str | None = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SessionPage:
    """Sessions in a date range, filtered by level, kecamatan, desa and status, by date."""
    ctx = _context(request)
    try:
        kecamatan_slug, desa_slug = _place_filter(ctx, kecamatan, desa)
    except ScheduleError as error:
        raise _problem(error) from error
    rows, total = await handlers.list_sessions(
        ctx.db,
        start=from_,
        end=to,
        level=level,
        kecamatan=kecamatan_slug,
        desa=desa_slug,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return SessionPage(items=[_public(r) for r in rows], total=total, limit=limit, offset=offset)


def _place_filter(
    ctx: SchedulerContext, kecamatan: str | None, desa: str | None
) -> tuple[str | None, str | None]:
    """Resolve filter names to slugs (a desa needs its kecamatan: names repeat across them)."""
    if desa is not None and kecamatan is None:
        raise ScheduleError("kecamatan-required", "filtering by desa needs its kecamatan too")
    if kecamatan is None:
        return None, None
    if desa is None:
        return handlers.resolve_kecamatan(ctx.regions, kecamatan), None
    return handlers.resolve_desa(ctx.regions, kecamatan, desa)


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


@router.post("/schedule/generate", tags=["schedule"])
async def generate_schedule(body: GenerateRequest, request: Request) -> GenerationPublic:
    """Sessions the rotation rules give for a range: preview (dry_run) or store and announce."""
    ctx = _context(request)
    try:
        result = await generation.generate(
            ctx.db,
            ctx.clock,
            ctx.catalogue,
            ctx.rules(),
            body.start,
            body.end,
            dry_run=body.dry_run,
        )
    except (ScheduleError, RulesError) as error:
        raise _problem(error) from error
    return GenerationPublic(
        start=result.start,
        end=result.end,
        dry_run=result.dry_run,
        sessions=[
            GeneratedSession(
                action=o.action,  # type: ignore[arg-type]
                session_id=o.session_id,
                rotation_key=o.planned.key,
                level=o.planned.level,  # type: ignore[arg-type]
                kecamatan=o.planned.kecamatan,
                desa=o.planned.desa,
                date=o.planned.date,
                start=o.planned.start,
                end=o.planned.end,
                venue=o.planned.venue,
                services=o.services,
                ranking_id=o.ranking_id,
            )
            for o in result.sessions
        ],
        moves=[
            Move(
                date=b.date,
                level=b.level,  # type: ignore[arg-type]
                reason=b.reason,
                action=b.action.value,  # type: ignore[arg-type]
                kecamatan=b.kecamatan,
                desa=b.desa,
                moved_to=b.moved_to,
            )
            for b in result.blocked
        ],
        created=result.count("created"),
        rescheduled=result.count("rescheduled"),
        cancelled=result.cancelled,
    )


@router.get(
    "/calendar.ics",
    tags=["schedule"],
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def calendar_feed(
    request: Request,
    kecamatan: str | None = None,
    desa: str | None = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> Response:
    """The Botram calendar (RFC 5545), optionally for one kecamatan or desa."""
    ctx = _context(request)
    try:
        kecamatan_slug, desa_slug = _place_filter(ctx, kecamatan, desa)
    except ScheduleError as error:
        raise _problem(error) from error
    rows = await handlers.all_sessions(
        ctx.db, kecamatan=kecamatan_slug, desa=desa_slug, start=from_, end=to
    )
    return Response(
        render_calendar(rows, ctx.regions),
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'inline; filename="botram.ics"'},
    )
