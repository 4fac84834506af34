"""The JSON upserts store what SQLAlchemy's own insert stores, and read back the same values."""

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert
from sqlalchemy.dialects import sqlite

from botram_contracts.vocabulary import Level
from botram_reporting import store, upserts
from botram_reporting.deps import Deps
from botram_reporting.domain.aggregates import Delta
from botram_reporting.domain.facts import TicketOutcome
from botram_reporting.store import ServiceTable, TicketFact
from botram_reporting.survey_store import SurveyAnswerFact
from botram_runtime.db import Database

# Every column type: strings (with quotes, a backslash, non-ASCII), StrEnum members, a date,
# booleans, None, floats that print long or in exponent form, a whole-number float.
TICKET: dict[str, Any] = {
    "id": "t-1",
    "session_id": "s-1",
    "service": 'kk "baru" \\ ñ 😀',
    "agency": "dukcapil",
    "issued": True,
    "check_in_id": None,
    "level": Level.KECAMATAN,
    "kecamatan": "sukatani",
    "desa": None,
    "day": date(2024, 7, 6),
    "called": False,
    "waited_seconds": 2795.2748940699566,
    "outcome": TicketOutcome.SERVED,
    "service_seconds": 1e-07,
    "ready_seconds": 60.0,
}
ANSWER: dict[str, Any] = {
    "id": "a-1",
    "session_id": "s-1",
    "level": Level.DESA,
    "kecamatan": "sukatani",
    "desa": "sukamaju",
    "day": date(999, 1, 2),
    "service": "dukcapil-kk",
    "agency": "dukcapil",
    "sex": "F",
    "age_band": None,
    "resident": None,
    **{f"u{n}": n % 4 + 1 for n in range(1, 10)},
}


async def stored(db: Database, model: type[ServiceTable]) -> list[tuple[Any, ...]]:
    """The table's rows as the driver returns them, without SQLAlchemy's type processing."""
    async with db.session() as session:
        connection = await session.connection()
        table = model.__tablename__
        result = await connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
        return [tuple(row) for row in result]


@pytest.mark.parametrize(("model", "row"), [(TicketFact, TICKET), (SurveyAnswerFact, ANSWER)])
async def test_a_row_is_stored_as_sqlalchemy_stores_it_and_reads_back_the_same(
    deps: Deps, model: type[ServiceTable], row: dict[str, Any]
) -> None:
    db = deps.db
    twin = row | {"id": row["id"] + "-sqlalchemy"}
    async with db.transaction() as tx:
        await store.upsert_rows(tx, model, [row])
        # SQLAlchemy's own executemany, as the upserts wrote before.
        await (await tx.connection()).execute(insert(store._table(model)), [twin])
    mine, sqlalchemys = await stored(db, model)
    assert mine[1:] == sqlalchemys[1:]
    assert [type(value) for value in mine] == [type(value) for value in sqlalchemys]
    async with db.session() as session:
        loaded = await store.load_rows(session, model, [row["id"], twin["id"]])
    assert loaded[row["id"]] == row
    assert loaded[row["id"]] == loaded[twin["id"]] | {"id": row["id"]}


async def test_an_upsert_overwrites_every_column_and_chunks_a_large_batch(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = deps.db
    monkeypatch.setattr(upserts, "UPSERT_CHUNK", 2)
    rows = [TICKET | {"id": f"t-{n}"} for n in range(5)]
    later = TICKET | {"id": "t-3", "issued": False, "day": None, "waited_seconds": None}
    async with db.transaction() as tx:
        await store.upsert_rows(tx, TicketFact, rows)
        await store.upsert_rows(tx, TicketFact, [later])
    async with db.session() as session:
        loaded = await store.load_rows(session, TicketFact, [f"t-{n}" for n in range(5)])
    assert loaded == {row["id"]: row for row in rows} | {"t-3": later}


async def test_deltas_add_to_the_stored_aggregates(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = deps.db
    monkeypatch.setattr(upserts, "UPSERT_CHUNK", 2)
    first = [Delta("b", (("k", "v"),), 0.1), Delta("a", (), 2.0), Delta("c", (("x", '"'),))]
    async with db.transaction() as tx:
        await store.add_deltas(tx, first)
        await store.add_deltas(tx, [Delta("b", (("k", "v"),), 0.2), Delta("d", (), 1e-07)])
    async with db.session() as session:
        aggregates = sorted(await store.stored_aggregates(session))
    assert aggregates == [
        Delta("a", (), 2.0),
        Delta("b", (("k", "v"),), 0.1 + 0.2),
        Delta("c", (("x", '"'),), 1.0),
        Delta("d", (), 1e-07),
    ]


def test_a_column_type_without_a_json_form_is_refused() -> None:
    at = Column("at", DateTime(timezone=True))
    table = Table("stamps", MetaData(), Column("id", String(36), primary_key=True), at)
    with pytest.raises(TypeError, match=r"stamps\.at"):
        upserts._upsert_sql(sqlite.dialect(), table, "replace")
