"""Offline desks' calls, outcomes and no-shows: each applied at the time the desk recorded it,
under the first-recorded-wins rule (`domain.offline_actions`), and a replay changes nothing."""

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.vocabulary import SessionStatus
from botram_registry import events, offline_store, store
from botram_registry.deps import Deps
from botram_registry.domain.access import check_desk
from botram_registry.domain.offline import (
    ClientIdReused,
    ItemRefusal,
    ItemResult,
    UploadOfflineBatch,
    UploadResult,
    check_replay,
    fingerprint,
)
from botram_registry.domain.offline_actions import (
    DESK_ACTION,
    ActionKind,
    OfflineAction,
    OfflineConflict,
    check_may_record,
    check_recorded_day,
    resolve,
)
from botram_registry.domain.queue import Waiting, up_next
from botram_registry.domain.tickets import TicketStatus
from botram_registry.offline_store import OfflineActionRow
from botram_registry.store import SessionRow, TicketRow
from botram_registry.usecases.desks import ticket_of
from botram_runtime import audit
from botram_runtime.actors import Actor
from botram_runtime.errors import DomainError
from botram_runtime.outbox import stage_event


async def apply_action(
    deps: Deps, batch: UploadOfflineBatch, item: OfflineAction, actor: Actor
) -> ItemResult:
    """Apply one uploaded desk action in its own transaction; its result (never raises for a
    refused item: a refusal is the item's result)."""
    key = deps.settings.pseudonym_key.get_secret_value().encode()
    digest = fingerprint(item.content, key)
    try:
        async with deps.db.transaction() as tx:
            return await _apply(tx, deps, batch, item, actor, digest)
    except (ClientIdReused, OfflineConflict) as error:
        return ItemResult(item.client_id, UploadResult.CONFLICT, problem=ItemRefusal.of(error))
    except DomainError as error:
        return ItemResult(item.client_id, UploadResult.REJECTED, problem=ItemRefusal.of(error))


async def _apply(
    tx: AsyncSession,
    deps: Deps,
    batch: UploadOfflineBatch,
    item: OfflineAction,
    actor: Actor,
    digest: str,
) -> ItemResult:
    check_may_record(actor, item.kind)
    seen = await tx.get(OfflineActionRow, (batch.session_id, item.client_id))
    if seen is not None:
        check_replay(item.client_id, seen.fingerprint, digest)
        ticket = await tx.get(TicketRow, seen.ticket_id)
        assert ticket is not None
        history = await store.history_of(tx, ticket.id)
        return ItemResult(item.client_id, UploadResult.REPLAYED, ticket=ticket_of(ticket, history))
    if await offline_store.client_id_taken(tx, batch.session_id, item.client_id):
        raise ClientIdReused(item.client_id)
    session = await tx.get(SessionRow, batch.session_id)
    assert session is not None  # the batch checked it
    check_recorded_day(item.recorded_at, session.date)
    found = await offline_store.find_ticket(tx, batch.session_id, item.ticket)
    check_desk(actor, found.agency, found.service)
    calling = item.kind == ActionKind.CALL
    # The queue first, as every call does (two desks never call one ticket).
    queue = await store.lock_queue(tx, found.session_id, found.service) if calling else None
    ticket = await store.lock_ticket(tx, found.id)
    assert ticket is not None
    was = TicketStatus(ticket.status)
    last_step = ticket.called_at or ticket.issued_at
    closed_at = session.updated_at if session.status == SessionStatus.CLOSED else None
    status = resolve(item.kind, was, ticket.number, item.recorded_at, last_step, closed_at)
    at, desk = item.recorded_at, item.desk or ticket.desk
    ticket.status = status
    if queue is not None:
        waiting = await store.waiting_in(tx, ticket.session_id, ticket.service)
        queue.called += 1  # from waiting (or expired by the close: it never left the count)
        queue.priority_called += ticket.priority
        tx.add(queue)
        ticket.desk, ticket.called_at, ticket.completed_at = item.desk, at, None
        chosen = Waiting(ticket.id, ticket.priority, ticket.number)
        per_regular = deps.settings.priority_calls_per_regular
        following = up_next(waiting, chosen, queue.priority_streak, per_regular)
        called = events.ticket_called(ticket, session, at, following, actor, True, offline=True)
        stage_event(tx, called)
    elif item.kind == ActionKind.OUTCOME:
        ticket.outcome, ticket.note, ticket.completed_at = item.outcome, item.note, at
        citizen = await store.pseudonym_of(tx, ticket.check_in_id)
        completed = events.service_completed(
            ticket, session, citizen, item.desk, at, actor, offline=True
        )
        stage_event(tx, completed)
    else:
        ticket.completed_at = at
        stage_event(tx, events.ticket_no_show(ticket, session, actor, offline=True))
    tx.add(ticket)
    store.record_action(tx, ticket.id, DESK_ACTION[item.kind], desk, at)
    tx.add(_applied(batch, item, digest, ticket.id, deps.clock()))
    audit.record(
        tx,
        actor,
        f"offline_{item.kind}",
        session_id=ticket.session_id,
        ticket_id=ticket.id,
        desk=desk,
    )
    await tx.flush()
    history = await store.history_of(tx, ticket.id)
    return ItemResult(item.client_id, UploadResult.APPLIED, ticket=ticket_of(ticket, history))


def _applied(
    batch: UploadOfflineBatch, item: OfflineAction, digest: str, ticket_id: str, now: datetime
) -> OfflineActionRow:
    return OfflineActionRow(
        session_id=batch.session_id,
        client_id=item.client_id,
        fingerprint=digest,
        kind=item.kind,
        ticket_id=ticket_id,
        device_id=batch.device_id,
        recorded_at=item.recorded_at,
        received_at=now,
    )
