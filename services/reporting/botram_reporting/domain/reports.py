"""Report figures computed from check-in and ticket facts, and the rules of a report's question.

Durations are kept per ticket (see store.py), so means and percentiles are exact, never
estimated from histogram buckets. Percentiles use the nearest-rank definition: p-th
percentile = the smallest value with at least p % of the values at or below it
(`sorted(values)[ceil(p/100 * n) - 1]`); it is always one of the observed durations.
Means are rounded to 3 decimals (milliseconds).
"""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol

from botram_contracts.reference import Regency, UnknownRegionError
from botram_contracts.vocabulary import Level, Outcome
from botram_reporting.domain.facts import TicketOutcome
from botram_runtime.errors import Invalid, NotFound

AGE_BANDS = ("0-17", "18-29", "30-44", "45-59", "60+")
SEXES = ("F", "M")
# A report's figures and groups, as the API answers them.
Report = dict[str, Any]


class Dimension(StrEnum):
    """What a summary's figures may be broken down by."""

    KECAMATAN = "kecamatan"
    DESA = "desa"
    SERVICE = "service"
    AGENCY = "agency"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    SESSION = "session"


# A summary's breakdowns when none are asked for: all but per session.
DIMENSIONS = tuple(d for d in Dimension if d is not Dimension.SESSION)


class CheckInLike(Protocol):
    """A check-in's fact row (read only)."""

    @property
    def id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def desa(self) -> str | None: ...
    @property
    def day(self) -> date: ...
    @property
    def hour(self) -> int: ...
    @property
    def sex(self) -> str: ...
    @property
    def age_band(self) -> str: ...
    @property
    def resident(self) -> bool: ...


class TicketLike(Protocol):
    """A ticket's fact row (read only)."""

    @property
    def id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def check_in_id(self) -> str | None: ...
    @property
    def level(self) -> str | None: ...
    @property
    def kecamatan(self) -> str | None: ...
    @property
    def desa(self) -> str | None: ...
    @property
    def day(self) -> date | None: ...
    @property
    def called(self) -> bool: ...
    @property
    def waited_seconds(self) -> float | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def service_seconds(self) -> float | None: ...
    @property
    def ready_seconds(self) -> float | None: ...


class SessionLike(Protocol):
    """A session's row (read only)."""

    @property
    def level(self) -> str: ...
    @property
    def kecamatan(self) -> str: ...
    @property
    def desa(self) -> str | None: ...
    @property
    def date(self) -> date: ...
    @property
    def status(self) -> str: ...


# --- commands and results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportSession:
    """What did one session achieve?"""

    session_id: str


@dataclass(frozen=True, slots=True)
class SessionReport:
    """A session's place, date and status (None when only its facts are known) and figures."""

    session_id: str
    level: str | None
    kecamatan: str | None
    desa: str | None
    date: date | None
    status: str | None
    report: Report


@dataclass(frozen=True, slots=True)
class Summarise:
    """Totals and breakdowns over a period, at one level or kecamatan (as a person names it)."""

    start: date | None = None
    end: date | None = None
    level: Level | None = None
    kecamatan: str | None = None
    group_by: tuple[Dimension, ...] = DIMENSIONS
    # One agency's report: its tickets, and the check-ins of their holders.
    agency: str | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary and the filters it answered (the kecamatan as a slug)."""

    start: date | None
    end: date | None
    level: Level | None
    kecamatan: str | None
    report: Report
    agency: str | None = None


# --- rules of a report's question ---------------------------------------------------------


def check_period(start: date | None, end: date | None) -> None:
    """A period must not end before it starts."""
    if start is not None and end is not None and start > end:
        raise Invalid(
            f"The period starts ({start}) after it ends ({end}): swap 'from' and 'to'.",
            code="invalid-period",
        )


def kecamatan_slug(regions: Regency, name: str | None) -> str | None:
    """The slug of the regency's kecamatan a person named (None for none), or suggestions."""
    if name is None:
        return None
    try:
        return regions.kecamatan(name).slug
    except UnknownRegionError as error:
        raise Invalid(
            str(error), code="unknown-kecamatan", suggestions=list(error.suggestions)
        ) from error


def check_agency(agencies: Iterable[str], agency: str | None) -> None:
    """An agency filter must name an agency of the catalogue."""
    known = sorted(agencies)
    if agency is not None and agency not in known:
        raise Invalid(f"Unknown agency {agency!r}.", code="unknown-agency", agencies=known)


def of_agency(
    check_ins: Sequence[CheckInLike], tickets: Sequence[TicketLike], agency: str | None
) -> tuple[Sequence[CheckInLike], Sequence[TicketLike]]:
    """One agency's facts: its tickets, and the check-ins of their holders (all facts for
    None). A citizen who came for two agencies counts in each one's report."""
    if agency is None:
        return check_ins, tickets
    own = [t for t in tickets if t.agency == agency]
    holders = {t.check_in_id for t in own}
    return [c for c in check_ins if c.id in holders], own


def sessions_of(
    cells: Sequence[dict[str, Any]], rows: Mapping[str, SessionLike]
) -> list[SessionReport]:
    """Each session of a summary's `session` group with its place, date and status (None
    when only its facts are known), by date then id; `report` holds the session's figures."""
    found = [
        _with_place(
            cell["key"], rows.get(cell["key"]), {k: v for k, v in cell.items() if k != "key"}
        )
        for cell in cells
    ]
    return sorted(found, key=lambda s: (s.date is None, s.date or date.min, s.session_id))


