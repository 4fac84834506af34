"""A Botram session: its lifecycle, the commands on it and the rules a session keeps."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.clock import JAKARTA, as_utc
from botram_runtime.errors import Conflict, Forbidden, Invalid

DEFAULT_START = time(8, 0)
DEFAULT_END = time(14, 0)
DEFAULT_QUOTA = 100


class Origin(StrEnum):
    """Who put a session on the calendar."""

    MANUAL = "manual"  # a planner, by hand
    ROTATION = "rotation"  # generation, from the rotation rules
    # A rotation session a planner changed by hand: generation leaves it as they made it.
    ROTATION_EDITED = "rotation-edited"


# The lifecycle: scheduled -> opened -> closed, or cancelled (before it opens, or while open:
# an emergency, a flood at noon; its waiting tickets end cancelled in the registry). Besides
# these steps, an operator may reschedule an opened session: it is scheduled again, on its
# new date (`check_reschedulable`).
TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.SCHEDULED: frozenset({SessionStatus.OPENED, SessionStatus.CANCELLED}),
    SessionStatus.OPENED: frozenset({SessionStatus.CLOSED, SessionStatus.CANCELLED}),
    SessionStatus.CLOSED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
}


# --- Commands -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateSession:
    """Put a session on the calendar by hand (names as planners write them)."""

    actor: Actor
    level: Level
    kecamatan: str
    date: date
    desa: str | None = None
    start: time | None = None
    end: time | None = None
    venue: str | None = None
    services: Sequence[str] | None = None  # None: the catalogue for the level


@dataclass(frozen=True)
class RescheduleSession:
    """Move a session to another date (and times): one that has not opened, or an opened one
    by an operator."""

    actor: Actor
    session_id: str
    date: date
    reason: str
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class OpenSession:
    actor: Actor
    session_id: str


@dataclass(frozen=True)
class CloseSession:
    actor: Actor
    session_id: str


@dataclass(frozen=True)
class CancelSession:
    actor: Actor
    session_id: str
    reason: str


@dataclass(frozen=True)
class FindSessions:
    """Sessions in a date range, filtered by level, place (names) and status, by date."""

    start: date | None = None
    end: date | None = None
    level: Level | None = None
    kecamatan: str | None = None
    desa: str | None = None
    status: SessionStatus | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class ExportCalendar:
    """Every session of a place (names) and date range, as a calendar feed."""

    kecamatan: str | None = None
    desa: str | None = None
    start: date | None = None
    end: date | None = None


# --- Rules --------------------------------------------------------------------------------


def check_transition(current: SessionStatus, target: SessionStatus) -> None:
    """Refuse a lifecycle step the session's status does not allow (409)."""
    if target not in TRANSITIONS[SessionStatus(current)]:
        raise Conflict(f"a {current} session cannot become {target}", code="invalid-transition")


def check_actor_may(actor: Actor, current: SessionStatus, target: SessionStatus) -> None:
    """Cancelling an opened session (an emergency: citizens are waiting there) is an
    operator's call; a planner cancels only a session that has not opened (403)."""
    if (
        target == SessionStatus.CANCELLED
        and current == SessionStatus.OPENED
        and not actor.has(Role.OPERATOR)
    ):
        raise Forbidden(
            "only an operator cancels an opened session", code="operator-cancels-opened"
        )


def changes_nothing(current: SessionStatus, target: SessionStatus) -> bool:
    """Opening an open session or closing a closed one is a no-op: the clock and a person
    may both act."""
    return current == target and target in (SessionStatus.OPENED, SessionStatus.CLOSED)


def check_reschedulable(status: SessionStatus, actor: Actor | None = None) -> None:
    """A session that has not opened moves to another date; an opened one too, by an
    operator (an emergency: a power cut at noon; its desks stop, it opens again on the new
    date and the tickets still waiting keep their numbers); an ended one never."""
    if status == SessionStatus.OPENED and actor is not None:
        if not actor.has(Role.OPERATOR):
            raise Forbidden(
                "only an operator moves an opened session", code="operator-moves-opened"
            )
        return
    if status != SessionStatus.SCHEDULED:
        raise Conflict(f"a {status} session cannot be rescheduled", code="invalid-transition")


def check_session_times(day: date, today: date, start: time, end: time) -> None:
    """A session is put on today or later and ends after it starts."""
    if day < today:
        raise Invalid(f"{day.isoformat()} is in the past (today is {today})", code="date-in-past")
    if end <= start:
        raise Invalid(f"end {end} must be after start {start}", code="end-before-start")


def session_services(
    catalogue: Catalogue, level: Level, requested: Sequence[str] | None
) -> list[str]:
    """The services a new session offers: as requested (known codes, at least one, each
    once), else the whole catalogue for a kecamatan and the desa-eligible ones for a desa."""
    if requested is None:
        offered = catalogue.services if level == Level.KECAMATAN else catalogue.desa_eligible()
        return [service.code for service in offered]
    unknown = [code for code in requested if code not in catalogue]
    if unknown:
        raise Invalid(f"unknown service code(s): {', '.join(unknown)}", code="unknown-service")
    if not requested:
        raise Invalid("a session offers at least one service", code="no-services")
    return list(dict.fromkeys(requested))


@dataclass(frozen=True)
class Quotas:
    """Tickets per service at a level (the rules file): one default, and the services that
    differ from it (e.g. more KTP than passport tickets)."""

    default: int = DEFAULT_QUOTA
    per_service: Mapping[str, int] = field(default_factory=dict)

    def of(self, code: str) -> int:
        return self.per_service.get(code, self.default)


def quotas(services: Sequence[str], rule: Quotas | None = None) -> dict[str, int]:
    """Tickets per service of a new session: each service's quota by the rule."""
    rule = rule or Quotas()
    return {code: rule.of(code) for code in services}


def edited_by_hand(origin: Origin) -> Origin:
    """The origin of a session after a planner changed it: generation leaves it alone then."""
    return Origin.ROTATION_EDITED if origin == Origin.ROTATION else Origin(origin)


def lifecycle_step(
    status: SessionStatus,
    day: date,
    start: time,
    end: time,
    updated_at: datetime,
    now: datetime,
) -> SessionStatus | None:
    """What the clock does to a session at `now` (Jakarta time): open it at its start, close
    it at its end; else nothing.

    A scheduled session whose whole day passed without opening is left alone: whether it
    happened is for a planner to say, not for a clock. A session a desk opened by hand after
    its end time is running late on purpose: closing it is theirs.
    """
    local = now.astimezone(JAKARTA)
    starts = datetime.combine(day, start, JAKARTA)
    ends = datetime.combine(day, end, JAKARTA)
    if status == SessionStatus.SCHEDULED and starts <= local < ends:
        return SessionStatus.OPENED
    if status == SessionStatus.OPENED and local >= ends and as_utc(updated_at) < ends:
        return SessionStatus.CLOSED
    return None
