"""The idempotent consumer: an event's effect is applied once per consumer."""

import pytest
from sqlmodel import SQLModel

from botram_runtime.db import Database
from botram_runtime.inbox import ProcessedEvent, claim_event


@pytest.fixture
async def database(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[ProcessedEvent.__table__],  # type: ignore[attr-defined]
        )
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
