"""The idempotent consumer: an event's effect is applied once per consumer."""

import pytest
from sqlmodel import select

from botram_runtime.db import Database
from botram_runtime.inbox import ProcessedEvent, claim_event, claim_events
from db_tables import create_tables


@pytest.fixture
async def database(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    await create_tables(db, ProcessedEvent)
    yield db
    await db.dispose()


async def test_an_event_is_claimed_once_per_consumer(database: Database) -> None:
    async with database.transaction() as session:
        first = await claim_event(session, "reporting", "e-1")
    async with database.transaction() as session:
        again = await claim_event(session, "reporting", "e-1")
        other_consumer = await claim_event(session, "registry", "e-1")

    assert (first, again, other_consumer) == (True, False, True)


async def test_a_claim_rolled_back_with_its_effect_can_be_made_again(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            await claim_event(session, "reporting", "e-2")
            raise RuntimeError("the effect failed")

    async with database.transaction() as session:
        assert await claim_event(session, "reporting", "e-2")


async def test_a_batch_claims_only_the_ids_not_claimed_before_once_each(
    database: Database,
) -> None:
    async with database.transaction() as session:
        assert await claim_event(session, "reporting", "e-3")
    ids = ["e-3", "e-4", "e-5", "e-4", "7f1c7f0e-5a39-4a4e-9d7a-2b1f6a0c9e11"]

    async with database.transaction() as session:
        claimed = await claim_events(session, "reporting", ids)
        again = await claim_events(session, "reporting", ids)
        other_consumer = await claim_events(session, "registry", ["e-3"])
        nothing = await claim_events(session, "reporting", [])

    assert claimed == {"e-4", "e-5", "7f1c7f0e-5a39-4a4e-9d7a-2b1f6a0c9e11"}
    assert (again, other_consumer, nothing) == (set(), {"e-3"}, set())
    async with database.session() as session:
        rows = (await session.exec(select(ProcessedEvent))).all()
    assert sorted((r.consumer, r.event_id) for r in rows) == sorted(
        [("reporting", i) for i in dict.fromkeys(ids)] + [("registry", "e-3")]
    )
    assert all(r.processed_at is not None for r in rows)
