"""Counting events: apply batches exactly once, and fill the metrics mirror at start-up."""

from collections.abc import Sequence
from typing import Any

from botram_contracts.events import CloudEvent, SurveyAnsweredV1
from botram_contracts.vocabulary import Level
from botram_reporting import store, survey_store
from botram_reporting.deps import Deps
from botram_reporting.domain.aggregates import deltas_for, sum_deltas
from botram_reporting.domain.facts import ids_touched, ranking_due
from botram_reporting.usecases.ranking import stage_ranking
from botram_runtime.inbox import claim_events

# The durable consumer of every public event, and the name its claims are recorded under.
CONSUMER = "reporting"


async def apply_events(deps: Deps, events: Sequence[CloudEvent[Any]]) -> set[str]:
    """Count a batch of events into the aggregates in one transaction; return the duplicates.

    Set-based: one statement claims the batch's ids, one query per table (per 500 ids) loads
    the fact rows it touches, the events are merged into plain dicts in stream order, and one
    upsert per table (the rows as one JSON parameter) writes them back, then one for the
    summed aggregates. A
    kecamatan session's closing writes the facts merged so far before staging its demand
    ranking, so the ranking counts exactly the events that precede the closing in the stream,
    whatever the batch boundaries.

    Replicas (PostgreSQL) share the consumer, so two batches may arrive at once: each
    transaction first takes the ingest lock (`store.lock_ingest`), so a batch reads the fact
    rows after the other replica's batch committed and never writes back a row without that
    batch's fields. The mirror is updated under `deps.mirror_lock`, which the periodic reload
    from the database takes too (`load_mirror`): it never goes back in time.
    """
    duplicates: set[str] = set()
    async with deps.mirror_lock:
        async with deps.db.transaction() as tx:
            await store.lock_ingest(tx)
            ids = [str(event.id) for event in events]  # each UUID formatted once
            fresh = await claim_events(tx, CONSUMER, ids)
            applied: list[Any] = []
            for event_id, event in zip(ids, events, strict=True):
                if event_id in fresh:
                    fresh.discard(event_id)  # a repeat within the batch is a duplicate
                    applied.append(event.data)
                else:
                    duplicates.add(event_id)
            facts = await store.load_facts(tx, ids_touched(applied))
            deltas = sum_deltas(delta for data in applied for delta in deltas_for(data))
            for data in applied:
                end = ranking_due(data, facts.apply(data))
                if end is not None and deps.publish_rankings:
                    await store.write_facts(tx, facts.take_changed())  # the ranking counts them
                    await stage_ranking(tx, deps, Level.KECAMATAN, end=end)
            await store.write_facts(tx, facts.take_changed())
            answers = [data for data in applied if isinstance(data, SurveyAnsweredV1)]
            await survey_store.write_answers(tx, answers)
            await store.add_deltas(tx, deltas)
        # The mirror changes only after the commit: a failed batch leaves it untouched.
        deps.aggregates.apply(deltas)
        for row in facts.sessions.values():
            deps.aggregates.set_session(row["id"], row["level"], row["kecamatan"], row["status"])
    return duplicates


async def load_mirror(deps: Deps) -> None:
    """Fill the in-memory mirror of the aggregates and sessions from the database: at
    start-up, and on PostgreSQL every `metrics_refresh_seconds`, so that each replica's
    /metrics also counts what the other replicas committed."""
    async with deps.mirror_lock:
        async with deps.db.session() as session:
            stored = await store.stored_aggregates(session)
            sessions = await store.all_sessions(session)
        deps.aggregates.reload(stored, ((s.id, s.level, s.kecamatan, s.status) for s in sessions))
