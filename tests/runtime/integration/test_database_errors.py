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
