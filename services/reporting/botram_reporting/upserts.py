"""Upserts of many rows in one statement, the rows passed as one JSON parameter.

`upsert()` writes rows given as tuples in a table's column order with `INSERT … SELECT …
FROM <the JSON rows> ON CONFLICT (<primary key>) DO UPDATE`, its SQL built once per dialect
and table from the table's columns. An executemany would have SQLAlchemy build every row's
parameters and run a bind processor per date: that cost more than the inserts themselves
(8-10 % of a reporting rebuild's CPU), as it did for the claims (`claim_events`).
"""

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Dialect,
    Enum,
    Float,
    Integer,
    String,
    Table,
    TextClause,
    TypeDecorator,
    text,
)
from sqlmodel.ext.asyncio.session import AsyncSession

# Rows per upsert statement. One statement holds a whole batch (a rebuild's 5,000 events
# change fewer rows than that); the limit only bounds the JSON text of an unusual batch
# (~1 MB at 5,000 rows) and the memory the database spends parsing it at once.
UPSERT_CHUNK = 5000

# On a conflict, a fact row takes every new value ("replace"); an aggregate adds the new
# value to the stored one ("add").
OnConflict = Literal["replace", "add"]


async def upsert(
    session: AsyncSession, table: Table, on_conflict: OnConflict, rows: Sequence[Sequence[Any]]
) -> None:
    """Upsert rows given as tuples in the table's column order, `UPSERT_CHUNK` at a time."""
    if not rows:
        return
    connection = await session.connection()
    statement = _upsert_statement(connection.dialect, table, on_conflict)
    for start in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[start : start + UPSERT_CHUNK]
        await connection.execute(statement, {"rows": encode_rows(chunk)})


def encode_rows(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as one JSON array of arrays (positional: shorter and faster to write than objects).

    JSON carries str (a StrEnum as its value), int, float (`repr`, so read back exactly),
    bool and None as they are; a date becomes the 'YYYY-MM-DD' text SQLAlchemy stores for
    DATE on SQLite, which PostgreSQL reads as a date. `date.isoformat` itself is the hook for
    what JSON lacks: any other type fails loudly (a TypeError), and `_check_column` admits only
    the column types these cover.
    """
    return json.dumps(rows, default=dt.date.isoformat, ensure_ascii=False, separators=(",", ":"))


# The column types whose values `encode_rows` carries as SQLAlchemy would bind them. Not an
# Enum column (it stores a member's name), nor DateTime or Numeric (no JSON form of theirs).
_JSON_TYPES = (String, Boolean, Integer, Float, Date)


def _check_column(column: Column[Any]) -> None:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if not isinstance(kind, _JSON_TYPES) or isinstance(kind, Enum):
        raise TypeError(f"{column.table.name}.{column.name}: no JSON upsert of {kind!r}")


# Each statement's SQL, built once per dialect, table and conflict rule.
_UPSERTS: dict[tuple[str, Table, OnConflict], TextClause] = {}


def _upsert_statement(dialect: Dialect, table: Table, on_conflict: OnConflict) -> TextClause:
    """The table's upsert of JSON rows, from the table's columns (a new column needs no SQL)."""
    key = (dialect.name, table, on_conflict)
    statement = _UPSERTS.get(key)
    if statement is None:
        statement = _UPSERTS[key] = text(_upsert_sql(dialect, table, on_conflict))
    return statement


def _upsert_sql(dialect: Dialect, table: Table, on_conflict: OnConflict) -> str:
    for column in table.columns:
        _check_column(column)
    quote = dialect.identifier_preparer.quote
    name = quote(table.name)
    columns = [quote(column.name) for column in table.columns]
    keys = [quote(column.name) for column in table.primary_key]
    updates = ", ".join(
        f"{column} = {name}.{column} + excluded.{column}"
        if on_conflict == "add"
        else f"{column} = excluded.{column}"
        for column in columns
        if column not in keys
    )
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) {_select_rows(dialect, table)} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _select_rows(dialect: Dialect, table: Table) -> str:
    """A SELECT of the `:rows` parameter's JSON rows as the table's columns, in their order."""
    if dialect.name == "postgresql":
        # `->>` gives each cell as text, cast to the column's type without its length or
        # precision: the insert then checks those as it would a parameter's value (a too long
        # string fails rather than being cut). In array order (WITH ORDINALITY): the rows'
        # locks are taken in the order the caller chose.
        cells = ", ".join(
            f"CAST(r ->> {index} AS {_base_type(column, dialect)})"
            for index, column in enumerate(table.columns)
        )
        return (
            f"SELECT {cells} FROM jsonb_array_elements(CAST(:rows AS jsonb)) "
            "WITH ORDINALITY AS row_values(r, n) ORDER BY n"
        )
    # SQLite: json_extract gives JSON text as TEXT, a number as INTEGER or REAL, true and
    # false as 1 and 0, null as NULL: what the driver binds for the same Python values.
    # The rows are materialized first (SQLite >= 3.35): otherwise json_each renders a row's
    # text again for every column that reads it (SQLite 3.40: a third more CPU than the
    # whole insert). json_each yields the rows in array order, and SQLite has one writer at a
    # time. The WHERE lets SQLite parse an upsert whose rows come from a SELECT (the ON would
    # be read as a join's).
    cells = ", ".join(f"json_extract(r, '$[{index}]')" for index in range(len(table.columns)))
    return (
        "WITH row_values(r) AS MATERIALIZED (SELECT value FROM json_each(:rows)) "
        f"SELECT {cells} FROM row_values WHERE true"
    )


def _base_type(column: Column[Any], dialect: Dialect) -> str:
    """The column's SQL type without its modifiers: VARCHAR(36) -> VARCHAR."""
    return re.sub(r"\(.*\)", "", column.type.compile(dialect=dialect))
