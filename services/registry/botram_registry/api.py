"""Registry HTTP routes: the body becomes a command, a use case runs it, its result a schema.

Failures are the use cases' `DomainError`s, which the runtime renders as problem+json.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from botram_contracts.vocabulary import Outcome
from botram_registry.deps import DepsDep
from botram_registry.domain.check_in import ChangeContact, CheckIn, CheckInResult, ContactChanged
from botram_registry.domain.queue import QueueReport
from botram_registry.domain.tickets import (
    CallNext,
    CallNumber,
    Complete,
    MarkNoShow,
    Recall,
    Ticket,
    TicketSlip,
    Transfer,
)
from botram_registry.schemas import (
    CallNextRequest,
    CheckInRequest,
    CheckInResponse,
    CompleteRequest,
    ContactChange,
    ContactChangeResult,
    DeskRequest,
    QueueStatus,
    TicketPublic,
    TicketState,
    TransferRequest,
)
from botram_registry.usecases import check_in as check_ins
from botram_registry.usecases import contact, desks, numbers, queues
from botram_runtime.access import allow, public
from botram_runtime.actors import Actor, Role
from botram_runtime.shapes import shaped

router = APIRouter(prefix="/v1")

# Who may call what (docs/operations.md, "Access"); tests/registry/integration/test_access.py.
# A desk is further confined to its agency's (and services') queues: domain/access.py.
FrontDesk = Annotated[Actor, Depends(allow(Role.FRONT_DESK, Role.OPERATOR))]
DeskOfficer = Annotated[Actor, Depends(allow(Role.DESK, Role.OPERATOR))]
PUBLIC = [Depends(public())]


@router.post(
    "/sessions/{session_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    tags=["check-in"],
    responses={
        200: {"description": "Already checked in: the same tickets", "model": CheckInResponse}
    },
)
async def check_in(
    session_id: str,
    body: CheckInRequest,
    request: Request,
    response: Response,
    deps: DepsDep,
    actor: FrontDesk,
) -> CheckInResponse:
    """Check a citizen in and issue a queue ticket per service (idempotent per NIK and session).

    Again at the same session: the tickets of the services asked for, the numbers of the
    others; the stored name and phone stay (`PUT /v1/check-ins/{id}/contact` changes them)."""
    result = await check_ins.check_in(deps, _check_in_command(session_id, body, actor))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _check_in_response(result, _status_base(request, deps))


@router.put("/check-ins/{check_in_id}/contact", tags=["check-in"])
async def change_contact(
    check_in_id: str, body: ContactChange, deps: DepsDep, actor: FrontDesk
) -> ContactChangeResult:
    """Change a checked-in citizen's phone (and name): audited; the notifier follows it."""
    command = ChangeContact(check_in_id, body.phone, body.name, actor=actor)
    return _contact_result(await contact.change_contact(deps, command))


@router.post("/sessions/{session_id}/services/{service}/call-next", tags=["desks"])
async def call_next(
    session_id: str,
    service: str,
    deps: DepsDep,
    actor: DeskOfficer,
    body: CallNextRequest | None = None,
) -> TicketState:
    """Call the next ticket of a service's queue (fair between priority and regular)."""
    command = CallNext(session_id, service, desk=body.desk if body else None, actor=actor)
    return _ticket_state(await desks.call_next(deps, command))


@router.get("/sessions/{session_id}/tickets/{number}", tags=["desks"])
async def ticket_by_number(
    session_id: str, number: str, deps: DepsDep, actor: DeskOfficer
) -> TicketState:
    """A session's ticket by its number (`KK-012`, as on the citizen's slip), with its history."""
    return _ticket_state(await numbers.ticket_by_number(deps, session_id, number, actor))


@router.post("/sessions/{session_id}/tickets/{number}/call", tags=["desks"])
async def call_number(
    session_id: str,
    number: str,
    deps: DepsDep,
    actor: DeskOfficer,
    body: DeskRequest | None = None,
) -> TicketState:
    """Call a waiting ticket by its number, out of turn (a citizen who stepped out and came
    back): recorded as such; the queue's fair order is otherwise unchanged."""
    command = CallNumber(session_id, number, desk=body.desk if body else None, actor=actor)
    return _ticket_state(await numbers.call_number(deps, command))


