"""Scheduler use cases and bus wiring with fakes: no database, no bus."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from botram_contracts.events import CloudEvent, DemandRankedV1, Period, RankedService, make_event
from botram_contracts.reference import Catalogue, Regency
from botram_contracts.subjects import DEMAND_EVENTS
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import DomainError, Invalid
from botram_scheduler import subscribers
from botram_scheduler.deps import Deps
from botram_scheduler.domain.generation import GenerateSchedule
from botram_scheduler.domain.rotation import RulesError
from botram_scheduler.domain.sessions import Origin
from botram_scheduler.rules_file import load_rules
from botram_scheduler.settings import Settings
from botram_scheduler.store import DemandRankingRow, SessionRow
from botram_scheduler.usecases import demand, generation
from botram_scheduler.usecases.calendar import render_calendar

PLANNER = Actor(sub="planner-1", roles=frozenset({Role.PLANNER}))

PUBLISHED = datetime(2024, 7, 1, 12, tzinfo=UTC)


def ranking(*services: str, at: datetime = PUBLISHED, level: str = "kecamatan") -> CloudEvent[Any]:
    data = DemandRankedV1(
        period=Period(start=date(2024, 6, 1), end=date(2024, 6, 30)),
        level=level,
        ranking=[RankedService(service=s, agency=s.split("-")[0], tickets=10) for s in services],
    )
    return make_event(data).model_copy(update={"time": at})


async def test_the_first_ranking_of_a_level_is_kept(tx: Any) -> None:
    event = ranking("bpn-sertifikat-tanah", "distan-vaksin-rabies")

    await demand.record_ranking(tx, event)

    row = await tx.get(DemandRankingRow, Level.KECAMATAN)
    assert row.ranking_id == str(event.id)
    assert row.services == ["bpn-sertifikat-tanah", "distan-vaksin-rabies"]
    assert (row.period_from, row.period_to) == (date(2024, 6, 1), date(2024, 6, 30))
    assert row.published_at == PUBLISHED


async def test_a_newer_ranking_replaces_it_and_an_older_one_arriving_late_does_not(
    tx: Any,
) -> None:
    first = ranking("bpn-sertifikat-tanah")
    newer = ranking("distan-vaksin-rabies", at=PUBLISHED + timedelta(days=7))
    late = ranking("dukcapil-akta-kematian", at=PUBLISHED + timedelta(days=1))

    await demand.record_ranking(tx, first)
    await demand.record_ranking(tx, newer)
    await demand.record_ranking(tx, late)

    row = await tx.get(DemandRankingRow, Level.KECAMATAN)
    assert (row.ranking_id, row.services) == (str(newer.id), ["distan-vaksin-rabies"])


async def test_each_level_keeps_its_own_ranking(tx: Any) -> None:
    kecamatan = ranking("bpn-sertifikat-tanah")
    desa = ranking("distan-vaksin-rabies", level="desa", at=PUBLISHED - timedelta(days=1))

    await demand.record_ranking(tx, kecamatan)
    await demand.record_ranking(tx, desa)

    assert (await tx.get(DemandRankingRow, Level.KECAMATAN)).ranking_id == str(kecamatan.id)
    assert (await tx.get(DemandRankingRow, Level.DESA)).ranking_id == str(desa.id)


async def test_another_demand_event_changes_nothing(tx: Any) -> None:
    other = ranking("bpn-sertifikat-tanah").model_copy(update={"data": {"level": "kecamatan"}})

    await demand.record_ranking(tx, other)

    assert tx.rows == {}


class FakeRuntime:
    def __init__(self) -> None:
        self.subscriptions: list[tuple[str, dict[str, Any]]] = []

    def subscribe(self, subject: str, **options: Any) -> None:
        self.subscriptions.append((subject, options))


def test_the_demand_consumer_keeps_its_durable_name_and_records_rankings() -> None:
    runtime = FakeRuntime()

    subscribers.register(runtime, deps=None)  # type: ignore[arg-type]

    [(subject, options)] = runtime.subscriptions
    assert subject == DEMAND_EVENTS
    assert options["durable"] == "scheduler-demand"  # existing deployments have this consumer
    assert options["handler"] is demand.record_ranking
    assert options["description"]


class NoDatabase:
    """A database a use case must not reach."""

    def session(self) -> Any:
        raise AssertionError("the database was used")

    transaction = session


def deps_with(catalogue: Catalogue, regions: Regency, rules: Any) -> Deps:
    return Deps(
        db=NoDatabase(),  # type: ignore[arg-type]
        clock=lambda: datetime(2024, 7, 5, 1, tzinfo=UTC),
        settings=Settings(database_url="sqlite+aiosqlite:///:memory:"),
        catalogue=catalogue,
        regions=regions,
        rules=rules,
    )


async def test_a_broken_rules_file_is_a_500_naming_it_before_anything_is_stored(
    catalogue: Catalogue, regions: Regency
) -> None:
    def broken() -> Any:
        raise RulesError("rules.toml: kecamatan.order must name every kecamatan exactly once")

    deps = deps_with(catalogue, regions, broken)

    with pytest.raises(RulesError) as error:
        await generation.generate(
            deps, GenerateSchedule(PLANNER, date(2024, 7, 6), date(2024, 7, 31))
        )

    assert (error.value.status, error.value.code) == (500, "invalid-rules")
    assert error.value.detail == (
        "the rotation rules file is invalid: rules.toml: kecamatan.order must name every "
        "kecamatan exactly once"
    )


async def test_a_generation_request_breaking_a_rule_is_refused_before_the_database(
    catalogue: Catalogue, regions: Regency
) -> None:
    deps = deps_with(catalogue, regions, lambda: None)

    with pytest.raises(Invalid) as error:
        await generation.generate(
            deps, GenerateSchedule(PLANNER, date(2024, 6, 1), date(2024, 6, 30))
        )

    assert isinstance(error.value, DomainError) and error.value.code == "date-in-past"


class EmptyTx:
    """A transaction on an empty calendar: every query finds nothing; rows are only added."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}
        self.bind = None
        self.added: list[Any] = []

    async def get(self, model: type, key: Any) -> None:
        return None

    async def exec(self, statement: Any, **kwargs: Any) -> Any:
        return self

    def all(self) -> list[Any]:
        return []

    def add(self, row: Any) -> None:
        self.added.append(row)


