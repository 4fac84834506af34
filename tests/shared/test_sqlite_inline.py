"""The experimental inline SQLite adapter behaves like aiosqlite for the unit of work."""

from pathlib import Path

import pytest
from sqlmodel import SQLModel, select

from botram_shared.db import Database
from botram_shared.events import SessionOpenedV1
from botram_shared.events.envelope import utc_now
from botram_shared.inbox import ProcessedEvent, claim_event
from botram_shared.outbox import OutboxEvent, stage_event


@pytest.fixture
async def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", sqlite_inline=True)
    tables = [OutboxEvent.__table__, ProcessedEvent.__table__]  # type: ignore[attr-defined]
    async with db.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)
    yield db
    await db.dispose()


def opened() -> SessionOpenedV1:
    return SessionOpenedV1(
        session_id="s", level="desa", kecamatan="setu", date=utc_now().date(), opened_at=utc_now()
    )


async def test_a_failed_unit_of_work_leaves_nothing_and_a_good_one_commits(
    database: Database,
) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            stage_event(session, opened(), "scheduler")
            raise RuntimeError("the state change failed")
    async with database.transaction() as session:
        stage_event(session, opened(), "scheduler")

    async with database.session() as session:
        assert len((await session.exec(select(OutboxEvent))).all()) == 1
    assert await database.ping()


async def test_claims_are_idempotent_on_the_inline_connection(database: Database) -> None:
    async with database.transaction() as session:
        first = await claim_event(session, "reporting", "e-1")
    async with database.transaction() as session:
        again = await claim_event(session, "reporting", "e-1")

    assert (first, again) == (True, False)
