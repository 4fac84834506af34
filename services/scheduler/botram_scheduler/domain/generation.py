"""Generating the calendar from the rotation: what it may change, and each level's services."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import Protocol

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor
from botram_runtime.clock import as_utc
from botram_runtime.errors import Invalid
from botram_scheduler.domain.rotation import BlockedDay, PlannedSession, Rules
from botram_scheduler.domain.sessions import Origin

MAX_RANGE_DAYS = 3 * 366
RULES_CHANGED = "Jadwal rotasi Botram diperbarui"


@dataclass(frozen=True)
class GenerateSchedule:
    """Put the rotation's sessions of [start, end] on the calendar, or only preview them."""

    actor: Actor
    start: date
    end: date
    dry_run: bool = False


class Action(StrEnum):
    """What generation did with a planned session."""

    PREVIEW = "preview"  # dry run
    CREATED = "created"  # new
    UNCHANGED = "unchanged"  # already there as planned
    RESCHEDULED = "rescheduled"  # moved to follow the rules
    KEPT = "kept"  # differs, but is past, opened or changed by hand
    PAST = "past"  # before today, not stored


@dataclass(frozen=True)
class ServiceMix:
    """The services a level's generated sessions offer, and the ranking they came from."""

    services: list[str]
    ranking_id: str | None = None


@dataclass
class Generated:
    """A planned session and what generation did with it."""

    planned: PlannedSession
    action: Action
    services: list[str]
    ranking_id: str | None
    session_id: str | None = None


@dataclass
class GenerationResult:
    start: date
    end: date
    dry_run: bool
    sessions: list[Generated] = field(default_factory=list)
    blocked: list[BlockedDay] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(1 for outcome in self.sessions if outcome.action == action)


class StoredSlot(Protocol):
    """What generation reads of a stored rotation session."""

    @property
    def date(self) -> dt.date: ...
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...
    @property
    def venue(self) -> str | None: ...
    @property
    def origin(self) -> Origin: ...
    @property
    def status(self) -> SessionStatus: ...


def check_generation(command: GenerateSchedule, today: date) -> None:
    """A range runs forwards and stays within a few years; only a preview looks at the past."""
    start, end = command.start, command.end
    if end < start:
        raise Invalid(f"'to' {end} is before 'from' {start}", code="end-before-start")
    if (end - start).days > MAX_RANGE_DAYS:
        raise Invalid(f"generate at most {MAX_RANGE_DAYS} days at a time", code="range-too-long")
    if not command.dry_run and end < today:
        raise Invalid(
            f"{end} is in the past (today is {today}): past sessions can only be previewed "
            "with dry_run",
            code="date-in-past",
        )


def may_change(slot: StoredSlot, today: date) -> bool:
    """Generation may change only its own scheduled sessions after today."""
    return (
        slot.origin == Origin.ROTATION
        and slot.status == SessionStatus.SCHEDULED
        and slot.date > today
    )


def differs(slot: StoredSlot, planned: PlannedSession) -> bool:
    """The stored session is not where and when the rules now put it."""
    return (slot.date, slot.start, slot.end, slot.venue) != (
        planned.date,
        planned.start,
        planned.end,
        planned.venue,
    )


def slot_action(planned: PlannedSession, stored: StoredSlot | None, today: date) -> Action:
    """What generating does with one planned slot, given the session stored for it."""
    if planned.date < today:
        return Action.PAST
    if stored is None:
        return Action.CREATED
    if may_change(stored, today) and planned.date > today and differs(stored, planned):
        return Action.RESCHEDULED
    return Action.KEPT if differs(stored, planned) else Action.UNCHANGED


def slots_to_reconcile(
    planned: Iterable[PlannedSession],
    end: date,
    stored_keys: Iterable[str],
    planned_by_key: Mapping[str, PlannedSession],
) -> list[PlannedSession]:
    """The slots planned up to `end`, plus where the rules now put the stored slots of the
    range (a slot pushed past `end` by an override or a holiday must follow, not stay behind);
    by date."""
    targets = {p.key: p for p in planned if p.date <= end}
    for key in stored_keys:
        if key in planned_by_key and key not in targets:
            targets[key] = planned_by_key[key]
    return sorted(targets.values(), key=lambda p: (p.date, p.start, p.level))


def change_reason(holiday: str | None) -> str:
    """Why generation moved or cancelled a session, with the holiday when there is one."""
    return f"{RULES_CHANGED}: {holiday}" if holiday else RULES_CHANGED


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


def service_mixes(
    catalogue: Catalogue, rules: Rules, ranked: Sequence[str] | None, ranking_id: str | None
) -> dict[Level, ServiceMix]:
    """Services per level: the whole catalogue for a kecamatan, and for a desa the mix of the
    latest ranking of the rules' `ranking_level` (`ranked`, None before any)."""
    desa = desa_services(
        ranked,
        [s.code for s in catalogue.desa_eligible()],
        rules.default_services,
        rules.top_services,
    )
    return {
        Level.KECAMATAN: ServiceMix(catalogue.codes()),
        Level.DESA: ServiceMix(desa, ranking_id),
    }


def ranking_supersedes(stored: dt.datetime | None, published_at: dt.datetime) -> bool:
    """A ranking replaces the stored one unless it is older (a late redelivery must not win)."""
    return stored is None or as_utc(stored) <= published_at
