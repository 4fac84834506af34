"""Time as Botram sees it: sessions are planned in Asia/Jakarta (WIB); events carry UTC."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware. Tests pass a clock they control."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_today(clock: Clock) -> date:
    """Today's date in the regency (WIB: every regency Botram serves is in Asia/Jakarta)."""
    return clock().astimezone(JAKARTA).date()


def as_utc(moment: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands datetimes back naive; Botram stores UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
