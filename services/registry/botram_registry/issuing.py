"""The check-in's hot path in set-based statements: citizens, check-ins, queue numbers, tickets.

A check-in at a busy desk is the registry's hottest request. Through the ORM's unit of work it
cost ~20 statements (a get, a flush and a count per ticket); here it is one statement per
table: the citizen upsert, an upsert numbering each requested queue (whose counters also give
each ticket's place in the fair order), one insert of the tickets; for a whole group of
check-ins at once (group commit, see `usecases.check_in`). The statements are built once and
executed with bound parameters: building a statement per call cost more than executing it
(docs/BENCHMARKS.md). Storage only: the rules they serve (quotas, numbering, places) are the
domain's.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.ids import new_id_text
from botram_registry.domain.queue import QueueCounters
from botram_registry.store import CheckInRow, ServiceTable
from botram_runtime.db import DIALECT_INSERTS, dialect_of

CHECK_INS = ServiceTable.metadata.tables["check_ins"]
CITIZENS = ServiceTable.metadata.tables["citizens"]
QUEUES = ServiceTable.metadata.tables["queues"]
TICKETS = ServiceTable.metadata.tables["tickets"]


@dataclass(frozen=True, slots=True)
class Citizen:
    """A stored citizen: its id, and residency as first recorded."""

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
            # A stored name or phone is never replaced by a check-in (issue 11, attack 2: a
            # repeated NIK must not redirect a citizen's messages); only filled in when it
            # was erased. Changing them is its own audited action (usecases.contact).
            "name": func.coalesce(CITIZENS.c.name, statement.excluded.name),
            "nik": statement.excluded.nik,
            "phone": func.coalesce(CITIZENS.c.phone, statement.excluded.phone),
            "last_seen_at": statement.excluded.last_seen_at,
        },
    ).returning(CITIZENS.c.id, CITIZENS.c.resident, sort_by_parameter_order=True)


@functools.cache
def _queue_increment(dialect: str) -> Any:
    """Add tickets to a queue (creating it), returning its counters."""
    statement = DIALECT_INSERTS[dialect](QUEUES)
    return statement.on_conflict_do_update(
        index_elements=[QUEUES.c.session_id, QUEUES.c.service],
        set_={
            "issued": QUEUES.c.issued + statement.excluded.issued,
            "priority_issued": QUEUES.c.priority_issued + statement.excluded.priority_issued,
        },
    ).returning(
        QUEUES.c.issued,
        QUEUES.c.called,
        QUEUES.c.priority_issued,
        QUEUES.c.priority_called,
        QUEUES.c.priority_streak,
    )


_CHECK_IN_OF_CITIZEN = (
    select(CHECK_INS.c.id)
    .where(
        CHECK_INS.c.session_id == bindparam("session_id"),
        CHECK_INS.c.citizen_id == bindparam("citizen_id"),
    )
    .with_for_update()
)
_CHECKED_IN_ALREADY = select(CHECK_INS.c.citizen_id).where(
    CHECK_INS.c.session_id == bindparam("session_id"),
    CHECK_INS.c.citizen_id.in_(bindparam("citizen_ids", expanding=True)),
)
_INSERT_CHECK_INS = CHECK_INS.insert()
_INSERT_TICKETS = TICKETS.insert()


async def upsert_citizens(
    tx: AsyncSession, citizens: Sequence[CitizenFacts], now: datetime
) -> list[Citizen]:
    """Insert each citizen, or refresh NIK and last visit (a name or phone only where none is
    stored), in one statement; the rows in the order given (distinct pseudonyms only).

    Residency stays as first recorded. The pseudonym is the key: the same NIK always maps to it.
    """
    params = [
        {
            "id": new_id_text(),
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
    result = await tx.exec(_citizen_upsert(dialect_of(tx)), params=params)
    return [Citizen(id=citizen_id, resident=bool(resident)) for citizen_id, resident in result]


async def upsert_citizen(tx: AsyncSession, facts: CitizenFacts, now: datetime) -> Citizen:
    [citizen] = await upsert_citizens(tx, [facts], now)
    return citizen


async def check_in_of(tx: AsyncSession, session_id: str, citizen_id: str) -> str | None:
    """The id of the citizen's check-in at the session, if any (locked until commit)."""
    params = {"session_id": session_id, "citizen_id": citizen_id}
    return (await tx.exec(_CHECK_IN_OF_CITIZEN, params=params)).one_or_none()


async def checked_in_already(
    tx: AsyncSession, session_id: str, citizen_ids: Sequence[str]
) -> set[str]:
    """Those of the citizens who have a check-in at the session."""
    params = {"session_id": session_id, "citizen_ids": citizen_ids}
    return set((await tx.exec(_CHECKED_IN_ALREADY, params=params)).all())


async def insert_check_ins(tx: AsyncSession, rows: Sequence[CheckInRow]) -> None:
    """Store new check-ins in one statement (not tracked by the session: use `tx.get` to
    change one later in the same transaction)."""
    await tx.exec(_INSERT_CHECK_INS, params=[row.model_dump() for row in rows])


async def count_issued(
    tx: AsyncSession, session_id: str, service: str, count: int, priority: int
) -> QueueCounters:
    """Add `count` tickets (`priority` of them priority) to a queue's numbering, creating the
    queue: its counters after. The queue row stays locked (PostgreSQL) until commit, so a
    concurrent transaction numbers after this one, and no call changes the counters meanwhile."""
    result = await tx.exec(
        _queue_increment(dialect_of(tx)),
        params={
            "session_id": session_id,
            "service": service,
            "issued": count,
            "called": 0,
            "priority_issued": priority,
            "priority_called": 0,
            "priority_streak": 0,
        },
    )
    issued, called, priority_issued, priority_called, streak = result.one()
    return QueueCounters(
        issued=int(issued),
        called=int(called),
        priority_issued=int(priority_issued),
        priority_called=int(priority_called),
        priority_streak=int(streak),
    )


async def insert_tickets(tx: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store new tickets (rows of the `tickets` table) in one statement."""
    await tx.exec(_INSERT_TICKETS, params=rows)
