"""The pre-registration rules: slots, places held until a slot ends, the head start."""

from datetime import UTC, datetime, time, timedelta

import pytest

from botram_contracts.vocabulary import SessionStatus
from botram_registry.domain.pre_registration import (
    PreRegistrationStatus,
    Slot,
    check_places,
    check_slot,
    display_code,
    find_slot,
    holds_place,
    moment,
    normalize_code,
    on_time,
    queue_key,
    require_upcoming,
    slots_of,
)
from botram_registry.domain.queue import Waiting, choose_next, fair_order
from botram_runtime.errors import DomainError

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 WIB


def test_a_day_is_cut_into_half_hour_slots_the_last_one_shorter() -> None:
    slots = slots_of(time(8), time(9, 45), 30)

    assert slots == [
        Slot(time(8), time(8, 30)),
        Slot(time(8, 30), time(9)),
        Slot(time(9), time(9, 30)),
        Slot(time(9, 30), time(9, 45)),
    ]


def test_only_a_slot_that_starts_at_the_asked_time_is_taken() -> None:
    slots = slots_of(time(8), time(10), 30)

    assert find_slot(slots, time(8, 30)) == Slot(time(8, 30), time(9))
    with pytest.raises(DomainError) as refused:
        find_slot(slots, time(8, 15))
    assert refused.value.code == "unknown-slot" and refused.value.status == 422


def test_slot_times_are_wib() -> None:
    assert moment(NOW.date(), time(8)) == NOW


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (SessionStatus.SCHEDULED, True),
        (SessionStatus.OPENED, True),
        (SessionStatus.CLOSED, False),
        (SessionStatus.CANCELLED, False),
    ],
)
def test_only_an_upcoming_session_takes_pre_registrations(
    status: SessionStatus, allowed: bool
) -> None:
    if allowed:
        require_upcoming("s-1", status)
        return
    with pytest.raises(DomainError) as refused:
        require_upcoming("s-1", status)
    assert refused.value.code == "session-not-upcoming"


def test_a_slot_refuses_once_full_or_over() -> None:
    end = NOW + timedelta(minutes=30)
    check_slot(end, NOW, booked=9, capacity=10)

    with pytest.raises(DomainError, match="slot penuh"):
        check_slot(end, NOW, booked=10, capacity=10)
    with pytest.raises(DomainError) as passed:
        check_slot(end, end, booked=0, capacity=10)
    assert passed.value.code == "slot-passed"


def test_issued_tickets_and_held_places_share_the_quota() -> None:
    check_places("KK", issued=5, held=2, quota=8)
    check_places("KK", issued=500, held=200, quota=None)

    with pytest.raises(DomainError) as refused:
        check_places("KK", issued=6, held=2, quota=8)
    assert refused.value.code == "quota-full"


def test_a_place_is_held_until_the_slot_ends_then_released() -> None:
    end = NOW + timedelta(minutes=30)
    booked, used = PreRegistrationStatus.BOOKED, PreRegistrationStatus.CHECKED_IN

    assert holds_place(booked, end, NOW)
    assert not holds_place(booked, end, end)  # a no-show: released for walk-ins
    assert not holds_place(used, end, NOW)  # checked in: its ticket counts instead
    assert holds_place(booked, end.replace(tzinfo=None), NOW)  # SQLite gives naive UTC
    assert on_time(NOW, end) and not on_time(end, end)


def test_codes_read_back_whatever_the_case_and_dashes() -> None:
    assert display_code("ABCDE23456") == "ABCDE-23456"
    assert normalize_code(" abcde-23456 ") == "ABCDE23456"


def order(tickets: list[tuple[str, int, int | None, bool]]) -> list[Waiting]:
    """Waiting tickets (number, seq, anchor, priority) in the queries' order."""
    ranked = sorted(tickets, key=lambda t: queue_key(t[1], t[2]))
    return [Waiting(number, priority, number) for number, _, _, priority in ranked]


def test_a_pre_registered_ticket_goes_just_before_its_anchor_after_earlier_ones() -> None:
    waiting = order(
        [
            ("W1", 1, None, False),
            ("W2", 2, None, False),
            ("P3", 3, 2, False),  # pre-registered: ahead of W2 (came within the head start)
            ("P4", 4, 2, False),  # came after P3, anchored at W2 too: after P3
            ("W5", 5, None, False),
        ]
    )

    assert [w.number for w in waiting] == ["W1", "P3", "P4", "W2", "W5"]


def test_the_head_start_leaves_the_priority_class_and_its_alternation_intact() -> None:
    waiting = order(
        [
            ("W1", 1, None, False),
            ("L2", 2, None, True),  # lansia walk-in
            ("P3", 3, 1, False),  # pre-registered regular: ahead of W1, not of the class
            ("L4", 4, None, True),
            ("L5", 5, None, True),
        ]
    )

    assert [w.number for w in fair_order(waiting, 0, 2)] == ["L2", "L4", "P3", "L5", "W1"]
    first = choose_next(waiting, priority_streak=2, priority_per_regular=2)
    assert first is not None and first.number == "P3"  # the regular turn goes to P3
