"""Scheduler HTTP routes: parse the request into a command, call a use case, map the result."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.access import allow, public
from botram_runtime.actors import Actor, Role
from botram_runtime.inputs import MAX_OFFSET, Day, PlainText
from botram_runtime.shapes import shaped
from botram_scheduler.deps import DepsDep
from botram_scheduler.domain.edits import UpdateSession
from botram_scheduler.domain.generation import Action, GenerateSchedule, GenerationResult
from botram_scheduler.domain.sessions import (
    CancelSession,
    CloseSession,
    CreateSession,
    ExportCalendar,
    FindSessions,
    OpenSession,
    RescheduleSession,
)
from botram_scheduler.schemas import (
    GeneratedSession,
    GenerateRequest,
    GenerationPublic,
    Move,
    Reason,
    Reschedule,
    SessionCreate,
    SessionPage,
    SessionPublic,
    SessionUpdate,
)
from botram_scheduler.usecases import calendar, edits, generation, sessions

router = APIRouter(prefix="/v1", tags=["sessions"])

# Who may call what (docs/operations.md, "Access"); tests/scheduler/integration/test_access.py.
Planner = Annotated[Actor, Depends(allow(Role.PLANNER, Role.OPERATOR))]
Operator = Annotated[Actor, Depends(allow(Role.OPERATOR))]
PUBLIC = [Depends(public())]


def _public(row: object) -> SessionPublic:
    return SessionPublic.model_validate(row, from_attributes=True)


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(body: SessionCreate, deps: DepsDep, actor: Planner) -> SessionPublic:
    """Put a Botram session on the calendar (any day from today on) and announce it."""
    command = CreateSession(
        actor=actor,
        level=body.level,
        kecamatan=body.kecamatan,
        desa=body.desa,
        date=body.date,
        start=body.start,
        end=body.end,
        venue=body.venue,
        services=body.services,
    )
    return _public(await sessions.create_session(deps, command))


@router.get("/sessions", dependencies=PUBLIC)
async def list_sessions(
    deps: DepsDep,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
    level: Level | None = None,
    kecamatan: Annotated[PlainText | None, Query(max_length=80)] = None,
    desa: Annotated[PlainText | None, Query(max_length=80)] = None,
    status: SessionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SessionPage:
    """Sessions in a date range, filtered by level, kecamatan, desa and status, by date."""
    command = FindSessions(
        start=from_,
        end=to,
        level=level,
        kecamatan=kecamatan,
        desa=desa,
        status=status,
        limit=limit,
        offset=offset,
    )
    found = await sessions.list_sessions(deps, command)
    return SessionPage(
        items=[_public(r) for r in found.rows], total=found.total, limit=limit, offset=offset
    )


@router.get("/sessions/{session_id}", dependencies=PUBLIC)
async def get_session(session_id: str, deps: DepsDep) -> SessionPublic:
    """One session."""
    return _public(await sessions.get_session(deps, session_id))


@router.patch("/sessions/{session_id}")
async def update_session(
    session_id: str, body: SessionUpdate, deps: DepsDep, actor: Planner
) -> SessionPublic:
    """Change a session's services, per-service quotas, venue or hours: anything before it
    opens; once open, only more services and higher quotas (409 otherwise)."""
    command = UpdateSession(
        actor,
        session_id,
        services=body.services,
        quotas=body.quotas,
        venue=body.venue,
        start=body.start,
        end=body.end,
    )
    return _public(await edits.update_session(deps, command))


@router.post("/sessions/{session_id}/open")
async def open_session(session_id: str, deps: DepsDep, actor: Operator) -> SessionPublic:
    """Open the desks: the registry starts accepting check-ins."""
    return _public(await sessions.open_session(deps, OpenSession(actor, session_id)))


@router.post("/sessions/{session_id}/close")
async def close_session(session_id: str, deps: DepsDep, actor: Operator) -> SessionPublic:
    """Close the desks: no more check-ins."""
    return _public(await sessions.close_session(deps, CloseSession(actor, session_id)))


@router.post("/sessions/{session_id}/cancel")
async def cancel_session(
    session_id: str, body: Reason, deps: DepsDep, actor: Planner
) -> SessionPublic:
    """Cancel a session, with a reason citizens will be told: a planner or an operator before
    it opens; an operator only once it is open (an emergency: its waiting tickets end
    cancelled and their holders are told)."""
    command = CancelSession(actor, session_id, body.reason)
    return _public(await sessions.cancel_session(deps, command))


@router.post("/sessions/{session_id}/reschedule")
async def reschedule_session(
    session_id: str, body: Reschedule, deps: DepsDep, actor: Planner
) -> SessionPublic:
    """Move a session to another date: before it opens (a planner or an operator), or once
    open (an operator only: its desks stop, its citizens are told, their tickets keep their
    numbers and it opens again on the new date)."""
    command = RescheduleSession(
        actor, session_id, date=body.date, reason=body.reason, start=body.start, end=body.end
    )
    return _public(await sessions.reschedule_session(deps, command))


@router.post("/schedule/generate", tags=["schedule"])
async def generate_schedule(
    body: GenerateRequest, deps: DepsDep, actor: Planner
) -> GenerationPublic:
    """Sessions the rotation rules give for a range: preview (dry_run) or store and announce."""
    command = GenerateSchedule(actor, body.start, body.end, dry_run=body.dry_run)
    return _generation_public(await generation.generate(deps, command))


def _generation_public(result: GenerationResult) -> GenerationPublic:
    return GenerationPublic(
        start=result.start,
        end=result.end,
        dry_run=result.dry_run,
        sessions=[
            GeneratedSession(
                action=o.action,
                session_id=o.session_id,
                rotation_key=o.planned.key,
                level=o.planned.level,
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
        moves=[shaped(Move, b) for b in result.blocked],
        created=result.count(Action.CREATED),
        rescheduled=result.count(Action.RESCHEDULED),
        cancelled=result.cancelled,
    )


@router.get(
    "/calendar.ics",
    tags=["schedule"],
    dependencies=PUBLIC,
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def calendar_feed(
    deps: DepsDep,
    kecamatan: Annotated[PlainText | None, Query(max_length=80)] = None,
    desa: Annotated[PlainText | None, Query(max_length=80)] = None,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
) -> Response:
    """The Botram calendar (RFC 5545), optionally for one kecamatan or desa."""
    command = ExportCalendar(kecamatan=kecamatan, desa=desa, start=from_, end=to)
    document = await calendar.feed(deps, command)
    return Response(
        document,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'inline; filename="botram.ics"'},
    )
