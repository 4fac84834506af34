"""How events merge into the fact rows reports are computed from: sessions, check-ins, tickets.

Rows are plain dicts (one key per column). They are merged field by field, so the events of
one ticket may arrive in any order (a completion before its check-in, a late call after the
desk's verdict) and still give the same row.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenTicketsAddedV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
)
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.clock import JAKARTA

Row = dict[str, Any]


class TicketOutcome(StrEnum):
    """How a ticket ended: a desk's verdict, or its holder did not come when called, or its
    session ended while it still waited (expired at the close: unserved demand; cancelled
    with the session)."""

    SERVED = "served"
    REFERRED = "referred"
    REJECTED = "rejected"
    NO_SHOW = "no_show"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# A desk's verdict (served, referred, rejected): it beats a no-show, whatever the order.
VERDICTS = frozenset({TicketOutcome.SERVED, TicketOutcome.REFERRED, TicketOutcome.REJECTED})
# A session's end only ends tickets still waiting: any other outcome seen beats it.
SESSION_ENDINGS = frozenset({TicketOutcome.EXPIRED, TicketOutcome.CANCELLED})


class FactKind(StrEnum):
    """The three kinds of fact rows (one table each)."""

    SESSIONS = "sessions"
    CHECK_INS = "check_ins"
    TICKETS = "tickets"


STATUS_BY_EVENT: dict[type, SessionStatus] = {
    SessionScheduledV1: SessionStatus.SCHEDULED,
    SessionOpenedV1: SessionStatus.OPENED,
    SessionClosedV1: SessionStatus.CLOSED,
    SessionCancelledV1: SessionStatus.CANCELLED,
}
# A session only moves forward (scheduled, then opened or cancelled, then closed): replicas
# apply batches in any order, so a late `opened` must not undo a `closed`.
STATUS_RANK: dict[SessionStatus, int] = {
    SessionStatus.SCHEDULED: 0,
    SessionStatus.OPENED: 1,
    SessionStatus.CANCELLED: 2,
    SessionStatus.CLOSED: 2,
}
SessionEvent = (
    SessionScheduledV1
    | SessionOpenedV1
    | SessionClosedV1
    | SessionCancelledV1
    | SessionRescheduledV1
    # Its services, quotas, venue or hours changed: the fact row keeps place, date and
    # status, which an update never changes; per-service figures come from the tickets.
    | SessionUpdatedV1
)
IssuingEvent = CitizenCheckedInV1 | CitizenTicketsAddedV1
TicketEvent = (
    TicketCalledV1
    | ServiceCompletedV1
    | TicketNoShowV1
    | TicketExpiredV1
    | TicketCancelledV1
    | ServiceFollowedUpV1
)


def merge_outcome(current: str | None, new: str) -> str:
    """A ticket's outcome whatever order its events arrive in: a desk's verdict beats no-show,
    and any outcome beats the session's end (which only ends waiting tickets)."""
    if current in VERDICTS and new == TicketOutcome.NO_SHOW:
        return current
    if current is not None and new in SESSION_ENDINGS:
        return current
    return new


def first_ready(current: float | None, new: float) -> float:
    """A ticket's time to ready: from its completion to its first follow-up (the earliest,
    whatever order the follow-ups arrive in)."""
    return new if current is None else min(current, new)


# The same families as exact types: a set lookup per event instead of an isinstance over a
# union of six (the event models are not subclassed), for every event of a busy day.
SESSION_EVENTS = frozenset(SessionEvent.__args__)
ISSUING_EVENTS = frozenset(IssuingEvent.__args__)
TICKET_EVENTS = frozenset(TicketEvent.__args__)


def ids_touched(applied: Iterable[object]) -> dict[FactKind, list[str]]:
    """The ids of the fact rows these events merge into, per kind (to load them in bulk)."""
    sessions: list[str] = []
    check_ins: list[str] = []
    tickets: list[str] = []
    for data in applied:
        kind = type(data)
        if kind in TICKET_EVENTS:
            tickets.append(data.ticket_id)  # type: ignore[attr-defined]
        elif kind in ISSUING_EVENTS:
            if kind is CitizenCheckedInV1:
                check_ins.append(data.check_in_id)  # type: ignore[attr-defined]
            tickets += (ticket.ticket_id for ticket in data.tickets)  # type: ignore[attr-defined]
        elif kind in SESSION_EVENTS:
            sessions.append(data.session_id)  # type: ignore[attr-defined]
    return {FactKind.SESSIONS: sessions, FactKind.CHECK_INS: check_ins, FactKind.TICKETS: tickets}


def ranking_due(data: object, session: Row | None) -> date | None:
    """The last day of the demand ranking this event triggers: a kecamatan session's closing."""
    if (
        session is not None
        and isinstance(data, SessionClosedV1)
        and session["level"] == Level.KECAMATAN
    ):
        day: date = session["date"]
        return day
    return None


