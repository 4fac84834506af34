"""What generation may change, and each level's services: pure rules, no database."""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from botram_contracts.reference import Catalogue, Regency
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Invalid
from botram_scheduler.domain.generation import (
    MAX_RANGE_DAYS,
    Action,
    GenerateSchedule,
    change_reason,
    check_generation,
    may_change,
    ranking_supersedes,
    service_mixes,
    slot_action,
    slots_to_reconcile,
)
from botram_scheduler.domain.rotation import PlannedSession, Policy, Rotation, Rules, Stop
from botram_scheduler.domain.sessions import Origin, Quotas
from botram_scheduler.rules_file import load_rules

PLANNER = Actor(sub="planner-1", roles=frozenset({Role.PLANNER}))

TODAY = date(2024, 7, 5)


def planned(day: date, key: str = "kecamatan:0:setu", **changes: Any) -> PlannedSession:
    slot = PlannedSession(
        key=key,
        level=Level.KECAMATAN,
        kecamatan="setu",
        desa=None,
        date=day,
        start=time(8),
        end=time(14),
        venue="Kantor Kecamatan Setu",
        quota=Quotas(100),
    )
    return replace(slot, **changes)


@dataclass
class Stored:
    date: date
    start: time = time(8)
    end: time = time(14)
    venue: str | None = "Kantor Kecamatan Setu"
    origin: Origin = Origin.ROTATION
    status: SessionStatus = SessionStatus.SCHEDULED


def test_a_generation_range_runs_forwards_within_a_few_years_and_only_a_preview_looks_back() -> (
    None
):
    check_generation(
        GenerateSchedule(PLANNER, date(2024, 6, 1), date(2024, 6, 30), dry_run=True), TODAY
    )
    check_generation(
        GenerateSchedule(PLANNER, TODAY, TODAY + timedelta(days=MAX_RANGE_DAYS)), TODAY
    )

    refused = {}
    for name, command in {
        "backwards": GenerateSchedule(PLANNER, date(2024, 7, 31), date(2024, 7, 1)),
        "long": GenerateSchedule(PLANNER, TODAY, TODAY + timedelta(days=MAX_RANGE_DAYS + 1)),
        "past": GenerateSchedule(PLANNER, date(2024, 6, 1), date(2024, 7, 4)),
    }.items():
        with pytest.raises(Invalid) as error:
            check_generation(command, TODAY)
        refused[name] = error.value.code
    assert refused == {
        "backwards": "end-before-start",
        "long": "range-too-long",
        "past": "date-in-past",
    }


def test_generation_changes_only_its_own_scheduled_sessions_after_today() -> None:
    tomorrow = TODAY + timedelta(days=1)

    assert may_change(Stored(tomorrow), TODAY)
    assert not may_change(Stored(TODAY), TODAY)
    assert not may_change(Stored(tomorrow, origin=Origin.ROTATION_EDITED), TODAY)
    assert not may_change(Stored(tomorrow, origin=Origin.MANUAL), TODAY)
    assert not may_change(Stored(tomorrow, status=SessionStatus.OPENED), TODAY)
    assert not may_change(Stored(tomorrow, status=SessionStatus.CANCELLED), TODAY)


def test_what_generation_does_with_each_planned_slot() -> None:
    day = date(2024, 7, 13)
    moved = Stored(date(2024, 7, 20))

    assert slot_action(planned(date(2024, 7, 4)), Stored(date(2024, 7, 4)), TODAY) is Action.PAST
    assert slot_action(planned(day), None, TODAY) is Action.CREATED
    assert slot_action(planned(day), Stored(day), TODAY) is Action.UNCHANGED
    assert slot_action(planned(day), moved, TODAY) is Action.RESCHEDULED
    assert slot_action(planned(day, end=time(12)), Stored(day), TODAY) is Action.RESCHEDULED
    opened = replace(moved, status=SessionStatus.OPENED)
    by_hand = replace(moved, origin=Origin.ROTATION_EDITED)
    assert slot_action(planned(day), opened, TODAY) is Action.KEPT
    assert slot_action(planned(day), by_hand, TODAY) is Action.KEPT
    # Planned for today: too late to move a session there.
    assert slot_action(planned(TODAY), Stored(date(2024, 7, 6)), TODAY) is Action.KEPT


def test_the_slots_to_reconcile_follow_stored_slots_the_rules_pushed_past_the_range() -> None:
    end = date(2024, 7, 31)
    inside = planned(date(2024, 7, 27), key="kecamatan:0:setu")
    later = planned(date(2024, 8, 3), key="kecamatan:0:setu-later")
    pushed = planned(date(2024, 8, 10), key="kecamatan:0:pushed")
    earlier = planned(date(2024, 7, 6), key="kecamatan:0:first")
    by_key = {p.key: p for p in (inside, later, pushed, earlier)}

    slots = slots_to_reconcile(
        [inside, later, earlier], end, ["kecamatan:0:pushed", "kecamatan:0:gone"], by_key
    )

    assert [s.key for s in slots] == ["kecamatan:0:first", "kecamatan:0:setu", "kecamatan:0:pushed"]


