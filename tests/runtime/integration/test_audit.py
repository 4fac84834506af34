"""The audit trail commits with the change it records, and lists newest first."""

import pytest

from botram_runtime import audit
from botram_runtime.actors import Actor, Role
from botram_runtime.db import Database
from db_tables import create_tables

DESK = Actor(sub="officer-17", roles=frozenset({Role.DESK}), agency="dukcapil")


@pytest.fixture
async def database(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    await create_tables(db, audit.AuditEntry)
    yield db
    await db.dispose()


async def test_an_entry_is_stored_only_with_its_change(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as tx:
            audit.record(tx, DESK, "call_next", session_id="s-1", ticket_id="t-1")
            raise RuntimeError("the change failed")
    async with database.transaction() as tx:
        audit.record(tx, DESK, "call_next", session_id="s-1", ticket_id="t-2")

    async with database.session() as tx:
        entries = await audit.list_entries(tx)

    assert [e["resource_ids"] for e in entries] == [{"ticket_id": "t-2"}]
    assert entries[0]["actor"] == "officer-17"
    assert entries[0]["roles"] == ["desk"]
    assert entries[0]["agency"] == "dukcapil"


async def test_entries_are_listed_newest_first_and_filtered(database: Database) -> None:
    other = Actor(sub="ops-1", roles=frozenset({Role.OPERATOR}))
    async with database.transaction() as tx:
        audit.record(tx, DESK, "call_next", session_id="s-1", ticket_id="t-1")
        audit.record(tx, other, "close_session", session_id="s-2")
        audit.record(tx, DESK, "complete", session_id="s-1", ticket_id="t-1")

    async with database.session() as tx:
        everything = await audit.list_entries(tx)
        of_desk = await audit.list_entries(tx, actor="officer-17")
        of_session = await audit.list_entries(tx, session_id="s-2")

    assert [e["action"] for e in everything] == ["complete", "close_session", "call_next"]
    assert [e["action"] for e in of_desk] == ["complete", "call_next"]
    assert [e["action"] for e in of_session] == ["close_session"]