@dataclass
class FactBatch:
    """The fact rows one batch of events touches, keyed by id, and which of them changed."""

    sessions: dict[str, Row] = field(default_factory=dict)
    check_ins: dict[str, Row] = field(default_factory=dict)
    tickets: dict[str, Row] = field(default_factory=dict)
    # Ids changed since the last `take_changed()`, per kind.
    dirty: dict[FactKind, set[str]] = field(
        default_factory=lambda: {kind: set() for kind in FactKind}
    )

    def rows(self, kind: FactKind) -> dict[str, Row]:
        return {
            FactKind.SESSIONS: self.sessions,
            FactKind.CHECK_INS: self.check_ins,
            FactKind.TICKETS: self.tickets,
        }[kind]

    def take_changed(self) -> dict[FactKind, list[Row]]:
        """The rows changed since the last call (by id), per kind; marks them written."""
        changed = {}
        for kind, ids in self.dirty.items():
            rows = self.rows(kind)
            changed[kind] = [rows[i] for i in sorted(ids)]
            ids.clear()
        return changed

    def apply(self, data: object) -> Row | None:
        """Merge one event into the fact rows; returns the session row when it changed."""
        kind = type(data)
        if kind in SESSION_EVENTS:
            return self._session(data)  # type: ignore[arg-type]
        if kind in ISSUING_EVENTS:
            self._issue(data)  # type: ignore[arg-type]
        elif isinstance(data, TicketCalledV1):
            fact = self._ticket(data.ticket_id, data.session_id, data.service, data.agency)
            fact["called"] = True
            if fact["waited_seconds"] is None:  # a completion, if seen first, carries the same wait
                fact["waited_seconds"] = data.waited_seconds
        elif isinstance(data, ServiceCompletedV1):
            fact = self._ticket(data.ticket_id, data.session_id, data.service, data.agency)
            fact["called"] = True
            fact["outcome"] = merge_outcome(fact["outcome"], TicketOutcome(data.outcome))
            fact["waited_seconds"] = data.waited_seconds
            fact["service_seconds"] = data.service_seconds
        elif isinstance(data, TicketNoShowV1):
            fact = self._ticket(data.ticket_id, data.session_id, data.service, data.agency)
            fact["called"] = True
            fact["outcome"] = merge_outcome(fact["outcome"], TicketOutcome.NO_SHOW)
        elif isinstance(data, TicketExpiredV1 | TicketCancelledV1):
            fact = self._ticket(data.ticket_id, data.session_id, data.service, data.agency)
            ending = (
                TicketOutcome.EXPIRED
                if isinstance(data, TicketExpiredV1)
                else TicketOutcome.CANCELLED
            )
            fact["outcome"] = merge_outcome(fact["outcome"], ending)
        elif isinstance(data, ServiceFollowedUpV1):
            fact = self._ticket(data.ticket_id, data.session_id, data.service, data.agency)
            fact["ready_seconds"] = first_ready(
                fact.get("ready_seconds"), data.seconds_since_completion
            )
        return None

    def _session(self, data: SessionEvent) -> Row:
        row = self.sessions.get(data.session_id)
        if row is None:
            row = self.sessions[data.session_id] = {
                "id": data.session_id,
                "level": data.level,
                "kecamatan": data.kecamatan,
                "desa": data.desa,
                "date": data.date,
                "status": SessionStatus.SCHEDULED,
            }
        new = STATUS_BY_EVENT.get(type(data))
        # A late opening never reopens; a reschedule keeps the status.
        if new is not None and STATUS_RANK[new] >= STATUS_RANK[row["status"]]:
            row["status"] = new
        row["date"] = data.date
        self.dirty[FactKind.SESSIONS].add(row["id"])
        return row

    def _issue(self, data: IssuingEvent) -> None:
        """A check-in (or tickets added to one): its row, and its tickets marked issued."""
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
            self.dirty[FactKind.CHECK_INS].add(data.check_in_id)
        for ticket in data.tickets:
            fact = self._ticket(ticket.ticket_id, data.session_id, ticket.service, ticket.agency)
            fact["issued"] = True
            fact["check_in_id"] = data.check_in_id
            fact["level"], fact["kecamatan"], fact["desa"] = data.level, data.kecamatan, data.desa
            fact["day"] = moment.date()

    def _ticket(self, ticket_id: str, session_id: str, service: str, agency: str) -> Row:
        """The ticket's row (a new one with TicketFact's defaults if unseen), marked changed."""
        fact = self.tickets.get(ticket_id)
        if fact is None:
            fact = self.tickets[ticket_id] = new_ticket(ticket_id, session_id, service, agency)
        self.dirty[FactKind.TICKETS].add(ticket_id)
        return fact


def new_ticket(ticket_id: str, session_id: str, service: str, agency: str) -> Row:
    """A ticket seen for the first time: nothing known yet but where and what it is for."""
    return {
        "id": ticket_id,
        "session_id": session_id,
        "service": service,
        "agency": agency,
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
        "ready_seconds": None,
    }
