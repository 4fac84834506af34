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
    DisplayCallPublic,
    DisplaySnapshotPublic,
    NikCheckRequest,
    NikCheckResult,
    OpenSessionPublic,
    TicketStatusPublic,
)
from botram_registry.usecases import check_in as check_ins
from botram_registry.usecases import display, queues, sessions
from botram_runtime.access import allow, public
from botram_runtime.actors import Role
from botram_runtime.shapes import shaped

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
    return shaped(TicketStatusPublic, view)


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
    return shaped(OpenSessionPublic, session)


def _display_call(call: DisplayCall) -> DisplayCallPublic:
    return shaped(DisplayCallPublic, call)


def _display_board(board: DisplaySnapshot) -> DisplaySnapshotPublic:
    return shaped(DisplaySnapshotPublic, board)
