"""The offline desks' upload route: check-ins, calls, outcomes and no-shows recorded without
connectivity, uploaded later (even after the session closed, within the grace period)."""

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from botram_contracts.vocabulary import Outcome
from botram_registry.api import _check_in_command, _check_in_response, _status_base, _ticket_state
from botram_registry.deps import DepsDep
from botram_registry.domain.offline import BatchResult, OfflineItem, UploadOfflineBatch
from botram_registry.domain.offline_actions import ActionKind, OfflineAction, TicketReference
from botram_registry.offline_schemas import (
    ItemProblem,
    OfflineBatch,
    OfflineBatchResult,
    OfflineCheckIn,
    OfflineDeskAction,
    OfflineOutcome,
    OfflineResult,
)
from botram_registry.usecases import offline
from botram_runtime.access import allow
from botram_runtime.actors import Actor, Role

router = APIRouter(prefix="/v1")

# Check-in items need the front desk, desk actions a desk of the ticket's agency (or an
# operator for either): checked per item (`domain.offline_actions.check_may_record`).
Uploader = Annotated[Actor, Depends(allow(Role.FRONT_DESK, Role.DESK, Role.OPERATOR))]


@router.post("/sessions/{session_id}/check-ins:batch", tags=["check-in"])
async def check_in_batch(
    session_id: str, body: OfflineBatch, request: Request, deps: DepsDep, actor: Uploader
) -> OfflineBatchResult:
    """Upload what an offline desk recorded: check-ins, calls, outcomes, no-shows; a result
    per item, applied in order; a replay changes nothing.

    Accepted while the session is open and for `BOTRAM_OFFLINE_GRACE_HOURS` (72) after it
    closed (then 409 `offline-grace-over`). Each item keeps its `recorded_at` (the ticket's and
    the event's time), which must fall on the session's day. Conflicts with what happened
    online: the first recorded at the registry wins; a desk action the ticket's state no
    longer allows (a ticket completed online, then completed or marked not come offline) is
    reported as `conflict` and changes nothing, except an offline call recorded before the
    close of a ticket the close expired. At a closed session, a ticket uploaded and not called
    ends expired. Check-in items need the role front-desk, desk actions a desk of the ticket's
    agency (or operator for both)."""
    command = _batch_command(session_id, body, actor)
    batch = await offline.upload_batch(deps, command, actor)
    return _batch_result(batch, _status_base(request, deps))


def _batch_command(session_id: str, body: OfflineBatch, actor: Actor) -> UploadOfflineBatch:
    return UploadOfflineBatch(
        session_id=session_id,
        device_id=body.device_id,
        items=tuple(
            _check_in_item(session_id, item, actor)
            if isinstance(item, OfflineCheckIn)
            else _action_item(item)
            for item in body.items
        ),
    )


def _check_in_item(session_id: str, item: OfflineCheckIn, actor: Actor) -> OfflineItem:
    # Without `kind`: an item's fingerprint stays what it was before desk actions could sync.
    content = item.model_dump(mode="json", exclude={"kind"})
    return OfflineItem(
        check_in=_check_in_command(session_id, item, actor),
        client_id=item.client_id,
        recorded_at=item.recorded_at.astimezone(UTC),
        content=content,
    )


def _action_item(item: OfflineDeskAction) -> OfflineAction:
    kind = ActionKind(item.model_dump()["kind"])
    outcome = Outcome(item.outcome) if isinstance(item, OfflineOutcome) else None
    return OfflineAction(
        kind=kind,
        client_id=item.client_id,
        recorded_at=item.recorded_at.astimezone(UTC),
        ticket=TicketReference(item.ticket_id, item.number, item.check_in, item.service),
        desk=item.desk,
        outcome=outcome,
        note=item.note if isinstance(item, OfflineOutcome) else None,
        content=item.model_dump(mode="json"),
    )


def _batch_result(batch: BatchResult, status_base: str) -> OfflineBatchResult:
    return OfflineBatchResult(
        session_id=batch.session_id,
        results=[
            OfflineResult(
                client_id=r.client_id,
                result=r.result,
                check_in=_check_in_response(r.check_in, status_base) if r.check_in else None,
                ticket=_ticket_state(r.ticket) if r.ticket else None,
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
