"""Registry HTTP routes: parse, call a use case, map its errors to problem+json."""

from fastapi import APIRouter, Request, Response, status

from botram_registry import handlers
from botram_registry.domain import RegistryError
from botram_registry.schemas import (
    CallNextRequest,
    CheckInRequest,
    CheckInResponse,
    CompleteRequest,
    DeskRequest,
    OfflineBatch,
    OfflineBatchResult,
    QueueStatus,
    TicketAction,
    TicketPublic,
    TicketState,
    TransferRequest,
)
from botram_registry.store import TicketActionRow, TicketRow
from botram_runtime.problems import Problem

router = APIRouter(prefix="/v1")


def _registry(request: Request) -> handlers.Registry:
    return request.app.state.registry  # type: ignore[no-any-return]


def _problem(error: RegistryError) -> Problem:
    return Problem(error.status, str(error), code=error.code)


def _state(ticket: TicketRow, history: list[TicketActionRow] | None = None) -> TicketState:
    actions = [TicketAction.model_validate(a.model_dump()) for a in history or []]
    return TicketState.model_validate(
        ticket.model_dump() | {"ticket_id": ticket.id, "history": actions}
    )


@router.post(
    "/sessions/{session_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    tags=["check-in"],
    responses={
        200: {"description": "Already checked in: the same tickets", "model": CheckInResponse}
    },
)
async def check_in(
    session_id: str, body: CheckInRequest, request: Request, response: Response
) -> CheckInResponse:
    """Check a citizen in and issue a queue ticket per service (idempotent per NIK and session)."""
    try:
        result, created = await handlers.check_in(_registry(request), session_id, body)
    except RegistryError as error:
        raise _problem(error) from error
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/sessions/{session_id}/check-ins:batch", tags=["check-in"])
async def check_in_batch(
    session_id: str, body: OfflineBatch, request: Request
) -> OfflineBatchResult:
    """Upload check-ins an offline desk recorded; each item gets its own result, replays are
    no-ops."""
    try:
        return await handlers.check_in_batch(_registry(request), session_id, body)
    except RegistryError as error:
        raise _problem(error) from error


@router.post("/sessions/{session_id}/services/{service}/call-next", tags=["desks"])
async def call_next(
    session_id: str, service: str, request: Request, body: CallNextRequest | None = None
) -> TicketState:
    """Call the next ticket of a service's queue (fair between priority and regular)."""
    desk = body.desk if body else None
    try:
        return _state(await handlers.call_next(_registry(request), session_id, service, desk))
    except RegistryError as error:
        raise _problem(error) from error


@router.post("/tickets/{ticket_id}/complete", tags=["desks"])
async def complete(ticket_id: str, body: CompleteRequest, request: Request) -> TicketState:
    """Finish a called ticket: served, referred or rejected."""
    try:
        ticket = await handlers.complete_ticket(
            _registry(request), ticket_id, body.outcome, body.note, body.desk
        )
    except RegistryError as error:
        raise _problem(error) from error
    return _state(ticket)


@router.post("/tickets/{ticket_id}/no-show", tags=["desks"])
async def no_show(ticket_id: str, request: Request, body: DeskRequest | None = None) -> TicketState:
    """Mark a called ticket whose holder did not come (only after a call)."""
    desk = body.desk if body else None
    try:
        return _state(await handlers.mark_no_show(_registry(request), ticket_id, desk))
    except RegistryError as error:
        raise _problem(error) from error


@router.post("/tickets/{ticket_id}/recall", tags=["desks"])
async def recall(ticket_id: str, request: Request, body: DeskRequest | None = None) -> TicketState:
    """Call a called ticket again (display boards repeat its number)."""
    desk = body.desk if body else None
    try:
        return _state(await handlers.recall(_registry(request), ticket_id, desk))
    except RegistryError as error:
        raise _problem(error) from error


@router.post("/tickets/{ticket_id}/transfer", tags=["desks"], status_code=status.HTTP_201_CREATED)
async def transfer(ticket_id: str, body: TransferRequest, request: Request) -> TicketPublic:
    """Send a called citizen to another service: a new linked ticket; this one ends as referred."""
    try:
        _, new = await handlers.transfer(
            _registry(request), ticket_id, body.service, body.desk, body.note
        )
    except RegistryError as error:
        raise _problem(error) from error
    return new


@router.get("/tickets/{ticket_id}", tags=["desks"])
async def get_ticket(ticket_id: str, request: Request) -> TicketState:
    """One ticket's state and the desk actions on it."""
    try:
        return _state(*await handlers.get_ticket(_registry(request), ticket_id))
    except RegistryError as error:
        raise _problem(error) from error


@router.get("/sessions/{session_id}/queue", tags=["queues"])
async def queue(session_id: str, request: Request) -> QueueStatus:
    """Per service: waiting, now serving, mean service time and estimated wait."""
    try:
        return await handlers.queue_status(_registry(request), session_id)
    except RegistryError as error:
        raise _problem(error) from error
