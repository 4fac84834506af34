"""The check-in's hot path in set-based statements: the citizen upsert and ticket issuing.

A check-in at a busy desk is the registry's hottest request. Through the ORM's unit of work it
cost ~20 statements (a get, a flush and a count per ticket); here it is one statement per
table: the citizen upsert, an upsert numbering each requested queue (which also gives the
position), one insert of the tickets. The statements are built once and executed with bound
parameters: building a statement per call cost more than executing it (docs/BENCHMARKS.md).
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_registry.domain import RegistryError
from botram_registry.domain import ticket_number as format_number
from botram_registry.schemas import TicketPublic
from botram_registry.store import CheckInRow, CitizenRow, QueueRow, SessionRow, TicketRow
from botram_shared.db import DIALECT_INSERTS, dialect_of
from botram_shared.reference import Catalogue

CHECK_INS = CheckInRow.__table__  # type: ignore[attr-defined]
CITIZENS = CitizenRow.__table__  # type: ignore[attr-defined]
QUEUES = QueueRow.__table__  # type: ignore[attr-defined]
TICKETS = TicketRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Citizen:
    id: str
    resident: bool


@dataclass(frozen=True, slots=True)
class CitizenFacts:
    """What a check-in records of the citizen (personal data: this table only)."""

    pseudonym: str
    nik: str
    name: str | None
    phone: str | None
    sex: str
    birth_date: date
    resident: bool


@functools.cache
def _citizen_upsert(dialect: str) -> Any:
    statement = DIALECT_INSERTS[dialect](CITIZENS)
    return statement.on_conflict_do_update(
        index_elements=[CITIZENS.c.pseudonym],
        set_={
            "name": statement.excluded.name,
            "nik": statement.excluded.nik,
            "phone": func.coalesce(statement.excluded.phone, CITIZENS.c.phone),
            "last_seen_at": statement.excluded.last_seen_at,
        },
    ).returning(CITIZENS.c.id, CITIZENS.c.resident)


@functools.cache
def _queue_increment(dialect: str) -> Any:
    statement = DIALECT_INSERTS[dialect](QUEUES)
    return statement.on_conflict_do_update(
        index_elements=[QUEUES.c.session_id, QUEUES.c.service],
        set_={"issued": QUEUES.c.issued + 1},
    ).returning(QUEUES.c.issued, QUEUES.c.called)


CHECK_IN_OF_CITIZEN = (
    select(CHECK_INS.c.id)
    .where(
        CHECK_INS.c.session_id == bindparam("session_id"),
        CHECK_INS.c.citizen_id == bindparam("citizen_id"),
    )
    .with_for_update()
)


async def upsert_citizen(session: AsyncSession, facts: CitizenFacts, now: datetime) -> Citizen:
    """Insert the citizen, or refresh name, NIK and last visit (and the phone, when given).

    Residency stays as first recorded. The pseudonym is the key: the same NIK always maps to it.
    """
    params = {
        "id": str(uuid4()),
        "nik": facts.nik,
        "pseudonym": facts.pseudonym,
        "name": facts.name,
        "phone": facts.phone or None,
        "sex": facts.sex,
        "birth_date": facts.birth_date,
        "resident": facts.resident,
        "created_at": now,
        "last_seen_at": now,
    }
    result = await session.exec(_citizen_upsert(dialect_of(session)), params=params)
    citizen_id, resident = result.one()
    return Citizen(id=citizen_id, resident=bool(resident))


async def insert_check_in(session: AsyncSession, check_in: CheckInRow) -> None:
    """Store a new check-in (not tracked by the session: later changes need `session.get`)."""
    await session.exec(CHECK_INS.insert(), params=check_in.model_dump())


async def issue_tickets(
    session: AsyncSession,
    catalogue: Catalogue,
    row: SessionRow,
    *,
    check_in_id: str,
    priority: bool,
    codes: list[str],
    now: datetime,
    transferred_from: str | None = None,
) -> list[TicketPublic]:
    """Issue one ticket per service code (distinct codes), in the caller's transaction.

    Numbers come from the queue rows, incremented by an upsert that also locks them
    (PostgreSQL) until commit, so a concurrent check-in numbers after this one. Every ticket
    still waiting is ahead of the new one: its position is issued - called.
    """
    increment = _queue_increment(dialect_of(session))
    issued: dict[str, int] = {}
    position: dict[str, int] = {}
    # One lock order for every transaction: two check-ins never deadlock on queue rows.
    for code in sorted(codes):
        result = await session.exec(
            increment,
            params={
                "session_id": row.id,
                "service": code,
                "issued": 1,
                "called": 0,
                "priority_streak": 0,
            },
        )
        issued[code], called = result.one()
        position[code] = issued[code] - called
        quota = row.quotas.get(code)
        if quota is not None and issued[code] > quota:
            raise RegistryError(
                "quota-full",
                f"kuota habis: {catalogue.get(code).name} has issued all {quota} tickets "
                "for this session",
                status=409,
            )
    tickets = []
    for code in codes:
        service = catalogue.get(code)
        tickets.append(
            {
                "id": str(uuid4()),
                "session_id": row.id,
                "check_in_id": check_in_id,
                "service": code,
                "agency": service.agency,
                "seq": issued[code],
                "number": format_number(service.ticket_prefix, issued[code]),
                "priority": priority,
                "status": "waiting",
                "desk": None,
                "outcome": None,
                "note": None,
                "issued_at": now,
                "called_at": None,
                "completed_at": None,
                "recalls": 0,
                "transferred_from": transferred_from,
                "transferred_to": None,
            }
        )
    await session.exec(TICKETS.insert(), params=tickets)
    return [
        TicketPublic(
            ticket_id=t["id"],
            service=t["service"],
            agency=t["agency"],
            number=t["number"],
            position=position[t["service"]],
            transferred_from=transferred_from,
        )
        for t in tickets
    ]
