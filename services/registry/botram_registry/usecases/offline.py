"""Offline village desks: each uploaded check-in on its own; a replayed upload changes nothing."""

from botram_registry.deps import Deps
from botram_registry.domain.check_in import Arrival, require_open
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
from botram_registry.store import CheckInRow, OfflineCheckInRow, SessionRow, retry_lost_race
from botram_registry.usecases.check_in import check_in_within, identify_citizen, result_of
from botram_runtime.errors import DomainError


async def check_in_batch(deps: Deps, command: UploadOfflineBatch) -> BatchResult:
    """Check in what an offline desk recorded: each item on its own, replays change nothing.
    A session that is unknown or not open refuses the whole batch."""
    async with deps.db.session() as tx:
        require_open(command.session_id, await tx.get(SessionRow, command.session_id))
    results = [await _upload(deps, command, item) for item in command.items]
    return BatchResult(session_id=command.session_id, results=results)


async def _upload(deps: Deps, batch: UploadOfflineBatch, item: OfflineItem) -> ItemResult:
    key = deps.settings.pseudonym_key.get_secret_value().encode()
    digest = fingerprint(item.content, key)

    async def attempt() -> ItemResult:
        async with deps.db.transaction() as tx:
            seen = await tx.get(OfflineCheckInRow, (batch.session_id, item.client_id))
            if seen is not None:
                check_replay(item.client_id, seen.fingerprint, digest)
                check_in = await tx.get(CheckInRow, seen.check_in_id)
                assert check_in is not None
                # The same device's same item again: its own answer, as first given.
                replayed = await result_of(tx, deps, check_in, item.check_in.nik)
                return ItemResult(item.client_id, UploadResult.REPLAYED, check_in=replayed)
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
