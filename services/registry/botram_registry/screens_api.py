"""Registry JSON routes of the screens (contract, "Screens"): open sessions, a NIK checked as
typed, a ticket's public status by its code, and the public display's live stream.

The same rules as `api.py`: parse, call a use case, map its result; no rules, no storage.
"""

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse, ServerSentEvent

from botram_registry.deps import DepsDep
from botram_registry.domain.screens import (
    DisplayCall,
    DisplaySnapshot,
    DisplayUpdate,
    OpenSession,
)
from botram_registry.schemas import (
    AgencyWaitingPublic,
    DisplayCallPublic,
    DisplaySnapshotPublic,
    NikCheckRequest,
    NikCheckResult,
    OfferedServicePublic,
    OpenSessionPublic,
    TicketFollowUpPublic,
    TicketStatusPublic,
)
from botram_registry.usecases import check_in as check_ins
from botram_registry.usecases import display, queues, sessions
from botram_runtime.access import allow, public
from botram_runtime.actors import Role

router = APIRouter(prefix="/v1")
PUBLIC = [Depends(public())]
# Live display streams: a comment every 15 s keeps proxies from closing an idle stream, and
# a browser reconnects 1 s after the stream ends (a restart, another instance).
LIVE_PING_SECONDS = 15
LIVE_RETRY_MS = 1000


@router.post(
    "/nik-checks",
    tags=["check-in"],
    dependencies=[Depends(allow(Role.FRONT_DESK, Role.OPERATOR))],
)
async def check_nik(body: NikCheckRequest, deps: DepsDep) -> NikCheckResult:
    """Check a NIK as typed with the check-in's rules; the rule it breaks, in words."""
    verdict = check_ins.check_nik(deps, body.nik)
    return NikCheckResult(valid=verdict.valid, rule=verdict.rule, reason=verdict.reason)


@router.get("/open-sessions", tags=["screens"], dependencies=PUBLIC)
async def open_sessions(deps: DepsDep) -> list[OpenSessionPublic]:
    """Today's open sessions, each service with who waits and the quota left."""
    return [_open_session(s) for s in await sessions.open_sessions(deps)]


@router.get("/ticket-status/{code}", tags=["screens"], dependencies=PUBLIC)
async def ticket_status(code: str, deps: DepsDep) -> TicketStatusPublic:
    """A ticket by its status code: number, position, estimated wait, desk once called."""
    view = await queues.ticket_status(deps, code)
    return TicketStatusPublic(
        number=view.number,
        service_name=view.service_name,
        agency_label=view.agency_label,
        status=view.status,
        session_status=view.session_status,
        position=view.position,
        estimated_wait_seconds=view.estimated_wait_seconds,
        desk=view.desk,
        follow_ups=[
            TicketFollowUpPublic(kind=f.kind, place=f.place, until=f.until, note=f.note)
            for f in view.follow_ups
        ],
        survey=view.survey,
    )


@router.get(
    "/sessions/{session_id}/display",
    tags=["screens"],
    dependencies=PUBLIC,
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def display_stream(session_id: str, deps: DepsDep) -> EventSourceResponse:
    """The public display, live (Server-Sent Events): `board` (the latest calls and who waits
    per agency) now and after each change, `call` for each call to announce."""
    await display.display_snapshot(deps, session_id)  # 404 before the stream starts
    updates = display.follow_display(deps, session_id)
    return EventSourceResponse(_events(updates), ping=LIVE_PING_SECONDS)


async def _events(updates: AsyncIterator[DisplayUpdate]) -> AsyncIterator[ServerSentEvent]:
    async for update in updates:
        if update.call is not None:
            data = _display_call(update.call).model_dump_json()
            yield ServerSentEvent(data=data, event="call", retry=LIVE_RETRY_MS)
        if update.snapshot is not None:
            data = _display_board(update.snapshot).model_dump_json()
            yield ServerSentEvent(data=data, event="board", retry=LIVE_RETRY_MS)


# --- results to schemas ---


def _open_session(session: OpenSession) -> OpenSessionPublic:
    return OpenSessionPublic(
        session_id=session.session_id,
        level=session.level,
        kecamatan=session.kecamatan,
        desa=session.desa,
        date=session.date,
        services=[
            OfferedServicePublic(
                code=s.code,
                name=s.name,
                agency=s.agency,
                agency_label=s.agency_label,
                waiting=s.waiting,
                quota_left=s.quota_left,
            )
            for s in session.services
        ],
    )


def _display_call(call: DisplayCall) -> DisplayCallPublic:
    return DisplayCallPublic(
        number=call.number,
        desk=call.desk,
        agency_label=call.agency_label,
        service_name=call.service_name,
        recall=call.recall,
    )


def _display_board(board: DisplaySnapshot) -> DisplaySnapshotPublic:
    return DisplaySnapshotPublic(
        session_id=board.session_id,
        session_status=board.session_status,
        calls=[_display_call(call) for call in board.calls],
        agencies=[
            AgencyWaitingPublic(agency=a.agency, agency_label=a.agency_label, waiting=a.waiting)
            for a in board.agencies
        ],
    )
