"""Follow-ups: what an agency tells a citizen after the desk, e.g. the document is ready.

Only the agency that served (or referred) the citizen records a follow-up on the ticket, once
per kind, and only on a ticket its desk finished as served or referred. Pure rules, no I/O.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.tickets import TicketStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Conflict, Forbidden, Invalid


class FollowUpKind(StrEnum):
    DOCUMENT_READY = "document_ready"


@dataclass(frozen=True, slots=True)
class RecordFollowUp:
    ticket_id: str
    kind: FollowUpKind
    place: str
    actor: Actor
    until: date | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A follow-up as recorded (no personal data: the ticket's number, never its holder)."""

    follow_up_id: str
    ticket_id: str
    number: str
    service: str
    agency: str
    kind: FollowUpKind
    place: str
    until: date | None
    note: str | None
    followed_up_at: datetime
    seconds_since_completion: float
    # Whether the citizen is texted: a phone was given and is still kept for follow-ups.
    citizen_notified: bool


def check_follow_up_access(actor: Actor, agency: str, service: str) -> None:
    """An `agency` or `desk` token of the ticket's agency (a desk's `services` claim, when
    given, must include the ticket's service); any other agency is refused (403)."""
    if actor.agency != agency:
        raise Forbidden(
            f"this ticket belongs to the agency {agency!r}: it needs a token of {agency!r}",
            code="agency-required",
            agency=agency,
        )
    desk_only = actor.has(Role.DESK) and not actor.has(Role.AGENCY)
    if desk_only and actor.services is not None and service not in actor.services:
        raise Forbidden(
            f"this desk token is not for the service {service!r}",
            code="service-required",
            service=service,
        )


def outcome_to_follow_up(status: TicketStatus, outcome: Outcome | None) -> Outcome:
    """The finished ticket's outcome; a ticket still in the queue, missed, ended unserved or
    rejected has nothing to follow up (409)."""
    if status == TicketStatus.TRANSFERRED:
        return Outcome.REFERRED
    if status == TicketStatus.COMPLETED and outcome in (Outcome.SERVED, Outcome.REFERRED):
        return outcome
    raise Conflict(
        "only a ticket served or referred at the desk can get a follow-up "
        f"(this one is {status.value})",
        code="ticket-not-finished",
        status_now=status.value,
    )


def check_until(until: date | None, today: date) -> None:
    """A collection deadline already past helps nobody."""
    if until is not None and until < today:
        raise Invalid("`until` is in the past", code="until-in-the-past")
