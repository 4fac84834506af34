"""Reporting use cases: apply batches of events exactly once, load the mirror, rank demand."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_reporting import domain, reports
from botram_reporting.domain import Delta, deltas_for
from botram_reporting.metrics import Aggregates, decode_labels, encode_labels
from botram_reporting.store import AggregateRow, CheckInFact, SessionRow, TicketFact, add_deltas
from botram_shared.clock import JAKARTA
from botram_shared.db import Database
from botram_shared.events import (
    CitizenCheckedInV1,
    CloudEvent,
    DemandRankedV1,
    Period,
    RankedService,
    ServiceCompletedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketNoShowV1,
)
from botram_shared.inbox import claim_event
from botram_shared.outbox import stage_event
from botram_shared.reference import load_catalogue

CONSUMER = "reporting"
SERVICE = "reporting"
STATUS_BY_EVENT = {
    SessionScheduledV1: "scheduled",
    SessionOpenedV1: "opened",
    SessionClosedV1: "closed",
    SessionCancelledV1: "cancelled",
}
SESSION_EVENTS = (*STATUS_BY_EVENT, SessionRescheduledV1)


@dataclass
class Reporting:
    db: Database
    aggregates: Aggregates
    demand_window_days: int = 90
    # Off while rebuilding: replaying history must not publish rankings again.
    publish_rankings: bool = True
    catalogue: list[tuple[str, str]] = field(
        default_factory=lambda: [(s.code, s.agency) for s in load_catalogue()]
    )


async def apply_events(reporting: Reporting, events: Sequence[CloudEvent[Any]]) -> set[str]:
    """Count a batch of events into the aggregates in one transaction; return the duplicates."""
    duplicates: set[str] = set()
    deltas: list[Delta] = []
    sessions: dict[str, SessionRow] = {}
    async with reporting.db.transaction() as session:
        for event in events:
            if not await claim_event(session, CONSUMER, str(event.id)):
                duplicates.add(str(event.id))
                continue
            deltas += deltas_for(event.data)
            row = await _apply_facts(session, event.data)
            if row is not None:
                sessions[row.id] = row
                if (
                    reporting.publish_rankings
                    and isinstance(event.data, SessionClosedV1)
                    and row.level == "kecamatan"
                ):
                    # Flush so the ranking sees the facts of this very batch.
                    await session.flush()
                    await stage_ranking(session, reporting, "kecamatan", end=row.date)
        await add_deltas(session, deltas, encode_labels)
    # The mirror changes only after the commit: a failed batch leaves it untouched.
    reporting.aggregates.apply(deltas)
    for row in sessions.values():
        reporting.aggregates.set_session(row.id, row.level, row.kecamatan, row.status)
    return duplicates


async def _apply_facts(session: AsyncSession, data: Any) -> SessionRow | None:
    """Merge one event into the fact rows; returns the session row when it changed."""
    if isinstance(data, SESSION_EVENTS):
        row = await session.get(SessionRow, data.session_id) or SessionRow(
            id=data.session_id,
            level=data.level,
            kecamatan=data.kecamatan,
            desa=data.desa,
            date=data.date,
            status="scheduled",
        )
        row.status = STATUS_BY_EVENT.get(type(data), row.status)
        row.date = data.date
        session.add(row)
        return row
    if isinstance(data, CitizenCheckedInV1) or domain.is_tickets_added(data):
        moment = (
            data.checked_in_at if isinstance(data, CitizenCheckedInV1) else data.added_at
        ).astimezone(JAKARTA)
        if (
            isinstance(data, CitizenCheckedInV1)
            and await session.get(CheckInFact, data.check_in_id) is None
        ):
            session.add(
                CheckInFact(
                    id=data.check_in_id,
                    session_id=data.session_id,
                    level=data.level,
                    kecamatan=data.kecamatan,
                    desa=data.desa,
                    day=moment.date(),
                    hour=moment.hour,
                    sex=data.sex,
                    age_band=data.age_band,
                    resident=data.resident,
                    priority=data.priority,
                )
            )
        for ticket in data.tickets:
            fact = await _ticket(session, ticket.ticket_id, data.session_id, ticket)
            fact.issued = True
            fact.check_in_id = data.check_in_id
            fact.level, fact.kecamatan, fact.desa = data.level, data.kecamatan, data.desa
            fact.day = moment.date()
        return None
    if isinstance(data, TicketCalledV1):
        fact = await _ticket(session, data.ticket_id, data.session_id, data)
        fact.called = True
        if fact.waited_seconds is None:  # a completion, if seen first, carries the same wait
            fact.waited_seconds = data.waited_seconds
    elif isinstance(data, ServiceCompletedV1):
        fact = await _ticket(session, data.ticket_id, data.session_id, data)
        fact.called = True
        fact.outcome = domain.merge_outcome(fact.outcome, data.outcome)
        fact.waited_seconds = data.waited_seconds
        fact.service_seconds = data.service_seconds
    elif isinstance(data, TicketNoShowV1):
        fact = await _ticket(session, data.ticket_id, data.session_id, data)
        fact.called = True
        fact.outcome = domain.merge_outcome(fact.outcome, domain.NO_SHOW)
    return None


async def _ticket(session: AsyncSession, ticket_id: str, session_id: str, data: Any) -> TicketFact:
    fact = await session.get(TicketFact, ticket_id)
    if fact is None:
        fact = TicketFact(
            id=ticket_id, session_id=session_id, service=data.service, agency=data.agency
        )
        session.add(fact)
    return fact


async def ranking(
    session: AsyncSession, reporting: Reporting, level: str, start: date, end: date
) -> list[dict[str, Any]]:
    """Services ranked by tickets issued at sessions of `level` between two dates."""
    tickets = (
        await session.exec(
            select(TicketFact).where(
                col(TicketFact.issued),
                TicketFact.level == level,
                col(TicketFact.day) >= start,
                col(TicketFact.day) <= end,
            )
        )
    ).all()
    return reports.demand_ranking(tickets, reporting.catalogue)


async def stage_ranking(
    session: AsyncSession, reporting: Reporting, level: str, *, end: date
) -> CloudEvent[Any]:
    """Stage `demand.ranked` for the configured window ending on `end` (published after commit)."""
    start = end - timedelta(days=reporting.demand_window_days - 1)
    ranked = await ranking(session, reporting, level, start, end)
    data = DemandRankedV1(
        period=Period(start=start, end=end),
        level=level,  # type: ignore[arg-type]
        ranking=[RankedService(**entry) for entry in ranked],
    )
    return stage_event(session, data, SERVICE)


async def publish_ranking(reporting: Reporting, level: str, end: date) -> CloudEvent[Any]:
    """Publish a demand ranking on request (through the outbox)."""
    async with reporting.db.transaction() as session:
        return await stage_ranking(session, reporting, level, end=end)


async def load_aggregates(reporting: Reporting) -> None:
    """Fill the in-memory mirror from the database (at start-up)."""
    async with reporting.db.session() as session:
        rows = (await session.exec(select(AggregateRow))).all()
        sessions = (await session.exec(select(SessionRow))).all()
    reporting.aggregates.clear()
    for row in rows:
        reporting.aggregates.values[row.name][decode_labels(row.labels)] = row.value
    for s in sessions:
        reporting.aggregates.set_session(s.id, s.level, s.kecamatan, s.status)


async def facts(
    reporting: Reporting,
    *,
    start: date | None = None,
    end: date | None = None,
    level: str | None = None,
    kecamatan: str | None = None,
    session_id: str | None = None,
) -> tuple[list[CheckInFact], list[TicketFact]]:
    """The check-ins and issued tickets matching a report's filters."""
    check_in_query = select(CheckInFact)
    ticket_query = select(TicketFact).where(col(TicketFact.issued))
    for model, query_name in ((CheckInFact, "c"), (TicketFact, "t")):
        conditions: list[Any] = []
        if start is not None:
            conditions.append(col(model.day) >= start)
        if end is not None:
            conditions.append(col(model.day) <= end)
        if level is not None:
            conditions.append(model.level == level)
        if kecamatan is not None:
            conditions.append(model.kecamatan == kecamatan)
        if session_id is not None:
            conditions.append(model.session_id == session_id)
        if query_name == "c":
            check_in_query = check_in_query.where(*conditions)
        else:
            ticket_query = ticket_query.where(*conditions)
    async with reporting.db.session() as session:
        check_ins = list((await session.exec(check_in_query.order_by(col(CheckInFact.id)))).all())
        tickets = list((await session.exec(ticket_query.order_by(col(TicketFact.id)))).all())
    return check_ins, tickets


async def session_row(reporting: Reporting, session_id: str) -> SessionRow | None:
    async with reporting.db.session() as session:
        return await session.get(SessionRow, session_id)
