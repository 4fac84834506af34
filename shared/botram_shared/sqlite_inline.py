"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every statement on a worker thread and wakes the event loop for each result:
measured here at ~0.7 ms per statement, which capped a check-in (a dozen statements) near
60/s and reporting's ingest near 180 events/s. A local SQLite statement itself takes tens of
microseconds, so this adapter keeps aiosqlite's API (which SQLAlchemy's `aiosqlite` dialect
drives) but runs each call inline on the event loop thread.

That is only safe with ONE connection per database: a second connection waiting on SQLite's
write lock would block the very loop the lock holder needs. `Database` therefore gives SQLite
a single pooled connection; sessions queue for it without blocking the loop.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs each job as it is queued
    (SQLAlchemy's adapter queues some jobs itself, e.g. to set the isolation level)."""

    def put_nowait(self, job: tuple[Any, Callable[[], Any]]) -> None:
        future, function = job
        try:
            result = function()
        except BaseException as error:
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection API, executed inline instead of on a worker thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        # Let other tasks run between statements (heartbeats, acks, HTTP): a batch of
        # thousands of statements must not hold the loop for seconds. Costs ~10 µs.
        await asyncio.sleep(0)
        return fn(*args, **kwargs)

    async def _connect(self) -> "InlineSqliteConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:  # no worker thread to start: connect in place
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def inline_creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` inline."""

    async def connect() -> InlineSqliteConnection:
        def open_database() -> sqlite3.Connection:
            return sqlite3.connect(path, check_same_thread=False)

        return await InlineSqliteConnection(open_database, iter_chunk_size=256)._connect()

    return connect
