"""What the registry's screens show: open sessions for the desks, a NIK checked as typed, a
ticket's public status, and the public display. Pure: results and their rules, no I/O.

Nothing here carries personal data except `NikCheck`'s verdict on a NIK the front desk typed
(the NIK itself is not repeated).
"""

from dataclasses import dataclass
from datetime import date, datetime

from botram_contracts.vocabulary import Level, SessionStatus
from botram_registry.domain.survey import SurveyState
from botram_registry.domain.tickets import TicketStatus

# The display shows this many of the latest calls (the first one large).
DISPLAY_CALLS = 6
# An agency's name longer than this is shown by its short name (its slug, in words).
AGENCY_LABEL_MAX = 24


@dataclass(frozen=True, slots=True)
class NikCheck:
    """A NIK as the check-in would judge it: valid, or the rule it breaks, in words."""

    valid: bool
    rule: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class OfferedService:
    """A service of an open session, as the front desk and the desks choose it."""

    code: str
    name: str
    agency: str
    agency_label: str
    waiting: int
    # None: no quota; otherwise the tickets that may still be issued.
    quota_left: int | None


@dataclass(frozen=True, slots=True)
class OpenSession:
    session_id: str
    level: Level
    kecamatan: str
    desa: str | None
    date: date
    services: tuple[OfferedService, ...]


@dataclass(frozen=True, slots=True)
class TicketStatusView:
    """One ticket as its holder follows it: the number, never who holds it."""

    number: str
    service_name: str
    agency_label: str
    status: TicketStatus
    session_status: SessionStatus
    # Place in the fair order of calls and the estimated wait, while waiting.
    position: int | None
    estimated_wait_seconds: float | None
    # The desk that called it, once called.
    desk: str | None
    # What the agency said since (a document ready: where, until when).
    follow_ups: tuple["TicketFollowUpView", ...] = ()
    # The satisfaction survey: open once served, answered after (None: not offered).
    survey: SurveyState | None = None


@dataclass(frozen=True, slots=True)
class TicketFollowUpView:
    kind: str
    place: str
    until: date | None
    note: str | None


@dataclass(frozen=True, slots=True)
class DisplayCall:
    number: str
    desk: str | None
    agency_label: str
    service_name: str
    at: datetime | None = None
    recall: bool = False


@dataclass(frozen=True, slots=True)
class AgencyWaiting:
    agency: str
    agency_label: str
    waiting: int


@dataclass(frozen=True, slots=True)
class DisplaySnapshot:
    session_id: str
    session_status: SessionStatus
    calls: tuple[DisplayCall, ...]
    agencies: tuple[AgencyWaiting, ...]


@dataclass(frozen=True, slots=True)
class DisplayUpdate:
    """One message of the live display: a call to announce, or the board as it is now."""

    call: DisplayCall | None = None
    snapshot: DisplaySnapshot | None = None


def agency_label(slug: str, name: str) -> str:
    """A short name for an agency on a board: its name, or its slug in words when long."""
    if len(name) <= AGENCY_LABEL_MAX:
        return name
    return " ".join(word.upper() if len(word) <= 4 else word.title() for word in slug.split("-"))


def quota_left(quota: int | None, issued: int) -> int | None:
    return None if quota is None else max(quota - issued, 0)


def waiting_by_agency(waiting: dict[str, int], labels: dict[str, str]) -> tuple[AgencyWaiting, ...]:
    """Waiting tickets per agency, the longest queue first (then by name)."""
    rows = [AgencyWaiting(agency, labels[agency], count) for agency, count in waiting.items()]
    return tuple(sorted(rows, key=lambda row: (-row.waiting, row.agency_label)))
