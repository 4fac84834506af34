"""Registry HTTP routes: the body becomes a command, a use case runs it, its result a schema.

Failures are the use cases' `DomainError`s, which the runtime renders as problem+json.
"""

from fastapi import APIRouter, Response, status

from botram_contracts.vocabulary import Outcome
from botram_registry.deps import DepsDep
from botram_registry.domain.check_in import CheckIn, CheckInResult
from botram_registry.domain.offline import BatchResult, OfflineItem, UploadOfflineBatch
from botram_registry.domain.queue import QueueReport
from botram_registry.domain.tickets import (
    CallNext,
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
    DeskRequest,
    ItemProblem,
    OfflineBatch,
    OfflineBatchResult,
    OfflineResult,
    QueueStatus,
    ServiceQueue,
    TicketAction,
    TicketPublic,
    TicketState,
    TransferRequest,
    WaitingPosition,
)
from botram_registry.usecases import check_in as check_ins
from botram_registry.usecases import desks, offline, queues

router = APIRouter(prefix="/v1")


@router.post(
    "/sessions/{session_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    tags=["check-in"],
    responses={
        200: {"description": "Already checked in: the same tickets", "model": CheckInResponse}
    },
)
async def check_in(
    session_id: str, body: CheckInRequest, response: Response, deps: DepsDep
) -> CheckInResponse:
    """Check a citizen in and issue a queue ticket per service (idempotent per NIK and session)."""
    result = await check_ins.check_in(deps, _check_in_command(session_id, body))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _check_in_response(result)


@router.post("/sessions/{session_id}/check-ins:batch", tags=["check-in"])
async def check_in_batch(session_id: str, body: OfflineBatch, deps: DepsDep) -> OfflineBatchResult:
    """Upload an offline desk's check-ins: a result per item; a replay changes nothing."""
    return _batch_result(await offline.check_in_batch(deps, _batch_command(session_id, body)))


@router.post("/sessions/{session_id}/services/{service}/call-next", tags=["desks"])
async def call_next(
    session_id: str, service: str, deps: DepsDep, body: CallNextRequest | None = None
) -> TicketState:
    """Call the next ticket of a service's queue (fair between priority and regular)."""
    command = CallNext(session_id, service, desk=body.desk if body else None)
    return _ticket_state(await desks.call_next(deps, command))


@router.post("/tickets/{ticket_id}/complete", tags=["desks"])
async def complete(ticket_id: str, body: CompleteRequest, deps: DepsDep) -> TicketState:
    """Finish a called ticket: served, referred or rejected."""
    command = Complete(ticket_id, Outcome(body.outcome), note=body.note, desk=body.desk)
    return _ticket_state(await desks.complete(deps, command))


@router.post("/tickets/{ticket_id}/no-show", tags=["desks"])
async def no_show(ticket_id: str, deps: DepsDep, body: DeskRequest | None = None) -> TicketState:
    """Mark a called ticket whose holder did not come (only after a call)."""
    command = MarkNoShow(ticket_id, desk=body.desk if body else None)
    return _ticket_state(await desks.mark_no_show(deps, command))


@router.post("/tickets/{ticket_id}/recall", tags=["desks"])
async def recall(ticket_id: str, deps: DepsDep, body: DeskRequest | None = None) -> TicketState:
    """Call a called ticket again (display boards repeat its number)."""
    command = Recall(ticket_id, desk=body.desk if body else None)
    return _ticket_state(await desks.recall(deps, command))


@router.post("/tickets/{ticket_id}/transfer", tags=["desks"], status_code=status.HTTP_201_CREATED)
async def transfer(ticket_id: str, body: TransferRequest, deps: DepsDep) -> TicketPublic:
    """Send a called citizen to another service: a new linked ticket; this one ends as referred."""
    command = Transfer(ticket_id, body.service, desk=body.desk, note=body.note)
    return _ticket_public(await desks.transfer(deps, command))


