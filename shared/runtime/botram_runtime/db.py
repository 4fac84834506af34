"""Database access shared by every service: engine, unit of work, migrations, readiness.

SQLite (the embedded default) and PostgreSQL (production) behave alike here. On SQLite every
transaction starts with `BEGIN IMMEDIATE`: the write lock is taken up front, so two
transactions never deadlock upgrading a read lock, and `busy_timeout` makes the second one
wait instead of failing. WAL with `synchronous=NORMAL` survives a killed process (not a power
cut); see docs/operations.md.
"""

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_runtime.sqlite_inline import (
    CHECKPOINT_INTERVAL_SECONDS,
    WalCheckpointer,
    inline_creator,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Set in `session.info` by whoever stages outbox rows, so commit listeners know to wake the relay.
STAGED_EVENTS = "botram.staged_events"
# Set in `session.info` of every session of a service's database: the service's name.
SERVICE_INFO = "botram.service"


def postgres_timeouts(statement: float | None, lock: float | None) -> dict[str, str]:
    """PostgreSQL's `statement_timeout` and `lock_timeout` settings, in milliseconds."""
    settings = {"statement_timeout": statement, "lock_timeout": lock}
    return {name: str(int(value * 1000)) for name, value in settings.items() if value}


class Database:
    """One service's database: an async engine and its sessions."""

    def __init__(
        self,
        url: str,
        *,
        service: str | None = None,
        echo: bool = False,
        sqlite_inline: bool = True,
        wal_checkpoint_seconds: float = CHECKPOINT_INTERVAL_SECONDS,
        statement_timeout: float | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        # Statement parameters carry NIKs, names and phones: never in a log line or in the
        # message of an exception (SQLAlchemy puts them in both unless told not to).
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        self._checkpointer: WalCheckpointer | None = None
        if self.is_sqlite and sqlite_inline:
            # One connection, statements run inline (see sqlite_inline): sessions queue for it.
            path = self.url.database or ":memory:"
            options |= {"async_creator": inline_creator(path), "pool_size": 1, "max_overflow": 0}
            if path != ":memory:":
                self._checkpointer = WalCheckpointer(path, wal_checkpoint_seconds)
        elif not self.is_sqlite:
            options |= {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
            # Applied by the server to every connection of the pool, from its first statement.
            timeouts = postgres_timeouts(statement_timeout, lock_timeout)
            if timeouts:
                options["connect_args"] = {"server_settings": timeouts}
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            # Inline connections wait for the write lock asynchronously (sqlite_inline), never
            # inside SQLite, which would block the event loop.
            # Their WAL is checkpointed off the loop (WalCheckpointer), not inside a commit.
            _configure_sqlite(
                self.engine,
                busy_timeout_ms=0 if sqlite_inline else None,
                auto_checkpoint=self._checkpointer is None,
            )
        self.service = service
        self._sessions = async_sessionmaker(
            self.engine,
            class_=AsyncSession,
            expire_on_commit=False,
            info={SERVICE_INFO: service} if service else None,
        )
        self._event_listeners: list[Callable[[], None]] = []

    def on_events_committed(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit that staged outbox events."""
        self._event_listeners.append(listener)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: it rolls back unless the caller commits."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that commits when the block ends without an exception."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
            if self._checkpointer is not None:
                self._checkpointer.note_commit()
            if session.info.pop(STAGED_EVENTS, False):
                for listener in self._event_listeners:
                    listener()

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def migrate(self, script_location: Path, **attributes: Any) -> None:
        """Bring the schema to the newest Alembic revision of one service.

        `attributes` reach the revisions as `op.get_context().config.attributes` (a revision
        that rewrites data with a key gets the key from the service's settings this way).
        """
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head, str(script_location), attributes)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer.stop()
        await self.engine.dispose()


# Each dialect's `insert`, with `on_conflict_do_*`: key by `dialect_of(session)`.
DIALECT_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_of(session: AsyncSession) -> str:
    """The name of the session's database dialect ("sqlite" or "postgresql")."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def upsert_insert(session: AsyncSession) -> Any:
    """The session dialect's `insert`, with `on_conflict_do_*` (SQLite and PostgreSQL)."""
    return DIALECT_INSERTS[dialect_of(session)]


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock number of a name (a stable signed 64-bit hash)."""
    digest = hashlib.sha256(f"botram-lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def take_job_lock(session: AsyncSession, job: str) -> bool:
    """Claim a periodic job for this transaction: False when another replica runs it now.

    On PostgreSQL, replicas of a service share a database and each runs the same periodic
    jobs (the lifecycle clock, retention sweeps): the job's transaction takes a
    transaction-scoped advisory lock first, and a replica that cannot take it skips this
    tick. The one that can reads only after the previous holder committed, so it never acts
    on a row another replica already moved. SQLite's `BEGIN IMMEDIATE` already admits one
    writing transaction at a time (and SQLite is one process per file).
    """
    if dialect_of(session) != "postgresql":
        return True
    query = select(func.pg_try_advisory_xact_lock(lock_key(f"job:{job}")))
    return bool((await session.exec(query)).one())


def _upgrade_to_head(
    connection: Connection, script_location: str, attributes: dict[str, Any]
) -> None:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes.update(attributes)
    # env.py picks the open connection up instead of creating an engine of its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _configure_sqlite(
    engine: AsyncEngine, *, busy_timeout_ms: int | None, auto_checkpoint: bool
) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        busy_timeout = SQLITE_BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        if not auto_checkpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
