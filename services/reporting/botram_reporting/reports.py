"""Report figures computed from check-in and ticket facts: pure functions, no I/O.

Durations are kept per ticket (see store.py), so means and percentiles are exact, never
estimated from histogram buckets. Percentiles use the nearest-rank definition: p-th
percentile = the smallest value with at least p % of the values at or below it
(`sorted(values)[ceil(p/100 * n) - 1]`); it is always one of the observed durations.
Means are rounded to 3 decimals (milliseconds).
"""

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, Protocol

AGE_BANDS = ("0-17", "18-29", "30-44", "45-59", "60+")
SEXES = ("F", "M")
OUTCOMES = ("served", "referred", "rejected")
NO_SHOW = "no_show"
DIMENSIONS = ("kecamatan", "desa", "service", "agency", "day", "week", "month")


class CheckInLike(Protocol):
    id: str
    session_id: str
    level: str
    kecamatan: str
    desa: str | None
    day: date
    hour: int
    sex: str
    age_band: str
    resident: bool


class TicketLike(Protocol):
    id: str
    session_id: str
    service: str
    agency: str
    check_in_id: str | None
    level: str | None
    kecamatan: str | None
    desa: str | None
    day: date | None
    called: bool
    waited_seconds: float | None
    outcome: str | None
    service_seconds: float | None


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
        **{outcome: outcomes[outcome] for outcome in OUTCOMES},
        "no_shows": outcomes[NO_SHOW],
        "waiting": sum(1 for t in tickets if not t.called and t.outcome is None),
        "wait_seconds": duration_stats(
            t.waited_seconds for t in tickets if t.waited_seconds is not None
        ),
        "service_seconds": duration_stats(
            t.service_seconds for t in tickets if t.service_seconds is not None
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
_PLACE_TIME: dict[str, Callable[[Any], str]] = {
    "kecamatan": lambda row: row.kecamatan,
    "desa": lambda row: f"{row.kecamatan}/{row.desa}" if row.desa else "",
    "day": lambda row: row.day.isoformat(),
    "week": lambda row: week_of(row.day),
    "month": lambda row: row.day.strftime("%Y-%m"),
    "session": lambda row: row.session_id,
}
_BY_TICKET: dict[str, Callable[[Any], str]] = {
    "service": lambda ticket: ticket.service,
    "agency": lambda ticket: ticket.agency,
}


def grouped(
    dimension: str, check_ins: Sequence[CheckInLike], tickets: Sequence[TicketLike]
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
    dimensions: Sequence[str] = DIMENSIONS,
) -> dict[str, Any]:
    return {
        "totals": figures(check_ins, tickets),
        "groups": {dim: grouped(dim, check_ins, tickets) for dim in dimensions},
    }


CSV_COLUMNS = (
    "group",
    "key",
    "check_ins",
    "tickets_issued",
    "served",
    "referred",
    "rejected",
    "no_shows",
    "waiting",
    "wait_mean_seconds",
    "wait_p50_seconds",
    "wait_p90_seconds",
    "service_mean_seconds",
    "service_p50_seconds",
    "service_p90_seconds",
    "residents",
    "non_residents",
    *(f"sex_{sex}" for sex in SEXES),
    *(f"age_{band}" for band in AGE_BANDS),
)


def _csv_row(group: str, key: str, cell: dict[str, Any]) -> list[Any]:
    wait, service = cell["wait_seconds"], cell["service_seconds"]
    values = [group, key]
    values += [cell[name] for name in CSV_COLUMNS[2:9]]
    values += [wait["mean"], wait["p50"], wait["p90"]]
    values += [service["mean"], service["p50"], service["p90"]]
    values += [cell["residents"], cell["non_residents"]]
    values += [cell["sex"][sex] for sex in SEXES]
    values += [cell["age_bands"][band] for band in AGE_BANDS]
    return ["" if v is None else v for v in values]


def summary_csv(report: dict[str, Any]) -> str:
    """The summary as CSV: a `total` row, then one row per group (arrivals by hour: JSON only)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_csv_row("total", "", report["totals"]))
    for dimension, cells in report["groups"].items():
        for cell in cells:
            writer.writerow(_csv_row(dimension, cell["key"], cell))
    return out.getvalue()


def demand_ranking(
    tickets: Iterable[TicketLike], catalogue: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Services ranked by tickets issued (ties by code); catalogue services with none last."""
    counts: Counter[tuple[str, str]] = Counter((t.service, t.agency) for t in tickets)
    for code, agency in catalogue:
        counts.setdefault((code, agency), 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return [
        {"service": service, "agency": agency, "tickets": count}
        for (service, agency), count in ranked
    ]
