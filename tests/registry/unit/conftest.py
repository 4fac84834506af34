"""Fakes for the registry's unit tests: no database, no bus, no network.

`tx` answers `get` from rows a test gives it and keeps what is added and staged (outbox rows
land in `tx.info`, as on a real session); it refuses any SQL statement. `issuing` replaces
the hot path's statements (citizens, check-ins, queue numbers, tickets) with an in-memory
stand-in. `deps` is the registry's `Deps` on those fakes.
"""

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from botram_contracts.events import CloudEvent, decode_event
from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_registry import issuing
from botram_registry.deps import Deps
from botram_registry.domain.queue import QueueCounters
from botram_registry.issuing import Citizen, CitizenFacts
from botram_registry.settings import Settings
from botram_registry.store import CheckInRow, SessionRow
from botram_runtime.db import SERVICE_INFO
from botram_runtime.outbox import STAGED_ROWS
from helpers import FakeClock

NOW = datetime(2024, 7, 6, 1, 30, tzinfo=UTC)  # 08:30 in Bekasi
TODAY = date(2024, 7, 6)


class FakeTx:
    """A transaction without a database (see the module's docstring)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[type[Any], Any], Any] = {}
        self.added: list[Any] = []
        self.statements = 0
        self.info: dict[str, Any] = {SERVICE_INFO: "registry"}

    def put(self, row: Any, key: Any) -> None:
        self.rows[(type(row), key)] = row

    async def get(self, model: type[Any], key: Any) -> Any:
        return self.rows.get((model, key))

    def add(self, row: Any) -> None:
        self.added.append(row)

    async def flush(self) -> None:
        pass

    async def exec(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        raise AssertionError("a unit test runs no SQL")

    def staged(self) -> list[CloudEvent[Any]]:
        """The events staged in this transaction so far, decoded."""
        return [decode_event(row["payload"]) for row in self.info.get(STAGED_ROWS, [])]

    def take_staged(self) -> list[CloudEvent[Any]]:
        """The events staged so far, which are forgotten (as a commit would)."""
        events = self.staged()
        self.info.pop(STAGED_ROWS, None)
        return events


class FakeDatabase:
    """Every transaction and session of it is the same `FakeTx`."""

    def __init__(self, tx: FakeTx) -> None:
        self.tx = tx
        self.transactions = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeTx]:
        self.transactions += 1
        yield self.tx

    session = transaction


@dataclass
class FakeIssuing:
    """The hot path's statements, in memory: nobody is checked in yet, queues start empty."""

    citizens: list[CitizenFacts] = field(default_factory=list)
    check_ins: list[CheckInRow] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    issued: Counter[str] = field(default_factory=Counter)
    priority_issued: Counter[str] = field(default_factory=Counter)

    async def upsert_citizens(
        self, tx: FakeTx, citizens: Sequence[CitizenFacts], now: datetime
    ) -> list[Citizen]:
        self.citizens += citizens
        return [Citizen(id=f"citizen-{c.pseudonym[:8]}", resident=c.resident) for c in citizens]

    async def upsert_citizen(self, tx: FakeTx, facts: CitizenFacts, now: datetime) -> Citizen:
        [citizen] = await self.upsert_citizens(tx, [facts], now)
        return citizen

    async def check_in_of(self, tx: FakeTx, session_id: str, citizen_id: str) -> str | None:
        return None

    async def checked_in_already(
        self, tx: FakeTx, session_id: str, citizen_ids: Sequence[str]
    ) -> set[str]:
        return set()

    async def insert_check_ins(self, tx: FakeTx, rows: Sequence[CheckInRow]) -> None:
        self.check_ins += rows

    async def count_issued(
        self, tx: FakeTx, session_id: str, service: str, count: int, priority: int
    ) -> QueueCounters:
        self.issued[service] += count
        self.priority_issued[service] += priority
        return QueueCounters(
            issued=self.issued[service],
            called=0,
            priority_issued=self.priority_issued[service],
            priority_called=0,
            priority_streak=0,
        )

    async def insert_tickets(self, tx: FakeTx, rows: list[dict[str, Any]]) -> None:
        self.tickets += rows


@pytest.fixture
def tx() -> FakeTx:
    return FakeTx()


@pytest.fixture
def fake_issuing(monkeypatch: pytest.MonkeyPatch) -> FakeIssuing:
    fake = FakeIssuing()
    for name in (
        "upsert_citizens",
        "upsert_citizen",
        "check_in_of",
        "checked_in_already",
        "insert_check_ins",
        "count_issued",
        "insert_tickets",
    ):
        monkeypatch.setattr(issuing, name, getattr(fake, name))
    return fake


@pytest.fixture
def unit_clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def deps(tx: FakeTx, unit_clock: FakeClock, catalogue: Catalogue) -> Deps:
    settings = Settings(check_in_group_max=1)
    return Deps(db=FakeDatabase(tx), clock=unit_clock, catalogue=catalogue, settings=settings)


def session_row(status: SessionStatus = SessionStatus.OPENED, **overrides: Any) -> SessionRow:
    """A session at Sukatani today offering KK and JKN (not stored anywhere)."""
    values: dict[str, Any] = {
        "id": "s-1",
        "level": Level.KECAMATAN,
        "kecamatan": "sukatani",
        "date": TODAY,
        "start": time(8),
        "end": time(14),
        "services": ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"],
        "quotas": {},
        "status": status,
    }
    return SessionRow(**(values | overrides))


@pytest.fixture
def make_session() -> Any:
    """`make_session(status, **overrides)`: a session row for `tx.put(row, row.id)`."""
    return session_row
