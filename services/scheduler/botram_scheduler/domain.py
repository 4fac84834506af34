"""Scheduler rules: pure Python, no I/O."""

from datetime import date, time
from enum import StrEnum

DEFAULT_START = time(8, 0)
DEFAULT_END = time(14, 0)
DEFAULT_QUOTA = 100


class Status(StrEnum):
    SCHEDULED = "scheduled"
    OPENED = "opened"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# The lifecycle: scheduled -> opened -> closed, or cancelled before it opens.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SCHEDULED: frozenset({Status.OPENED, Status.CANCELLED}),
    Status.OPENED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}


class ScheduleError(ValueError):
    """A request that breaks a scheduling rule; `code` names the rule."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def check_transition(current: Status, target: Status) -> None:
    """Refuse a lifecycle step the session's status does not allow."""
    if target not in TRANSITIONS[current]:
        raise ScheduleError(
            "invalid-transition",
            f"a {current.value} session cannot become {target.value}",
            status=409,
        )


def check_session_times(day: date, today: date, start: time, end: time) -> None:
    """A new session is today or later and ends after it starts."""
    if day < today:
        raise ScheduleError("date-in-past", f"{day.isoformat()} is in the past (today is {today})")
    if end <= start:
        raise ScheduleError("end-before-start", f"end {end} must be after start {start}")
