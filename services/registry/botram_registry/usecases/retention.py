"""Personal data retention (UU 27/2022): what the registry holds of a citizen expires."""

from datetime import timedelta

from botram_registry import store
from botram_registry.deps import Deps


async def erase_expired_personal_data(deps: Deps) -> int:
    """Erase NIK, name, phone and priority reasons of citizens not seen within the retention
    period; returns how many citizens were erased. Events only ever had the pseudonym."""
    cutoff = deps.clock() - timedelta(days=deps.settings.personal_data_retention_days)
    async with deps.db.transaction() as tx:
        return await store.erase_personal_data(tx, cutoff)
