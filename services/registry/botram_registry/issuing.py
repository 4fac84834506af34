"""The check-in's hot path in set-based statements: the citizen upsert and ticket issuing.

A check-in at a busy desk is the registry's hottest request. Through the ORM's unit of work it
cost ~20 statements (a get, a flush and a count per ticket); here it is one statement per
table: the citizen upsert, an upsert numbering each requested queue (which also gives the
position), one insert of the tickets; for a whole group of check-ins at once (group commit,
see group_check_in). The statements are built once and executed with bound
parameters: building a statement per call cost more than executing it (docs/BENCHMARKS.md).
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.reference import Catalogue
from botram_registry.domain import RegistryError
from botram_registry.domain import ticket_number as format_number
from botram_registry.schemas import TicketPublic
from botram_registry.store import CheckInRow, CitizenRow, QueueRow, SessionRow, TicketRow
from botram_runtime.db import DIALECT_INSERTS, dialect_of

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
    ).returning(CITIZENS.c.id, CITIZENS.c.resident, sort_by_parameter_order=True)


@functools.cache
def _queue_increment(dialect: str) -> Any:
    """Add `issued` tickets to a queue (creating it), returning its new total and calls."""
    statement = DIALECT_INSERTS[dialect](QUEUES)
    return statement.on_conflict_do_update(
        index_elements=[QUEUES.c.session_id, QUEUES.c.service],
        set_={"issued": QUEUES.c.issued + statement.excluded.issued},
    ).returning(QUEUES.c.issued, QUEUES.c.called)


CHECK_IN_OF_CITIZEN = (
    select(CHECK_INS.c.id)
    .where(
        CHECK_INS.c.session_id == bindparam("session_id"),
        CHECK_INS.c.citizen_id == bindparam("citizen_id"),
    )
    .with_for_update()
)


async def upsert_citizens(
    session: AsyncSession, citizens: list[CitizenFacts], now: datetime
) -> list[Citizen]:
    """Insert each citizen, or refresh name, NIK and last visit (and the phone, when given),
    in one statement; the rows in the order given (distinct pseudonyms only).

    Residency stays as first recorded. The pseudonym is the key: the same NIK always maps to it.
    """
    params = [
        {
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
        for facts in citizens
    ]
    result = await session.exec(_citizen_upsert(dialect_of(session)), params=params)
    return [Citizen(id=citizen_id, resident=bool(resident)) for citizen_id, resident in result]


async def upsert_citizen(session: AsyncSession, facts: CitizenFacts, now: datetime) -> Citizen:
    [citizen] = await upsert_citizens(session, [facts], now)
    return citizen


async def insert_check_ins(session: AsyncSession, rows: list[CheckInRow]) -> None:
    """Store new check-ins in one statement (not tracked by the session: use `session.get`
    to change one later in the same transaction)."""
    await session.exec(CHECK_INS.insert(), params=[row.model_dump() for row in rows])


@dataclass(frozen=True, slots=True)
class TicketOrder:
    """The tickets one check-in asks for: a distinct service code each, in the citizen's order."""

    check_in_id: str
    priority: bool
    codes: list[str]


async def issue_ticket_group(
    session: AsyncSession,
    catalogue: Catalogue,
    row: SessionRow,
    orders: list[TicketOrder],
    now: datetime,
    transferred_from: str | None = None,
) -> list[list[TicketPublic]]:
    """Issue the tickets of several check-ins at one session, in order, in the caller's
    transaction; one list of tickets per order. A quota overrun fails them all.

    Numbers come from the queue rows, each advanced once for the whole group by an upsert
    that also locks it (PostgreSQL) until commit, so a concurrent transaction numbers after
    this one. Every ticket still waiting is ahead of the new ones: position = seq - called.
    """
    wanted: dict[str, int] = {}
    for order in orders:
        for code in order.codes:
            wanted[code] = wanted.get(code, 0) + 1
    increment = _queue_increment(dialect_of(session))
    next_seq: dict[str, int] = {}
    called: dict[str, int] = {}
    # One lock order for every transaction: two check-ins never deadlock on queue rows.
    for code in sorted(wanted):
        result = await session.exec(
            increment,
            params={
                "session_id": row.id,
                "service": code,
                "issued": wanted[code],
                "called": 0,
                "priority_streak": 0,
            },
        )
        issued, called[code] = result.one()
        quota = row.quotas.get(code)
        if quota is not None and issued > quota:
            raise RegistryError(
                "quota-full",
                f"kuota habis: {catalogue.get(code).name} has issued all {quota} tickets "
                "for this session",
                status=409,
            )
        next_seq[code] = issued - wanted[code] + 1
    rows: list[dict[str, Any]] = []
    issued_tickets: list[list[TicketPublic]] = []
    for order in orders:
        tickets = []
        for code in order.codes:
            service = catalogue.get(code)
            seq = next_seq[code]
            next_seq[code] += 1
            ticket_id = str(uuid4())
            number = format_number(service.ticket_prefix, seq)
            rows.append(
                {
                    "id": ticket_id,
                    "session_id": row.id,
                    "check_in_id": order.check_in_id,
                    "service": code,
                    "agency": service.agency,
                    "seq": seq,
                    "number": number,
                    "priority": order.priority,
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
            tickets.append(
                TicketPublic(
                    ticket_id=ticket_id,
                    service=code,
                    agency=service.agency,
                    number=number,
                    position=seq - called[code],
                    transferred_from=transferred_from,
                )
            )
        issued_tickets.append(tickets)
    await session.exec(TICKETS.insert(), params=rows)
    return issued_tickets
