"""Reporting use cases: apply batches of events exactly once, load the mirror, rank demand."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
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
from botram_contracts.reference import load_catalogue
from botram_reporting import domain, reports
from botram_reporting.domain import deltas_for
from botram_reporting.metrics import Aggregates, decode_labels, encode_labels
from botram_reporting.store import (
    AggregateRow,
    CheckInFact,
    ServiceTable,
    SessionRow,
    TicketFact,
    add_deltas,
    load_rows,
    sum_deltas,
    upsert_rows,
)
from botram_runtime.clock import JAKARTA
from botram_runtime.db import Database
from botram_runtime.inbox import claim_events
from botram_runtime.outbox import stage_event

CONSUMER = "reporting"
STATUS_BY_EVENT = {
    SessionScheduledV1: "scheduled",
    SessionOpenedV1: "opened",
    SessionClosedV1: "closed",
    SessionCancelledV1: "cancelled",
}
SESSION_EVENTS = (*STATUS_BY_EVENT, SessionRescheduledV1)
TICKET_EVENTS = (TicketCalledV1, ServiceCompletedV1, TicketNoShowV1)


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
    """Count a batch of events into the aggregates in one transaction; return the duplicates.

    Set-based: one statement claims the batch's ids, one query per table (per 500 ids) loads
    the fact rows it touches, the events are merged into plain dicts in stream order, and one
    executemany upsert per table writes them back, then one for the summed aggregates. A
    kecamatan session's closing writes the facts merged so far before staging its demand
    ranking, so the ranking counts exactly the events that precede the closing in the stream,
    whatever the batch boundaries.
    """
    duplicates: set[str] = set()
    async with reporting.db.transaction() as session:
        fresh = await claim_events(session, CONSUMER, (str(event.id) for event in events))
        applied: list[Any] = []
        for event in events:
            event_id = str(event.id)
            if event_id in fresh:
                fresh.discard(event_id)  # a repeat within the batch is a duplicate
                applied.append(event.data)
            else:
                duplicates.add(event_id)
        facts = await Facts.load(session, applied)
        deltas = sum_deltas(delta for data in applied for delta in deltas_for(data))
        for data in applied:
            row = facts.apply(data)
            if (
                row is not None
                and reporting.publish_rankings
                and isinstance(data, SessionClosedV1)
                and row["level"] == "kecamatan"
            ):
                await facts.write(session)  # the ranking counts this batch's facts so far
                await stage_ranking(session, reporting, "kecamatan", end=row["date"])
        await facts.write(session)
        await add_deltas(session, deltas, encode_labels)
    # The mirror changes only after the commit: a failed batch leaves it untouched.
    reporting.aggregates.apply(deltas)
    for row in facts.sessions.values():
        reporting.aggregates.set_session(row["id"], row["level"], row["kecamatan"], row["status"])
    return duplicates


@dataclass
class Facts:
    """The fact rows one batch touches, as plain dicts (one per row, every column)."""

    sessions: dict[str, dict[str, Any]]
    check_ins: dict[str, dict[str, Any]]
    tickets: dict[str, dict[str, Any]]
    # Ids changed since the last write, per table.
    dirty: dict[type[ServiceTable], set[str]] = field(
        default_factory=lambda: {SessionRow: set(), CheckInFact: set(), TicketFact: set()}
    )
    session_ids: set[str] = field(default_factory=set)

    @classmethod
    async def load(cls, session: AsyncSession, applied: Sequence[Any]) -> "Facts":
        """Load, in bulk, the stored rows the events will merge into."""
        session_ids: list[str] = []
        check_in_ids: list[str] = []
        ticket_ids: list[str] = []
        for data in applied:
            if isinstance(data, SESSION_EVENTS):
                session_ids.append(data.session_id)
            elif isinstance(data, CitizenCheckedInV1) or domain.is_tickets_added(data):
                if isinstance(data, CitizenCheckedInV1):
                    check_in_ids.append(data.check_in_id)
                ticket_ids += (ticket.ticket_id for ticket in data.tickets)
            elif isinstance(data, TICKET_EVENTS):
                ticket_ids.append(data.ticket_id)
        return cls(
            sessions=await load_rows(session, SessionRow, session_ids),
            check_ins=await load_rows(session, CheckInFact, check_in_ids),
            tickets=await load_rows(session, TicketFact, ticket_ids),
        )

    async def write(self, session: AsyncSession) -> None:
        """Upsert the rows changed since the last write: one executemany per table."""
        for model, rows in (
            (SessionRow, self.sessions),
            (CheckInFact, self.check_ins),
            (TicketFact, self.tickets),
        ):
            ids = self.dirty[model]
            await upsert_rows(session, model, (rows[i] for i in sorted(ids)))
            ids.clear()

    def apply(self, data: Any) -> dict[str, Any] | None:
        """Merge one event into the fact rows; returns the session row when it changed."""
        if isinstance(data, SESSION_EVENTS):
            row = self.sessions.get(data.session_id)
            if row is None:
                row = self.sessions[data.session_id] = {
                    "id": data.session_id,
                    "level": data.level,
                    "kecamatan": data.kecamatan,
                    "desa": data.desa,
                    "date": data.date,
                    "status": "scheduled",
                }
            row["status"] = STATUS_BY_EVENT.get(type(data), row["status"])
            row["date"] = data.date
            self.dirty[SessionRow].add(row["id"])
            return row
        if isinstance(data, CitizenCheckedInV1) or domain.is_tickets_added(data):
            moment = (
                data.checked_in_at if isinstance(data, CitizenCheckedInV1) else data.added_at
            ).astimezone(JAKARTA)
            if isinstance(data, CitizenCheckedInV1) and data.check_in_id not in self.check_ins:
                self.check_ins[data.check_in_id] = {
                    "id": data.check_in_id,
                    "session_id": data.session_id,
                    "level": data.level,
                    "kecamatan": data.kecamatan,
                    "desa": data.desa,
                    "day": moment.date(),
                    "hour": moment.hour,
                    "sex": data.sex,
                    "age_band": data.age_band,
                    "resident": data.resident,
                    "priority": data.priority,
                }
                self.dirty[CheckInFact].add(data.check_in_id)
            for ticket in data.tickets:
                fact = self._ticket(ticket.ticket_id, data.session_id, ticket)
                fact["issued"] = True
                fact["check_in_id"] = data.check_in_id
                fact["level"], fact["kecamatan"], fact["desa"] = (
                    data.level,
                    data.kecamatan,
                    data.desa,
                )
                fact["day"] = moment.date()
            return None
        if isinstance(data, TicketCalledV1):
            fact = self._ticket(data.ticket_id, data.session_id, data)
            fact["called"] = True
            if fact["waited_seconds"] is None:  # a completion, if seen first, carries the same wait
                fact["waited_seconds"] = data.waited_seconds
        elif isinstance(data, ServiceCompletedV1):
            fact = self._ticket(data.ticket_id, data.session_id, data)
            fact["called"] = True
            fact["outcome"] = domain.merge_outcome(fact["outcome"], data.outcome)
            fact["waited_seconds"] = data.waited_seconds
            fact["service_seconds"] = data.service_seconds
        elif isinstance(data, TicketNoShowV1):
            fact = self._ticket(data.ticket_id, data.session_id, data)
            fact["called"] = True
            fact["outcome"] = domain.merge_outcome(fact["outcome"], domain.NO_SHOW)
        return None

    def _ticket(self, ticket_id: str, session_id: str, data: Any) -> dict[str, Any]:
        """The ticket's row (a new one with TicketFact's defaults if unseen), marked changed."""
        fact = self.tickets.get(ticket_id)
        if fact is None:
            fact = self.tickets[ticket_id] = {
                "id": ticket_id,
                "session_id": session_id,
                "service": data.service,
                "agency": data.agency,
                "issued": False,
                "check_in_id": None,
                "level": None,
                "kecamatan": None,
                "desa": None,
                "day": None,
                "called": False,
                "waited_seconds": None,
                "outcome": None,
                "service_seconds": None,
            }
        self.dirty[TicketFact].add(ticket_id)
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
    return stage_event(session, data)


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
