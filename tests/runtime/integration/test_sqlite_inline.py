"""The inline SQLite adapter behaves like aiosqlite for the unit of work."""

import asyncio
from pathlib import Path

import pytest
from sqlmodel import SQLModel, select

from botram_contracts.events import SessionOpenedV1
from botram_contracts.events.envelope import utc_now
from botram_runtime.db import Database
from botram_runtime.inbox import ProcessedEvent, claim_event
from botram_runtime.outbox import OutboxEvent, stage_event
from db_tables import create_tables


@pytest.fixture
async def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}", sqlite_inline=True)
    await create_tables(db, OutboxEvent, ProcessedEvent)
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
            stage_event(session, opened())
            raise RuntimeError("the state change failed")
    async with database.transaction() as session:
        stage_event(session, opened())

    async with database.session() as session:
        assert len((await session.exec(select(OutboxEvent))).all()) == 1
    assert await database.ping()


async def test_claims_are_idempotent_on_the_inline_connection(database: Database) -> None:
    async with database.transaction() as session:
        first = await claim_event(session, "reporting", "e-1")
    async with database.transaction() as session:
        again = await claim_event(session, "reporting", "e-1")

    assert (first, again) == (True, False)


async def test_waiting_for_the_write_lock_never_blocks_the_event_loop(tmp_path: Path) -> None:
    # Two engines on one file in one loop (a service and a tool, say): the second waits for
    # the first's write lock asynchronously, so the first can finish and the loop keeps going.
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first, second = Database(url, sqlite_inline=True), Database(url, sqlite_inline=True)
    await create_tables(first, ProcessedEvent)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def hold_the_lock() -> None:
        async with first.transaction() as session:
            await claim_event(session, "a", "e-1")
            await asyncio.sleep(0.3)  # holding the write lock, yielding to the loop

    async def write_meanwhile() -> None:
        await asyncio.sleep(0.05)
        async with second.transaction() as session:
            await claim_event(session, "b", "e-2")

    ticking = asyncio.create_task(ticker())
    try:
        await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_meanwhile()), timeout=10)
    finally:
        ticking.cancel()
    async with second.session() as session:
        rows = (await session.exec(select(ProcessedEvent.consumer))).all()
    await first.dispose()
    await second.dispose()

    assert sorted(rows) == ["a", "b"]
    assert ticks >= 15  # ~30 ticks in 0.3 s: the loop ran while the second writer waited


async def test_the_log_is_copied_into_the_database_file_off_the_event_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    db = Database(f"sqlite+aiosqlite:///{path}", sqlite_inline=True, wal_checkpoint_seconds=0.05)
    async with db.engine.begin() as connection:
        await connection.run_sync(
            SQLModel.metadata.create_all,
            tables=[ProcessedEvent.__table__],  # type: ignore[attr-defined]
        )
        # No checkpoint inside a commit: that would fsync on the event loop.
        assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
    size_before = path.stat().st_size
    async with db.transaction() as session:
        for n in range(2000):
            await claim_event(session, "reporting", f"event-{n:05d}")
    assert path.stat().st_size == size_before  # committed, but only in the log so far

    await asyncio.sleep(0.5)  # a few checkpoint rounds, in a worker thread

    assert path.stat().st_size > size_before + 50_000
    await db.dispose()
