"""Personal data retention (UU 27/2022): what the registry holds of a citizen expires."""

from datetime import timedelta

from botram_registry import followups_store, store
from botram_registry.deps import Deps
from botram_runtime.db import take_job_lock


async def erase_expired_personal_data(deps: Deps) -> int:
    """Erase NIK, name, phone and priority reasons of citizens not seen within the retention
    period; returns how many citizens were erased. Events only ever had the pseudonym."""
    cutoff = deps.clock() - timedelta(days=deps.settings.personal_data_retention_days)
    async with deps.db.transaction() as tx:
        if not await take_job_lock(tx, "registry-retention"):
            return 0  # another replica sweeps now
        return await store.erase_personal_data(tx, cutoff)


async def erase_expired_ticket_notes(deps: Deps) -> int:
    """Erase the notes desks wrote on tickets completed longer ago than their retention
    (a note may say more about a citizen than the outcome does); returns how many."""
    cutoff = deps.clock() - timedelta(days=deps.settings.ticket_note_retention_days)
    async with deps.db.transaction() as tx:
        if not await take_job_lock(tx, "registry-note-retention"):
            return 0  # another replica sweeps now
        return await store.erase_ticket_notes(tx, cutoff)


async def erase_expired_follow_up_contacts(deps: Deps) -> int:
    """Erase the phones kept for follow-ups that did not come in time; returns how many."""
    async with deps.db.transaction() as tx:
        if not await take_job_lock(tx, "registry-follow-up-contacts"):
            return 0  # another replica sweeps now
        return await followups_store.erase_expired_follow_up_contacts(tx, deps.clock())