@router.post("/tickets/{ticket_id}/complete", tags=["desks"])
async def complete(
    ticket_id: str, body: CompleteRequest, deps: DepsDep, actor: DeskOfficer
) -> TicketState:
    """Finish a called ticket: served, referred or rejected."""
    outcome = Outcome(body.outcome)
    command = Complete(ticket_id, outcome, note=body.note, desk=body.desk, actor=actor)
    return _ticket_state(await desks.complete(deps, command))


@router.post("/tickets/{ticket_id}/no-show", tags=["desks"])
async def no_show(
    ticket_id: str, deps: DepsDep, actor: DeskOfficer, body: DeskRequest | None = None
) -> TicketState:
    """Mark a called ticket whose holder did not come (only after a call)."""
    command = MarkNoShow(ticket_id, desk=body.desk if body else None, actor=actor)
    return _ticket_state(await desks.mark_no_show(deps, command))


@router.post("/tickets/{ticket_id}/recall", tags=["desks"])
async def recall(
    ticket_id: str, deps: DepsDep, actor: DeskOfficer, body: DeskRequest | None = None
) -> TicketState:
    """Call a called ticket again (display boards repeat its number)."""
    command = Recall(ticket_id, desk=body.desk if body else None, actor=actor)
    return _ticket_state(await desks.recall(deps, command))


@router.post("/tickets/{ticket_id}/transfer", tags=["desks"], status_code=status.HTTP_201_CREATED)
async def transfer(
    ticket_id: str, body: TransferRequest, request: Request, deps: DepsDep, actor: DeskOfficer
) -> TicketPublic:
    """Send a called citizen to another service: a new linked ticket; this one ends as referred."""
    command = Transfer(ticket_id, body.service, desk=body.desk, note=body.note, actor=actor)
    return _ticket_public(await desks.transfer(deps, command), _status_base(request, deps))


@router.get("/tickets/{ticket_id}", tags=["desks"])
async def get_ticket(ticket_id: str, deps: DepsDep, actor: DeskOfficer) -> TicketState:
    """One ticket's state and the desk actions on it."""
    return _ticket_state(await desks.get_ticket(deps, ticket_id, actor))


@router.get("/sessions/{session_id}/queue", tags=["queues"], dependencies=PUBLIC)
async def queue(session_id: str, deps: DepsDep) -> QueueStatus:
    """Per service: waiting, now serving, mean service time and estimated wait (public: counts
    and ticket numbers, nothing personal)."""
    return _queue_status(await queues.queue_status(deps, session_id))


# --- bodies to commands, results to schemas ------------------------------------------------


def _check_in_command(session_id: str, body: CheckInRequest, actor: Actor) -> CheckIn:
    return CheckIn(
        session_id=session_id,
        nik=body.nik,
        name=body.name,
        services=tuple(body.services),
        phone=body.phone,
        priority=body.priority,
        priority_reasons=tuple(body.priority_reasons),
        actor=actor,
    )


def _status_base(request: Request, deps: DepsDep) -> str:
    """Where status links point: the configured public address, else the request's."""
    return (deps.settings.public_url or str(request.base_url)).rstrip("/") + "/t/"


def _ticket_public(ticket: TicketSlip, status_base: str) -> TicketPublic:
    status_url = status_base + ticket.status_code if ticket.status_code else None
    return shaped(TicketPublic, ticket, status_url=status_url)


def _check_in_response(result: CheckInResult, status_base: str) -> CheckInResponse:
    tickets = [_ticket_public(ticket, status_base) for ticket in result.tickets]
    return shaped(CheckInResponse, result, tickets=tickets)


def _contact_result(changed: ContactChanged) -> ContactChangeResult:
    return shaped(ContactChangeResult, changed)


def _ticket_state(ticket: Ticket) -> TicketState:
    return shaped(TicketState, ticket)


def _queue_status(report: QueueReport) -> QueueStatus:
    return shaped(QueueStatus, report)
