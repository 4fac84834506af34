"""Scheduler rules: pure Python, no I/O."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from enum import StrEnum

from botram_contracts.reference import Desa, Kecamatan, Regency, UnknownRegionError
from botram_contracts.slugs import slugify

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


# --- Places: names as planners write them -------------------------------------------------


def _bare(text: str) -> str:
    return slugify(text).replace("-", "")


def find_kecamatan(regions: Regency, name: str) -> Kecamatan:
    """A kecamatan by name or slug; spellings without spaces ("Muaragembong") also match."""
    try:
        return regions.kecamatan(name)
    except UnknownRegionError:
        same = [kec for kec in regions.kecamatans if _bare(kec.name) == _bare(name)]
        if len(same) == 1:
            return same[0]
        raise


def find_desa(regions: Regency, kecamatan: str, name: str) -> tuple[Kecamatan, Desa]:
    """A desa of a kecamatan; spellings without spaces also match; else where it really is."""
    kec = find_kecamatan(regions, kecamatan)
    same = [desa for desa in kec.desas if _bare(desa.name) == _bare(name)]
    if kec.find_desa(name) is None and len(same) == 1:
        return kec, same[0]
    return kec, regions.desa(kec.slug, name)


# --- The rotation engine ------------------------------------------------------------------


class Policy(StrEnum):
    MOVE = "move"
    SKIP = "skip"


@dataclass(frozen=True)
class Stop:
    """One place a rotation visits: a kecamatan, or a desa of a kecamatan."""

    kecamatan: str
    desa: str | None = None
    kecamatan_name: str = ""
    desa_name: str | None = None


@dataclass(frozen=True)
class Rotation:
    """One level's weekly rotation, resolved against the regency."""

    level: str
    weekdays: frozenset[int]  # date.weekday(): Monday = 0
    first_date: date
    stops: tuple[Stop, ...]
    start: time
    end: time
    venue: str | None  # a template: {kecamatan}, {desa}
    quota: int
    overrides: Mapping[date, Stop] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedSession:
    """A session the rules produce; `key` names its rotation slot, stable across runs."""

    key: str
    level: str
    kecamatan: str
    desa: str | None
    date: date
    start: time
    end: time
    venue: str | None
    quota: int


@dataclass(frozen=True)
class BlockedDay:
    """A rotation day that had no rotation session, and what happened to the one due."""

    date: date
    level: str
    reason: str
    action: Policy
    kecamatan: str
    desa: str | None
    moved_to: date | None = None


@dataclass
class Plan:
    sessions: list[PlannedSession]
    blocked: list[BlockedDay]


def _venue(template: str | None, stop: Stop) -> str | None:
    if template is None:
        return None
    return template.format(kecamatan=stop.kecamatan_name, desa=stop.desa_name or "")


def plan_rotation(
    rotation: Rotation,
    start: date,
    end: date,
    blocked: Mapping[date, str],
    policy: Policy,
) -> Plan:
    """The sessions of one rotation in [start, end], and its blocked days there.

    The rotation is walked from its first date, so any range gives the same answer. Each
    rotation day takes the next stop; a blocked day either passes the stop on to the next
    rotation day (move) or spends it (skip); an override date takes the day without
    spending a stop (the rotation resumes where it left off).
    """
    sessions: list[PlannedSession] = []
    blocked_days: list[BlockedDay] = []
    waiting: list[int] = []  # indexes into blocked_days still waiting for their new date
    visits = len(rotation.stops)
    index = 0
    day = rotation.first_date
    while day <= end:
        override = rotation.overrides.get(day)
        if override is not None:
            sessions.append(_planned(rotation, f"{rotation.level}:override:{day}", override, day))
        elif day.weekday() in rotation.weekdays:
            stop = rotation.stops[index % visits]
            if day in blocked:
                blocked_days.append(
                    BlockedDay(day, rotation.level, blocked[day], policy, stop.kecamatan, stop.desa)
                )
                if policy is Policy.SKIP:
                    index += 1
                else:
                    waiting.append(len(blocked_days) - 1)
            else:
                cycle = index // visits
                place = f"{stop.kecamatan}/{stop.desa}" if stop.desa else stop.kecamatan
                sessions.append(_planned(rotation, f"{rotation.level}:{cycle}:{place}", stop, day))
                for position in waiting:
                    blocked_days[position] = replace(blocked_days[position], moved_to=day)
                waiting.clear()
                index += 1
        day += timedelta(days=1)
    return Plan(
        sessions=[s for s in sessions if start <= s.date <= end],
        blocked=[b for b in blocked_days if start <= b.date <= end],
    )


def _planned(rotation: Rotation, key: str, stop: Stop, day: date) -> PlannedSession:
    return PlannedSession(
        key=key,
        level=rotation.level,
        kecamatan=stop.kecamatan,
        desa=stop.desa,
        date=day,
        start=rotation.start,
        end=rotation.end,
        venue=_venue(rotation.venue, stop),
        quota=rotation.quota,
    )


def desa_services(
    ranking: Sequence[str] | None,
    eligible: Sequence[str],
    defaults: Sequence[str],
    top: int,
) -> list[str]:
    """The desa service mix: the top `top` eligible services by demand, topped up by defaults.

    `ranking` is service codes, most demanded first (None before any ranking exists).
    """
    allowed = set(eligible)
    ranked = [code for code in (ranking or []) if code in allowed]
    mix = list(dict.fromkeys([*ranked, *[c for c in defaults if c in allowed]]))
    return mix[:top]