def test_a_change_by_generation_says_why_with_the_holiday_when_there_is_one() -> None:
    assert change_reason(None) == "Jadwal rotasi Botram diperbarui"
    assert change_reason("Hari Raya Idul Adha") == (
        "Jadwal rotasi Botram diperbarui: Hari Raya Idul Adha"
    )


def test_kecamatan_sessions_offer_the_catalogue_and_desa_sessions_the_latest_ranking(
    catalogue: Catalogue, regions: Regency
) -> None:
    rules = load_rules(None, regions, catalogue)
    eligible = [s.code for s in catalogue.desa_eligible()]
    not_eligible = next(c for c in catalogue.codes() if c not in eligible)
    ranked = [not_eligible, eligible[-1], eligible[-2]]

    before = service_mixes(catalogue, rules, None, None)
    after = service_mixes(catalogue, rules, ranked, "ranking-1")

    assert before[Level.KECAMATAN].services == catalogue.codes()
    assert before[Level.KECAMATAN].ranking_id is None
    assert before[Level.DESA].ranking_id is None
    assert before[Level.DESA].services == list(rules.default_services)[: rules.top_services]
    assert after[Level.DESA].ranking_id == "ranking-1"
    assert after[Level.DESA].services[:2] == [eligible[-1], eligible[-2]]
    assert len(after[Level.DESA].services) == rules.top_services
    assert not_eligible not in after[Level.DESA].services
    assert after[Level.KECAMATAN].ranking_id is None


def test_an_older_ranking_arriving_late_does_not_replace_the_stored_one() -> None:
    stored = datetime(2024, 7, 1, 12, tzinfo=UTC)

    assert ranking_supersedes(None, stored)
    assert ranking_supersedes(stored, stored + timedelta(seconds=1))
    assert ranking_supersedes(stored, stored)  # the same ranking again: harmless
    assert not ranking_supersedes(stored, stored - timedelta(seconds=1))
    # SQLite hands the stored time back naive: it is UTC.
    assert not ranking_supersedes(stored.replace(tzinfo=None), stored - timedelta(seconds=1))


def _weekly_rules(holidays: Any, extra: dict[date, str], policy: Policy) -> Rules:
    """Kecamatan A, B, C on Saturdays from 6 July 2024; no desa sessions until 2030."""
    saturdays = Rotation(
        level=Level.KECAMATAN,
        weekdays=frozenset({5}),
        first_date=date(2024, 7, 6),
        stops=(Stop("a"), Stop("b"), Stop("c")),
        start=time(8),
        end=time(14),
        venue=None,
        quota=Quotas(100),
    )
    desa = replace(saturdays, level=Level.DESA, first_date=date(2030, 1, 1), stops=(Stop("x"),))
    return Rules(
        kecamatan=saturdays,
        desa=desa,
        policy=policy,
        public_holidays=holidays,
        extra_blocked=extra,
        top_services=15,
        ranking_level=Level.KECAMATAN,
        default_services=(),
    )


def test_the_rules_merge_the_holiday_calendar_with_their_own_blocked_days(
    fake_holidays: Any,
) -> None:
    calendar = fake_holidays({date(2024, 7, 13): "Libur A"})
    rules = _weekly_rules(
        calendar,
        {date(2024, 7, 13): "Cuti bersama", date(2024, 7, 20): "Rapat"},
        Policy.MOVE,
    )

    days = rules.blocked_days(date(2025, 1, 1), date(2025, 2, 1))

    assert days == {date(2024, 7, 13): "Libur A; Cuti bersama", date(2024, 7, 20): "Rapat"}
    assert calendar.asked == [range(2024, 2026)]  # from the rotation's first year


@pytest.mark.parametrize(
    ("policy", "saturdays", "moved_to"),
    [
        (Policy.MOVE, [(date(2024, 7, 6), "a"), (date(2024, 7, 20), "b")], date(2024, 7, 20)),
        (Policy.SKIP, [(date(2024, 7, 6), "a"), (date(2024, 7, 20), "c")], None),
    ],
)
def test_a_holiday_moves_or_skips_the_stop_due_that_day(
    fake_holidays: Any,
    policy: Policy,
    saturdays: list[tuple[date, str]],
    moved_to: date | None,
) -> None:
    rules = _weekly_rules(fake_holidays({date(2024, 7, 13): "Libur"}), {}, policy)

    plan = rules.plan(date(2024, 7, 1), date(2024, 7, 20))

    assert [(s.date, s.kecamatan) for s in plan.sessions] == saturdays
    [blocked] = plan.blocked
    assert (blocked.date, blocked.kecamatan, blocked.reason, blocked.action, blocked.moved_to) == (
        date(2024, 7, 13),
        "b",
        "Libur",
        policy,
        moved_to,
    )