class CountingDatabase:
    """Counts the transactions open at once (each lets other tasks run while it is open)."""

    def __init__(self) -> None:
        self.open = self.most_at_once = 0
        self.transactions: list[EmptyTx] = []  # every one begun so far

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[EmptyTx]:
        self.open += 1
        self.most_at_once = max(self.most_at_once, self.open)
        try:
            await asyncio.sleep(0)
            self.transactions.append(EmptyTx())
            yield self.transactions[-1]
            await asyncio.sleep(0)
        finally:
            self.open -= 1


async def test_generations_in_one_process_take_the_database_one_after_the_other(
    catalogue: Catalogue, regions: Regency
) -> None:
    # SQLite has one connection: a second generation waiting for it would give up after the
    # pool's 30 s. It waits for the first generation instead, then takes the connection.
    database = CountingDatabase()
    rules = deps_with(catalogue, regions, lambda: load_rules(None, regions, catalogue))
    deps = replace(rules, db=database)  # type: ignore[arg-type]
    command = GenerateSchedule(PLANNER, date(2024, 7, 6), date(2024, 7, 31))

    results = await asyncio.gather(*(generation.generate(deps, command) for _ in range(3)))

    assert database.most_at_once == 1
    assert len(database.transactions) == 3
    assert all(len(r.sessions) > 5 for r in results)


def session(**changes: Any) -> SessionRow:
    values: dict[str, Any] = {
        "id": "6d0c3d8e-0000-4000-8000-000000000001",
        "level": Level.KECAMATAN,
        "kecamatan": "setu",
        "date": date(2024, 7, 27),
        "start": time(8),
        "end": time(14),
        "venue": "Kantor Kecamatan Setu",
        "services": ["bpn-sertifikat-tanah"],
        "status": SessionStatus.SCHEDULED,
        "origin": Origin.ROTATION,
        "sequence": 2,
        "updated_at": PUBLISHED,
    }
    return SessionRow(**(values | changes))


def test_the_calendar_has_one_event_per_session_with_its_status_and_place(
    regions: Regency,
) -> None:
    rows = [
        session(),
        session(
            id="6d0c3d8e-0000-4000-8000-000000000002",
            level=Level.DESA,
            kecamatan="cikarang-selatan",
            desa="ciantra",
            status="cancelled",  # as SQLite hands it back: a plain string
            status_reason="Hujan deras",
        ),
    ]

    calendar = Calendar.from_ical(render_calendar(rows, regions, "botram.bekasikab.go.id"))

    setu, ciantra = calendar.walk("VEVENT")
    assert str(setu["uid"]) == "6d0c3d8e-0000-4000-8000-000000000001@botram.bekasikab.go.id"
    assert (str(setu["summary"]), str(setu["status"])) == ("Botram Kecamatan Setu", "CONFIRMED")
    assert setu.decoded("sequence") == 2 and str(setu["location"]) == "Kantor Kecamatan Setu"
    assert str(ciantra["summary"]) == "Botram Masuk Desa Ciantra (Kecamatan Cikarang Selatan)"
    assert str(ciantra["status"]) == "CANCELLED"
    assert str(ciantra["description"]) == "Dibatalkan: Hujan deras"
