"""Offline village desks after the fact: when an upload is still accepted, which day its items
may be recorded on, and how an offline desk action meets what the registry already knows.

The stated rules (docs/architecture.md, "Offline village desks"):

- **Upload window.** A batch is accepted while its session is open and, once closed, for
  `BOTRAM_OFFLINE_GRACE_HOURS` (72 by default) after the registry learned of the close; after
  that, or at a session never opened or cancelled, the whole batch is refused (409).
- **Recorded time.** Each item keeps the device's `recorded_at` as its time (the ticket's and
  the event's); it must fall on the session's day (Asia/Jakarta), else that item is refused.
- **Conflicts: the first recorded at the registry wins.** Items are applied in the order
  uploaded; an action applies only when the ticket's current state allows it (the desks'
  transition table) and it was recorded no earlier than the ticket's last step. A ticket
  already ended (online, or by an earlier item) keeps that ending; the later action is reported
  as `conflict` and changes nothing. The one exception: a ticket the close expired may still be
  called by an offline call recorded before the close (the desk served it; the close did not
  know), and then completed or marked not come.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from botram_contracts.vocabulary import Outcome, SessionStatus
from botram_registry.domain.tickets import DeskAction, TicketStatus, advance
from botram_runtime.actors import Actor, Role
from botram_runtime.clock import JAKARTA, as_utc
from botram_runtime.errors import Conflict, Forbidden, Invalid


class ActionKind(StrEnum):
    """What an offline desk did to a ticket (the item's `kind`)."""

    CALL = "call"
    OUTCOME = "outcome"
    NO_SHOW = "no_show"


# The desk action each offline item kind applies (an offline call is out of the online queue's
# turn by nature: it leaves the queue's fairness streak alone).
DESK_ACTION: dict[ActionKind, DeskAction] = {
    ActionKind.CALL: DeskAction.CALL_OUT_OF_TURN,
    ActionKind.OUTCOME: DeskAction.COMPLETE,
    ActionKind.NO_SHOW: DeskAction.NO_SHOW,
}


@dataclass(frozen=True, slots=True)
class TicketReference:
    """How an item names its ticket: its id, its number at the session, or the client id of
    the offline check-in that issued it (with the service when that check-in has several)."""

    ticket_id: str | None = None
    number: str | None = None
    check_in: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class OfflineAction:
    """One desk action an offline desk recorded."""

    kind: ActionKind
    client_id: str  # made by the device, unique per session
    recorded_at: datetime  # the device's clock
    ticket: TicketReference
    desk: str | None = None
    outcome: Outcome | None = None  # for an outcome
    note: str | None = field(default=None, repr=False)
    # The item as uploaded (JSON form): its keyed digest tells a replay from a reused client id.
    content: Mapping[str, Any] = field(default_factory=dict, repr=False)


class GraceOver(Conflict):
    """The session closed longer ago than the grace period allows."""

    def __init__(self, session_id: str, grace_hours: float, until: datetime) -> None:
        super().__init__(
            f"session {session_id} closed more than {grace_hours:g} hours ago: offline uploads "
            f"were accepted until {until.astimezone(JAKARTA).isoformat(timespec='minutes')}",
            code="offline-grace-over",
        )


def check_upload_window(
    session_id: str,
    status: SessionStatus,
    closed_at: datetime,
    now: datetime,
    grace: timedelta,
) -> None:
    """An offline batch is accepted at an open session, and at a closed one until `grace` after
    it closed (`closed_at`: when the registry learned of it); refused otherwise (409)."""
    if status == SessionStatus.OPENED:
        return
    if status != SessionStatus.CLOSED:
        raise Conflict(
            f"session {session_id} is {status}, not open or recently closed",
            code="session-not-open",
        )
    until = as_utc(closed_at) + grace
    if as_utc(now) > until:
        raise GraceOver(session_id, grace.total_seconds() / 3600, until)


def check_recorded_day(recorded_at: datetime, session_date: date) -> None:
    """An item is recorded on its session's day (local time), or refused (422)."""
    day = recorded_at.astimezone(JAKARTA).date()
    if day != session_date:
        raise Invalid(
            f"recorded on {day.isoformat()}, not on the session's day {session_date.isoformat()}",
            code="recorded-outside-session-day",
        )


def check_may_record(actor: Actor, kind: ActionKind | None) -> None:
    """Who may upload what: check-ins (`kind` None) need the front desk (or an operator), desk
    actions a desk (or an operator); a desk is further confined to its agency's tickets."""
    needed = (Role.FRONT_DESK,) if kind is None else (Role.DESK,)
    if not actor.has(*needed, Role.OPERATOR):
        what = "check-ins" if kind is None else "desk actions"
        raise Forbidden(
            f"uploading {what} needs the role {needed[0]} or operator",
            code="role-required",
            roles=sorted({*needed, Role.OPERATOR}),
        )


class OfflineConflict(Conflict):
    """An offline action the ticket's state (or history) no longer allows."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="offline-conflict")


def resolve(
    kind: ActionKind,
    status: TicketStatus,
    number: str,
    recorded_at: datetime,
    last_step_at: datetime,
    closed_at: datetime | None,
) -> TicketStatus:
    """The status an offline action leaves its ticket in, under the first-recorded-wins rule;
    `OfflineConflict` when it cannot apply (the ticket is left as it is)."""
    if as_utc(recorded_at) < as_utc(last_step_at):
        raise OfflineConflict(
            f"ticket {number} changed after this was recorded: it is {status} since "
            f"{as_utc(last_step_at).astimezone(JAKARTA).isoformat(timespec='seconds')}"
        )
    if (
        kind == ActionKind.CALL
        and status == TicketStatus.EXPIRED
        and closed_at is not None
        and as_utc(recorded_at) <= as_utc(closed_at)
    ):
        # Called offline before the close: the close expired it without knowing.
        status = TicketStatus.WAITING
    try:
        return advance(status, DESK_ACTION[kind], number)
    except Conflict as refused:
        raise OfflineConflict(
            f"{refused.detail} (the first recorded wins: this {kind} was not applied)"
        ) from refused
