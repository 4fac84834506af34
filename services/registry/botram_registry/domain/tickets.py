"""A queue ticket's life: its states, what each desk action does to it, and the slip it gives.

A ticket waits; a desk calls it (and may call it again: a recall); then the desk completes
it, marks its holder as not come, or transfers them to another service (a new waiting ticket
there). `TRANSITIONS` is the whole table; nothing else changes a ticket's status.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from botram_contracts.vocabulary import Outcome, SessionStatus
from botram_runtime.actors import Actor
from botram_runtime.clock import as_utc
from botram_runtime.errors import Conflict, Invalid


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    EXPIRED = "expired"  # still waiting when its session closed: unserved demand
    CANCELLED = "cancelled"  # still waiting when its session was cancelled (an emergency)


class DeskAction(StrEnum):
    """What a desk does to a ticket (recorded in the ticket's history under this name)."""

    CALL = "call"
    # A desk called a waiting ticket by its number, before its turn (a citizen who stepped
    # out and came back): recorded as such, and the queue's fairness streak is left alone.
    CALL_OUT_OF_TURN = "call_out_of_turn"
    RECALL = "recall"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    TRANSFER = "transfer"


@dataclass(frozen=True, slots=True)
class Transition:
    source: TicketStatus
    target: TicketStatus
    verb: str  # as a desk officer reads it: "cannot <verb> ticket KK-001"


# The lifecycle: each desk action, the one status it applies to, and the status it leaves.
TRANSITIONS: dict[DeskAction, Transition] = {
    DeskAction.CALL: Transition(TicketStatus.WAITING, TicketStatus.CALLED, "call"),
    DeskAction.CALL_OUT_OF_TURN: Transition(TicketStatus.WAITING, TicketStatus.CALLED, "call"),
    DeskAction.RECALL: Transition(TicketStatus.CALLED, TicketStatus.CALLED, "recall"),
    DeskAction.COMPLETE: Transition(TicketStatus.CALLED, TicketStatus.COMPLETED, "complete"),
    DeskAction.NO_SHOW: Transition(TicketStatus.CALLED, TicketStatus.NO_SHOW, "mark as no-show"),
    DeskAction.TRANSFER: Transition(TicketStatus.CALLED, TicketStatus.TRANSFERRED, "transfer"),
}
# A ticket in one of these still holds a place in its queue or at a desk.
OPEN_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED)


# How a session's end leaves the tickets still waiting in its queues (called tickets stay with
# their desk: the desk completes them or marks them not come).
WAITING_ENDS_AS: dict[SessionStatus, TicketStatus] = {
    SessionStatus.CLOSED: TicketStatus.EXPIRED,
    SessionStatus.CANCELLED: TicketStatus.CANCELLED,
}


def end_of_wait(ticket: TicketStatus, session: SessionStatus) -> TicketStatus | None:
    """The status a ticket ends in when its session becomes `session`; None when it stays."""
    if ticket != TicketStatus.WAITING:
        return None
    return WAITING_ENDS_AS.get(session)


def advance(status: TicketStatus, action: DeskAction, number: str) -> TicketStatus:
    """The status `action` leaves a ticket in; refused (409 `ticket-state`) from any other
    status than the one the action applies to."""
    step = TRANSITIONS[action]
    if status != step.source:
        raise Conflict(
            f"cannot {step.verb} ticket {number}: it is {status}, not {step.source}",
            code="ticket-state",
        )
    return step.target


def check_transfer(number: str, service: str, target: str) -> None:
    """A transfer sends the citizen to another service, never to the same one."""
    if target == service:
        raise Invalid(f"ticket {number} is already for {target}", code="transfer-same-service")


def check_not_queued(target: str, open_ticket: str | None) -> None:
    """A citizen holds at most one open ticket per service: `open_ticket` is the number of the
    one they hold for `target`, if any."""
    if open_ticket is not None:
        raise Conflict(
            f"this citizen already has ticket {open_ticket} for {target}", code="already-queued"
        )


def check_quota(service_name: str, issued: int, quota: int | None) -> None:
    """A session's quota of a service caps the tickets issued for it (409 `quota-full`)."""
    if quota is not None and issued > quota:
        raise Conflict(
            f"kuota habis: {service_name} has issued all {quota} tickets for this session",
            code="quota-full",
        )


def ticket_number(prefix: str, seq: int) -> str:
    """`DUK-007`: the service's prefix and the ticket's place in that service's numbering."""
    return f"{prefix}-{seq:03d}"


def seconds_between(start: datetime, end: datetime) -> float:
    """Seconds from `start` to `end` (never negative; stored times are UTC)."""
    return max((as_utc(end) - as_utc(start)).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class TicketSlip:
    """A ticket as its holder sees it: number, place in the queue (0 once called), status."""

    ticket_id: str
    service: str
    agency: str
    number: str
    position: int
    status: TicketStatus = TicketStatus.WAITING
    transferred_from: str | None = None
    # The code of its public status page (`/t/{code}`); None for a ticket issued before codes.
    status_code: str | None = None


@dataclass(frozen=True, slots=True)
class DeskStep:
    """One desk action in a ticket's history."""

    action: DeskAction
    desk: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket's state, as desks and dashboards see it."""

    ticket_id: str
    session_id: str
    service: str
    agency: str
    number: str
    status: TicketStatus
    desk: str | None
    outcome: Outcome | None
    issued_at: datetime
    called_at: datetime | None
    completed_at: datetime | None
    recalls: int
    transferred_from: str | None
    transferred_to: str | None
    history: tuple[DeskStep, ...] = ()


# A transfer ends the ticket as referred (the citizen is sent to another service).
TRANSFER_OUTCOME = Outcome.REFERRED


@dataclass(frozen=True, slots=True)
class CallNext:
    """Call the next ticket of a service's queue at a session."""

    session_id: str
    service: str
    desk: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)


@dataclass(frozen=True, slots=True)
class CallNumber:
    """Call a waiting ticket of a session by its number, out of turn."""

    session_id: str
    number: str
    desk: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)


@dataclass(frozen=True, slots=True)
class Recall:
    """Call a called ticket again."""

    ticket_id: str
    desk: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)


@dataclass(frozen=True, slots=True)
class Complete:
    """Finish a called ticket."""

    ticket_id: str
    outcome: Outcome
    note: str | None = None
    desk: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)


@dataclass(frozen=True, slots=True)
class MarkNoShow:
    """Record that a called ticket's holder did not come."""

    ticket_id: str
    desk: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)


@dataclass(frozen=True, slots=True)
class Transfer:
    """Send a called citizen to another service."""

    ticket_id: str
    service: str
    desk: str | None = None
    note: str | None = None
    actor: Actor = field(kw_only=True)  # who acts (audited; its `sub` in the events)
