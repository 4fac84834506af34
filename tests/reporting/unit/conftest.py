"""Fixtures of reporting's unit tests: events to feed the rules, and dependencies whose
database is a fake that answers queries from a list (no database, no bus)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from botram_contracts.events import CitizenCheckedInV1, TicketRef
from botram_reporting.deps import Deps
from botram_reporting.main import build_deps
from botram_reporting.settings import Settings
from botram_runtime.clock import JAKARTA
from botram_runtime.db import Database
from helpers import FakeClock

WHERE = {"session_id": "s-1", "level": "kecamatan", "kecamatan": "sukatani", "desa": None}
# 09:30 WIB on a Saturday.
AT = datetime(2024, 7, 6, 9, 30, tzinfo=JAKARTA)


class FakeResult:
    def __init__(self, rows: list[Any]) -> None:
        self._rows = rows

    def all(self) -> list[Any]:
        return self._rows


class FakeSession:
    """Answers every query with the rows it was given, and remembers the queries."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows
        self.queries: list[Any] = []

    async def exec(self, query: Any) -> FakeResult:
        self.queries.append(query)
        return FakeResult(self.rows)

    async def get(self, model: Any, ident: str) -> None:
        self.queries.append((model, ident))
        return None


class FakeDatabase:
    """A database whose sessions are one FakeSession; it refuses to open transactions."""

    def __init__(self, rows: list[Any] | None = None) -> None:
        self.fake = FakeSession(rows or [])

    @asynccontextmanager
    async def session(self) -> AsyncIterator[FakeSession]:
        yield self.fake

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeSession]:
        raise AssertionError("this use case should not write")
        yield self.fake  # pragma: no cover


@pytest.fixture
def make_deps() -> Callable[..., Deps]:
    """Deps as `main` builds them, on a FakeDatabase (the rows it answers with)."""

    def make(
        rows: list[Any] | None = None,
        clock: FakeClock | None = None,
        settings: Settings | None = None,
    ) -> Deps:
        settings = settings or Settings(database_url="sqlite+aiosqlite:///:memory:")
        return build_deps(settings, cast(Database, FakeDatabase(rows)), clock or FakeClock())

    return make


@pytest.fixture
def check_in() -> Callable[..., CitizenCheckedInV1]:
    """A check-in `n` at AT + n minutes, one ticket per service given."""

    def make(
        n: int,
        *services: tuple[str, str],
        at: datetime | None = None,
        **where: Any,
    ) -> CitizenCheckedInV1:
        refs = [
            TicketRef(
                ticket_id=f"c{n}-t{i}", service=code, agency=agency, number=f"X-{n}", position=n
            )
            for i, (code, agency) in enumerate(services or (("dukcapil-kk", "dukcapil"),))
        ]
        return CitizenCheckedInV1(
            **(WHERE | where),
            check_in_id=f"c{n}",
            citizen=f"{n:064x}",
            sex="F",
            age_band="30-44",
            resident=True,
            priority=False,
            tickets=refs,
            checked_in_at=(at or AT + timedelta(minutes=n)).astimezone(UTC),
        )

    return make


@pytest.fixture
def ticket() -> Callable[..., dict[str, Any]]:
    """The common fields of ticket events about check-in `n`'s first ticket."""

    def make(n: int, service: str = "dukcapil-kk", agency: str = "dukcapil") -> dict[str, Any]:
        return {
            "ticket_id": f"c{n}-t0",
            "session_id": WHERE["session_id"],
            "service": service,
            "agency": agency,
            "level": "kecamatan",
            "kecamatan": "sukatani",
        }

    return make
