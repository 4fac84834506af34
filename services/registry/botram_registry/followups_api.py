"""Follow-up routes: an agency tells the holder of a finished ticket that a document is ready.

The same rules as `api.py`: parse, call a use case, map its result; no rules, no storage.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from botram_registry.deps import DepsDep
from botram_registry.domain.follow_ups import FollowUp, FollowUpKind, RecordFollowUp
from botram_registry.schemas import FollowUpPublic, FollowUpRequest
from botram_registry.usecases import follow_ups
from botram_runtime.access import allow
from botram_runtime.actors import Actor, Role

router = APIRouter(prefix="/v1")

# The agency's own systems (`agency`) or its desk (`desk`); confined to the ticket's agency
# (domain/follow_ups.py).
AgencyOrDesk = Annotated[Actor, Depends(allow(Role.AGENCY, Role.DESK))]


@router.post(
    "/tickets/{ticket_id}/follow-ups",
    tags=["follow-ups"],
    status_code=status.HTTP_201_CREATED,
)
async def record_follow_up(
    ticket_id: str, body: FollowUpRequest, deps: DepsDep, actor: AgencyOrDesk
) -> FollowUpPublic:
    """Tell the holder of a served or referred ticket that a document is ready: where and
    until when (texted once when they gave a phone; shown on the ticket's page; published as
    `botram.service.followed_up.v1`). Once per ticket and kind."""
    command = RecordFollowUp(
        ticket_id,
        FollowUpKind(body.kind),
        place=body.place,
        until=body.until,
        note=body.note,
        actor=actor,
    )
    return _public(await follow_ups.record_follow_up(deps, command))


def _public(follow_up: FollowUp) -> FollowUpPublic:
    return FollowUpPublic(
        follow_up_id=follow_up.follow_up_id,
        ticket_id=follow_up.ticket_id,
        number=follow_up.number,
        service=follow_up.service,
        agency=follow_up.agency,
        kind=follow_up.kind.value,
        place=follow_up.place,
        until=follow_up.until,
        note=follow_up.note,
        followed_up_at=follow_up.followed_up_at,
        seconds_since_completion=follow_up.seconds_since_completion,
        citizen_notified=follow_up.citizen_notified,
    )
