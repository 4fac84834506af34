"""Reporting's bus handler: one durable, batched consumer of every public event family."""

from collections.abc import Sequence
from typing import Any

from botram_contracts.events import CloudEvent
from botram_contracts.subjects import PUBLIC_EVENT_FAMILIES
from botram_reporting.deps import Deps
from botram_reporting.usecases.ingest import CONSUMER, apply_events
from botram_runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, deps: Deps) -> None:
    async def on_public_events(events: Sequence[CloudEvent[Any]]) -> set[str]:
        return await apply_events(deps, events)

    # One consumer filtering on all five families (not one per family) keeps the stream's
    # order: a session's closing is applied after its check-ins, so the demand ranking it
    # triggers counts them. Private (`botram.private.>`) and dead-letter subjects stay out.
    runtime.subscribe_batches(
        list(PUBLIC_EVENT_FAMILIES),
        durable=CONSUMER,
        handler=on_public_events,
        description=(
            "Counts every public botram.session/citizen/ticket/service/demand event into the "
            "aggregates, exactly once, one transaction per fetched batch."
        ),
        batch_size=deps.settings.reporting_batch_size,
        batch_timeout_seconds=deps.settings.reporting_batch_timeout_seconds,
        batch_linger_seconds=deps.settings.reporting_batch_linger_seconds,
    )
