"""The public display of a session: the latest calls and who waits per agency, live.

Live updates come from the bus (`Deps.live`, a core NATS feed of the registry's own events
on every instance, `botram_runtime.live`), not from this process's memory: a call made on
another instance reaches this instance's displays too. Nothing shown names a citizen.
"""

from collections.abc import AsyncIterator

from botram_contracts.events import TicketCalledV1, TicketRecalledV1
from botram_registry import store
from botram_registry.deps import Deps
from botram_registry.domain.screens import (
    DISPLAY_CALLS,
    DisplayCall,
    DisplaySnapshot,
    DisplayUpdate,
    agency_label,
    waiting_by_agency,
)
from botram_registry.store import SessionRow
from botram_runtime.errors import NotFound
from botram_runtime.live import LiveEvent

CALLS = {TicketCalledV1.event_type: False, TicketRecalledV1.event_type: True}


async def display_snapshot(deps: Deps, session_id: str) -> DisplaySnapshot:
    """The board as it is now (404 for a session the registry does not know)."""
    async with deps.db.session() as tx:
        session = await tx.get(SessionRow, session_id)
        if session is None:
            raise NotFound("session", session_id)
        latest = await store.latest_calls(tx, session_id, DISPLAY_CALLS)
        queues = await store.issued_by_service(tx, session_id)
    waiting: dict[str, int] = {}
    for code in session.services:
        agency = deps.catalogue.get(code).agency
        waiting[agency] = waiting.get(agency, 0) + queues.get(code, (0, 0))[1]
    labels = {agency: label_of(deps, agency) for agency in waiting}
    calls = tuple(
        DisplayCall(
            number=t.number,
            desk=t.desk,
            agency_label=label_of(deps, t.agency),
            service_name=deps.catalogue.get(t.service).name,
            at=t.called_at,
        )
        for t in latest
    )
    return DisplaySnapshot(
        session_id=session_id,
        session_status=session.status,
        calls=calls,
        agencies=waiting_by_agency(waiting, labels),
    )


async def follow_display(deps: Deps, session_id: str) -> AsyncIterator[DisplayUpdate]:
    """The board now, then each call of the session as it happens and the board after it;
    ends when the service stops (the display reconnects to another instance, or this one
    once it is back)."""
    if deps.live is None:
        yield DisplayUpdate(snapshot=await display_snapshot(deps, session_id))
        return
    async with deps.live.listen() as listener:
        yield DisplayUpdate(snapshot=await display_snapshot(deps, session_id))
        while True:
            batch = [await listener.get()]
            while not listener.empty():  # what arrived meanwhile: one snapshot for all of it
                batch.append(listener.get_nowait())
            events = [e for e in batch if e is not None and e.data.get("session_id") == session_id]
            for event in events:
                if is_announced(event):
                    yield DisplayUpdate(call=_call(deps, event))
            if events:
                yield DisplayUpdate(snapshot=await display_snapshot(deps, session_id))
            if None in batch:
                return


def is_announced(event: LiveEvent) -> bool:
    """A call or recall the display shows large and speaks: never one an offline desk recorded
    and uploaded later (its citizen left long ago; the board still refreshes)."""
    return event.type in CALLS and not event.data.get("recorded_offline")


def _call(deps: Deps, event: LiveEvent) -> DisplayCall:
    data = event.data
    service = str(data.get("service", ""))
    return DisplayCall(
        number=str(data.get("number", "")),
        desk=data.get("desk"),
        agency_label=label_of(deps, str(data.get("agency", ""))),
        service_name=deps.catalogue.get(service).name if service in deps.catalogue else service,
        recall=CALLS[event.type],
    )


def label_of(deps: Deps, agency: str) -> str:
    known = deps.catalogue.agencies.get(agency)
    return agency_label(agency, known.name) if known else agency
