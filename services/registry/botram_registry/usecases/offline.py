"""Offline village desks: each uploaded item on its own, in order; a replayed upload changes
nothing. Check-ins here; desk actions in `offline_actions`; the rules in
`domain.offline_actions`."""

from datetime import timedelta

from botram_contracts.vocabulary import SessionStatus
from botram_registry import events, store
from botram_registry.deps import Deps
from botram_registry.domain.check_in import Arrival
from botram_registry.domain.offline import (
    BatchResult,
    ClientIdReused,
    ItemRefusal,
    ItemResult,
    OfflineItem,
    UploadOfflineBatch,
    UploadResult,
    check_replay,
    fingerprint,
)
from botram_registry.domain.offline_actions import (
    OfflineAction,
    check_may_record,
    check_recorded_day,
    check_upload_window,
)
from botram_registry.domain.tickets import TicketStatus, end_of_wait
from botram_registry.offline_store import OfflineActionRow
from botram_registry.store import CheckInRow, OfflineCheckInRow, SessionRow, retry_lost_race
from botram_registry.usecases.check_in import check_in_within, identify_citizen, result_of
from botram_registry.usecases.offline_actions import apply_action
from botram_runtime.actors import Actor
from botram_runtime.errors import DomainError, NotFound
from botram_runtime.outbox import stage_event


async def upload_batch(deps: Deps, command: UploadOfflineBatch, actor: Actor) -> BatchResult:
    """Apply what an offline desk recorded: each item on its own, in the order uploaded;
    replays change nothing. A session unknown, never opened, cancelled, or closed longer ago
    than the grace period refuses the whole batch."""
    now = deps.clock()
    grace = timedelta(hours=deps.settings.offline_grace_hours)
    async with deps.db.session() as tx:
        session = await tx.get(SessionRow, command.session_id)
        if session is None:
            raise NotFound("session", command.session_id)
        check_upload_window(session.id, session.status, session.updated_at, now, grace)
    results = []
    for item in command.items:
        if isinstance(item, OfflineAction):
            results.append(await apply_action(deps, command, item, actor))
        else:
            results.append(await _upload(deps, command, item, actor))
    if session.status == SessionStatus.CLOSED:
        await _expire_left_waiting(deps, command.session_id)
    return BatchResult(session_id=command.session_id, results=results)


async def _upload(
    deps: Deps, batch: UploadOfflineBatch, item: OfflineItem, actor: Actor
) -> ItemResult:
    key = deps.settings.pseudonym_key.get_secret_value().encode()
    digest = fingerprint(item.content, key)

    async def attempt() -> ItemResult:
        check_may_record(actor, None)
        async with deps.db.transaction() as tx:
            seen = await tx.get(OfflineCheckInRow, (batch.session_id, item.client_id))
            if seen is not None:
                check_replay(item.client_id, seen.fingerprint, digest)
                check_in = await tx.get(CheckInRow, seen.check_in_id)
                assert check_in is not None
                # The same device's same item again: its own answer, as first given.
                replayed = await result_of(tx, deps, check_in, item.check_in.nik)
                return ItemResult(item.client_id, UploadResult.REPLAYED, check_in=replayed)
            if await tx.get(OfflineActionRow, (batch.session_id, item.client_id)) is not None:
                raise ClientIdReused(item.client_id)
            session = await tx.get(SessionRow, batch.session_id)
            assert session is not None  # the batch checked it
            check_recorded_day(item.recorded_at, session.date)
            identity = identify_citizen(deps, item.check_in.nik)
            arrival = Arrival(recorded_at=item.recorded_at, device_id=batch.device_id)
            result = await check_in_within(tx, deps, item.check_in, identity, arrival)
            tx.add(
                OfflineCheckInRow(
                    session_id=batch.session_id,
                    client_id=item.client_id,
                    fingerprint=digest,
                    check_in_id=result.check_in_id,
                    device_id=batch.device_id,
                    recorded_at=item.recorded_at,
                    received_at=deps.clock(),
                )
            )
            await tx.flush()
            kind = UploadResult.CREATED if result.created else UploadResult.MERGED
            return ItemResult(item.client_id, kind, check_in=result)

    try:
        return await retry_lost_race(attempt)
    except ClientIdReused as error:
        return ItemResult(item.client_id, UploadResult.CONFLICT, problem=ItemRefusal.of(error))
    except DomainError as error:
        return ItemResult(item.client_id, UploadResult.REJECTED, problem=ItemRefusal.of(error))


async def _expire_left_waiting(deps: Deps, session_id: str) -> None:
    """At a closed session, a ticket an upload issued and no uploaded call took up ends as
    expired, as the close ended every other (the session's queues are gone)."""
    now = deps.clock()
    async with deps.db.transaction() as tx:
        session = await tx.get(SessionRow, session_id)
        assert session is not None
        for ticket in await store.tickets_of_session(tx, session_id):
            ended = end_of_wait(TicketStatus(ticket.status), SessionStatus.CLOSED)
            if ended is None:
                continue
            ticket.status, ticket.completed_at = ended, now
            tx.add(ticket)
            stage_event(tx, events.waiting_ended(ticket, session, now, None))
