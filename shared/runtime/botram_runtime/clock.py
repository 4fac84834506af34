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


# Month and weekday names in Bahasa Indonesia, for dates shown to citizens and officers.
MONTHS = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip
WEEKDAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def tanggal(day: date) -> str:
    """A date the Indonesian way: `5 Desember 2026`."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
