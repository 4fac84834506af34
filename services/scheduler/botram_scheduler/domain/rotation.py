"""The weekly rotations: each level's circular list of places, walked day by day around the
holidays, and the plan of sessions it gives for any range."""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from enum import StrEnum

from botram_contracts.vocabulary import Level
from botram_runtime.errors import DomainError
from botram_scheduler.domain.sessions import Quotas


class RulesError(DomainError):
    """The rotation rules cannot be used; the message says which entry and why.

    A 500: the deployment's rules file is wrong, not the request.
    """

    status = 500
    default_code = "invalid-rules"


class Policy(StrEnum):
    """What a holiday does to the session due that day: move it to the next rotation day
    (the rotation continues one slot later), or skip it (that place waits a cycle)."""

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

    level: Level
    weekdays: frozenset[int]  # date.weekday(): Monday = 0
    first_date: date
    stops: tuple[Stop, ...]
    start: time
    end: time
    venue: str | None  # a template: {kecamatan}, {desa}
    quota: Quotas
    overrides: Mapping[date, Stop] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedSession:
    """A session the rules produce; `key` names its rotation slot, stable across runs."""

    key: str
    level: Level
    kecamatan: str
    desa: str | None
    date: date
    start: time
    end: time
    venue: str | None
    quota: Quotas


@dataclass(frozen=True)
class BlockedDay:
    """A rotation day that had no rotation session, and what happened to the one due."""

    date: date
    level: Level
    reason: str
    action: Policy
    kecamatan: str
    desa: str | None
    moved_to: dt.date | None = None


@dataclass
class Plan:
    """The sessions of a range, by date, and the rotation days blocked there."""

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


# The public holidays of some years, each with its name as planners read it.
HolidayCalendar = Callable[[range], Mapping[date, str]]


@dataclass(frozen=True)
class Rules:
    """Resolved rules: rotations over slugs, blocked dates, the desa service mix policy."""

    kecamatan: Rotation
    desa: Rotation
    policy: Policy
    public_holidays: HolidayCalendar
    extra_blocked: dict[date, str]  # cuti bersama and blackout dates
    top_services: int
    ranking_level: Level
    default_services: tuple[str, ...]

    def quotas(self, level: Level) -> Quotas:
        """The level's quotas: for generated sessions and those put on the calendar by hand."""
        return self.kecamatan.quota if level == Level.KECAMATAN else self.desa.quota

    def blocked_days(self, start: date, end: date) -> dict[date, str]:
        """Days with no rotation session, with the reason planners read (Indonesian)."""
        years = range(min(start.year, self.kecamatan.first_date.year), end.year + 1)
        days = dict(self.public_holidays(years))
        for day, reason in self.extra_blocked.items():
            days[day] = f"{days[day]}; {reason}" if day in days else reason
        return days

    def plan(self, start: date, end: date) -> Plan:
        """Both rotations' sessions in [start, end], by date, and every blocked rotation day."""
        first = min(self.kecamatan.first_date, self.desa.first_date)
        blocked = self.blocked_days(min(start, first), end)
        plans = [
            plan_rotation(r, start, end, blocked, self.policy) for r in (self.kecamatan, self.desa)
        ]
        sessions = sorted(
            (s for p in plans for s in p.sessions), key=lambda s: (s.date, s.start, s.level)
        )
        blocked_days = sorted(
            (b for p in plans for b in p.blocked), key=lambda b: (b.date, b.level)
        )
        return Plan(sessions=sessions, blocked=blocked_days)
