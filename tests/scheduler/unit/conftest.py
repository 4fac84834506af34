"""Scheduler unit fixtures: reference data and fakes; no database, no bus, no network."""

from datetime import date
from typing import Any

import pytest

from botram_contracts.reference import Catalogue, Regency, load_catalogue, load_regions


@pytest.fixture(scope="session")
def regions() -> Regency:
    return load_regions()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


class FakeTx:
    """The part of a transaction the demand handler uses: get by primary key, add."""

    def __init__(self) -> None:
        self.rows: dict[tuple[type, Any], Any] = {}

    async def get(self, model: type, key: Any) -> Any:
        return self.rows.get((model, key))

    def add(self, row: Any) -> None:
        self.rows[(type(row), row.level)] = row


@pytest.fixture
def tx() -> FakeTx:
    return FakeTx()


class FakeHolidays:
    """A holiday calendar a test writes: the same dates whatever the years asked."""

    def __init__(self, days: dict[date, str]) -> None:
        self.days = days
        self.asked: list[range] = []

    def __call__(self, years: range) -> dict[date, str]:
        self.asked.append(years)
        return dict(self.days)


@pytest.fixture
def fake_holidays() -> type[FakeHolidays]:
    """`fake_holidays({date: name})`: a holiday calendar for `Rules`."""
    return FakeHolidays
