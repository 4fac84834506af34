"""A failing statement never carries its parameters: no NIK, name or phone in an error or log.

SQLAlchemy puts a statement's parameters into the message of the exception it raises (which
ends up in tracebacks and logs) and into its own log lines unless the engine hides them.
"""

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from botram_runtime.db import Database

PHONE = "081298765432"
NAME = "Siti Aminah"


async def test_a_failing_statement_keeps_its_parameters_out_of_the_error_and_the_log(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database(database_url, echo=True)
    try:
        async with database.transaction() as tx:
            await tx.exec(text("CREATE TABLE people (phone VARCHAR(20) PRIMARY KEY, name TEXT)"))  # type: ignore[call-overload]
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            statement = text("INSERT INTO people (phone, name) VALUES (:phone, :name)")
            with pytest.raises(DBAPIError) as failure:
                async with database.transaction() as tx:
                    for _ in range(2):  # the second insert breaks the primary key
                        await tx.exec(statement, params={"phone": PHONE, "name": NAME})  # type: ignore[call-overload]
    finally:
        await database.dispose()

    message = str(failure.value)
    assert "INSERT INTO people" in message  # the statement, for whoever debugs it
    assert PHONE not in message and NAME not in message
    assert "hidden due to hide_parameters" in message
    assert caplog.records, "echo=True logs the statements"
    assert PHONE not in caplog.text and NAME not in caplog.text


async def test_a_lock_held_elsewhere_fails_the_waiter_within_lock_timeout_on_postgresql(
    database_url: str,
) -> None:
    # HEAD: no statement or lock timeout; a stuck lock held a request forever.
    database = Database(database_url, statement_timeout=5.0, lock_timeout=0.2)
    try:
        if database.is_sqlite:  # one connection, transactions queue for it: nothing to set
            assert "connect_args" not in repr(database.engine.pool)
            return
        async with database.transaction() as tx:
            await tx.exec(text("CREATE TABLE counters (id INT PRIMARY KEY, n INT)"))  # type: ignore[call-overload]
            await tx.exec(text("INSERT INTO counters VALUES (1, 0)"))  # type: ignore[call-overload]
        async with database.session() as holder, holder.begin():
            await holder.exec(text("SELECT n FROM counters WHERE id = 1 FOR UPDATE"))  # type: ignore[call-overload]
            with pytest.raises(DBAPIError, match="lock timeout"):
                async with database.transaction() as waiter:
                    await waiter.exec(text("UPDATE counters SET n = 1 WHERE id = 1"))  # type: ignore[call-overload]
            async with database.session() as other:
                shown = await other.exec(text("SHOW statement_timeout"))  # type: ignore[call-overload]
                assert shown.scalar_one() == "5s"
    finally:
        await database.dispose()
