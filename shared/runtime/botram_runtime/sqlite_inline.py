"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every statement on a worker thread and wakes the event loop for each result:
measured here at ~0.7 ms per statement, which capped a check-in (a dozen statements) near
60/s and reporting's ingest near 180 events/s. A local SQLite statement itself takes tens of
microseconds, so this adapter keeps aiosqlite's API (which SQLAlchemy's `aiosqlite` dialect
drives) but runs each call inline on the event loop thread.

Waiting on SQLite's write lock must never block the loop: the lock holder may be a task on
this very loop. So these connections have no busy timeout; a statement refused with "database
is locked" (it had no effect) is retried after an asynchronous sleep, for up to
`LOCK_WAIT_SECONDS`, which other tasks, and other connections to the file, use to finish.
`Database` gives each service a single pooled connection; sessions queue for it.
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import aiosqlite

from botram_runtime.consumers import sleep_unless, stop_task

LOCK_WAIT_SECONDS = 10.0
# How often the WAL is checkpointed (when something was committed since the last time).
CHECKPOINT_INTERVAL_SECONDS = 1.0
# A checkpoint in progress at stop runs in a thread: waited for this long at most.
CHECKPOINT_STOP_SECONDS = 2.0
_FIRST_RETRY_SECONDS = 0.001
_LONGEST_RETRY_SECONDS = 0.05


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
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if not _is_locked(error):
                raise
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        pause = _FIRST_RETRY_SECONDS
        while True:
            await asyncio.sleep(pause)
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _is_locked(error) or time.monotonic() > deadline:
                    raise
            pause = min(pause * 2, _LONGEST_RETRY_SECONDS)

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


class WalCheckpointer:
    """Checkpoints an inline database's write-ahead log from a worker thread.

    SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: it
    copies pages into the database file and fsyncs it, stalling the event loop (it showed in
    the check-in's latency tail). Inline connections therefore turn it off, and this copies
    the log in the background every `interval` seconds instead, with a connection of its own
    in a thread; a PASSIVE checkpoint never waits for, nor blocks, the writer.
    """

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self._path = path
        self._interval = interval
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def note_commit(self) -> None:
        self._dirty = True
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._stopping = asyncio.Event()
            self._task = loop.create_task(self._run(), name="sqlite-wal-checkpoint")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task.get_loop() is asyncio.get_running_loop():
            self._stopping.set()
            await stop_task(task, CHECKPOINT_STOP_SECONDS)
        if self._dirty:
            with suppress(sqlite3.Error):
                await asyncio.to_thread(self.checkpoint)

    def checkpoint(self) -> None:
        """Copy the committed log into the database file (blocking: run it in a thread)."""
        self._dirty = False
        connection = sqlite3.connect(self._path, timeout=0)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await sleep_unless(self._stopping, self._interval)
            if self._dirty and not self._stopping.is_set():
                with suppress(sqlite3.Error):  # busy or gone: the next round tries again
                    await asyncio.to_thread(self.checkpoint)


def _is_locked(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or "locked" in str(error)


def inline_creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine` opening `path` inline."""

    async def connect() -> InlineSqliteConnection:
        def open_database() -> sqlite3.Connection:
            return sqlite3.connect(path, check_same_thread=False)

        return await InlineSqliteConnection(open_database, iter_chunk_size=256)._connect()

    return connect