@router.get("/tickets/{ticket_id}", tags=["desks"])
async def get_ticket(ticket_id: str, deps: DepsDep) -> TicketState:
    """One ticket's state and the desk actions on it."""
    return _ticket_state(await desks.get_ticket(deps, ticket_id))


@router.get("/sessions/{session_id}/queue", tags=["queues"])
async def queue(session_id: str, deps: DepsDep) -> QueueStatus:
    """Per service: waiting, now serving, mean service time and estimated wait."""
    return _queue_status(await queues.queue_status(deps, session_id))


# --- bodies to commands, results to schemas ------------------------------------------------


def _check_in_command(session_id: str, body: CheckInRequest) -> CheckIn:
    return CheckIn(
        session_id=session_id,
        nik=body.nik,
        name=body.name,
        services=tuple(body.services),
        phone=body.phone,
        priority=body.priority,
        priority_reasons=tuple(body.priority_reasons),
    )


def _batch_command(session_id: str, body: OfflineBatch) -> UploadOfflineBatch:
    return UploadOfflineBatch(
        session_id=session_id,
        device_id=body.device_id,
        items=tuple(
            OfflineItem(
                check_in=_check_in_command(session_id, item),
                client_id=item.client_id,
                recorded_at=item.recorded_at,
                content=item.model_dump(mode="json"),
            )
            for item in body.items
        ),
    )


def _ticket_public(ticket: TicketSlip) -> TicketPublic:
    return TicketPublic(
        ticket_id=ticket.ticket_id,
        service=ticket.service,
        agency=ticket.agency,
        number=ticket.number,
        position=ticket.position,
        status=ticket.status,
        transferred_from=ticket.transferred_from,
    )


def _check_in_response(result: CheckInResult) -> CheckInResponse:
    return CheckInResponse(
        check_in_id=result.check_in_id,
        session_id=result.session_id,
        nik=result.nik,
        priority=result.priority,
        tickets=[_ticket_public(ticket) for ticket in result.tickets],
        added_services=list(result.added_services),
    )


def _ticket_state(ticket: Ticket) -> TicketState:
    return TicketState(
        ticket_id=ticket.ticket_id,
        session_id=ticket.session_id,
        service=ticket.service,
        agency=ticket.agency,
        number=ticket.number,
        status=ticket.status,
        desk=ticket.desk,
        outcome=ticket.outcome,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        completed_at=ticket.completed_at,
        recalls=ticket.recalls,
        transferred_from=ticket.transferred_from,
        transferred_to=ticket.transferred_to,
        history=[TicketAction(action=s.action, desk=s.desk, at=s.at) for s in ticket.history],
    )


def _queue_status(report: QueueReport) -> QueueStatus:
    return QueueStatus(
        session_id=report.session_id,
        status=report.status,
        services=[
            ServiceQueue(
                service=s.service,
                agency=s.agency,
                waiting=s.waiting,
                called=s.called,
                served=s.served,
                now_serving=s.now_serving,
                mean_service_seconds=s.mean_service_seconds,
                active_desks=s.active_desks,
                estimated_wait_seconds=s.estimated_wait_seconds,
                positions=[
                    WaitingPosition(
                        number=p.number,
                        position=p.position,
                        estimated_wait_seconds=p.estimated_wait_seconds,
                    )
                    for p in s.positions
                ],
            )
            for s in report.services
        ],
    )


def _batch_result(batch: BatchResult) -> OfflineBatchResult:
    return OfflineBatchResult(
        session_id=batch.session_id,
        results=[
            OfflineResult(
                client_id=r.client_id,
                result=r.result,
                check_in=_check_in_response(r.check_in) if r.check_in else None,
                problem=(
                    ItemProblem(
                        status=r.problem.status, code=r.problem.code, detail=r.problem.detail
                    )
                    if r.problem
                    else None
                ),
            )
            for r in batch.results
        ],
    )