def _with_place(session_id: str, session: SessionLike | None, report: Report) -> SessionReport:
    if session is None:
        return SessionReport(session_id, None, None, None, None, None, report)
    return SessionReport(
        session_id,
        session.level,
        session.kecamatan,
        session.desa,
        session.date,
        session.status,
        report,
    )


def session_report(
    session_id: str,
    session: SessionLike | None,
    check_ins: Sequence[CheckInLike],
    tickets: Sequence[TicketLike],
) -> SessionReport:
    """A session's report; a session reporting has never heard of is not found."""
    if session is None and not check_ins and not tickets:
        raise NotFound("session", session_id, code="unknown-session")
    report = summary(check_ins, tickets, (Dimension.SERVICE, Dimension.AGENCY))
    return _with_place(session_id, session, report)


# --- figures ------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when there are none)."""
    if not ordered:
        return None
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def duration_stats(values: Iterable[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "mean": round(math.fsum(ordered) / len(ordered), 3) if ordered else None,
        "p50": percentile(ordered, 50),
        "p90": percentile(ordered, 90),
    }


def figures(check_ins: Sequence[CheckInLike], tickets: Sequence[TicketLike]) -> dict[str, Any]:
    """Every figure of one report cell: volumes, outcomes, durations and who came when."""
    outcomes = Counter(t.outcome for t in tickets)
    sexes = Counter(c.sex for c in check_ins)
    bands = Counter(c.age_band for c in check_ins)
    hours = Counter(c.hour for c in check_ins)
    residents = sum(1 for c in check_ins if c.resident)
    return {
        "check_ins": len(check_ins),
        "tickets_issued": len(tickets),
        **{outcome.value: outcomes[outcome] for outcome in Outcome},
        "no_shows": outcomes[TicketOutcome.NO_SHOW],
        "expired": outcomes[TicketOutcome.EXPIRED],
        "cancelled": outcomes[TicketOutcome.CANCELLED],
        "waiting": sum(1 for t in tickets if not t.called and t.outcome is None),
        "wait_seconds": duration_stats(
            t.waited_seconds for t in tickets if t.waited_seconds is not None
        ),
        "service_seconds": duration_stats(
            t.service_seconds for t in tickets if t.service_seconds is not None
        ),
        "follow_ups": sum(1 for t in tickets if t.ready_seconds is not None),
        "ready_seconds": duration_stats(
            t.ready_seconds for t in tickets if t.ready_seconds is not None
        ),
        "residents": residents,
        "non_residents": len(check_ins) - residents,
        "sex": {sex: sexes[sex] for sex in SEXES},
        "age_bands": {band: bands[band] for band in AGE_BANDS},
        "arrivals_by_hour": {f"{hour:02d}": hours[hour] for hour in sorted(hours)},
    }


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# How a check-in and a ticket fall into a group of each dimension. Tickets of a service or
# agency group bring their holders' check-ins along (a check-in may count in several).
_PLACE_TIME: dict[Dimension, Callable[[Any], str]] = {
    Dimension.KECAMATAN: lambda row: row.kecamatan,
    Dimension.DESA: lambda row: f"{row.kecamatan}/{row.desa}" if row.desa else "",
    Dimension.DAY: lambda row: row.day.isoformat(),
    Dimension.WEEK: lambda row: week_of(row.day),
    Dimension.MONTH: lambda row: row.day.strftime("%Y-%m"),
    Dimension.SESSION: lambda row: row.session_id,
}
_BY_TICKET: dict[Dimension, Callable[[Any], str]] = {
    Dimension.SERVICE: lambda ticket: ticket.service,
    Dimension.AGENCY: lambda ticket: ticket.agency,
}


def grouped(
    dimension: Dimension, check_ins: Sequence[CheckInLike], tickets: Sequence[TicketLike]
) -> list[dict[str, Any]]:
    """One report cell per value of `dimension`, sorted by that value."""
    groups_c: dict[str, list[CheckInLike]] = defaultdict(list)
    groups_t: dict[str, list[TicketLike]] = defaultdict(list)
    if dimension in _BY_TICKET:
        key_of = _BY_TICKET[dimension]
        by_id = {c.id: c for c in check_ins}
        seen: dict[str, set[str]] = defaultdict(set)
        for ticket in tickets:
            key = key_of(ticket)
            groups_t[key].append(ticket)
            holder = by_id.get(ticket.check_in_id or "")
            if holder is not None and holder.id not in seen[key]:
                seen[key].add(holder.id)
                groups_c[key].append(holder)
    else:
        key_of = _PLACE_TIME[dimension]
        for check_in in check_ins:
            groups_c[key_of(check_in)].append(check_in)
        for ticket in tickets:
            groups_t[key_of(ticket)].append(ticket)
    keys = sorted(k for k in set(groups_c) | set(groups_t) if k)
    return [{"key": key, **figures(groups_c[key], groups_t[key])} for key in keys]


def summary(
    check_ins: Sequence[CheckInLike],
    tickets: Sequence[TicketLike],
    dimensions: Sequence[Dimension] = DIMENSIONS,
) -> Report:
    """The figures of all the facts, and of each group of each dimension asked for."""
    return {
        "totals": figures(check_ins, tickets),
        "groups": {dim.value: grouped(dim, check_ins, tickets) for dim in dimensions},
    }
