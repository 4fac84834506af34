"""A session's rules, pure: its lifecycle, its times, its services and what the clock does."""

from datetime import UTC, date, datetime, time

import pytest

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.clock import JAKARTA
from botram_runtime.errors import Conflict, Forbidden, Invalid
from botram_scheduler.domain.sessions import (
    TRANSITIONS,
    Origin,
    Quotas,
    changes_nothing,
    check_actor_may,
    check_reschedulable,
    check_session_times,
    check_transition,
    edited_by_hand,
    lifecycle_step,
    quotas,
    session_services,
)

S = SessionStatus
ALLOWED = {
    (S.SCHEDULED, S.OPENED),
    (S.SCHEDULED, S.CANCELLED),
    (S.OPENED, S.CLOSED),
    (S.OPENED, S.CANCELLED),  # an emergency
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_scheduled_or_opened_to_cancelled_and_the_forward_steps_are_allowed(
    current: SessionStatus, target: SessionStatus
) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target)
        assert target in TRANSITIONS[current]
        return
    with pytest.raises(Conflict) as refused:
        check_transition(current, target)
    assert (refused.value.code, refused.value.status) == ("invalid-transition", 409)
    assert refused.value.detail == f"a {current.value} session cannot become {target.value}"


def test_only_an_operator_cancels_an_opened_session() -> None:
    planner = Actor(sub="p", roles=frozenset({Role.PLANNER}))
    operator = Actor(sub="o", roles=frozenset({Role.OPERATOR}))

    check_actor_may(planner, S.SCHEDULED, S.CANCELLED)
    check_actor_may(operator, S.OPENED, S.CANCELLED)
    check_actor_may(planner, S.OPENED, S.CLOSED)
    with pytest.raises(Forbidden) as refused:
        check_actor_may(planner, S.OPENED, S.CANCELLED)
    assert (refused.value.status, refused.value.code) == (403, "operator-cancels-opened")


def test_a_status_read_back_as_a_plain_string_is_checked_the_same() -> None:
    check_transition("scheduled", S.OPENED)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="a closed session cannot become opened"):
        check_transition("closed", S.OPENED)  # type: ignore[arg-type]


def test_opening_an_open_session_or_closing_a_closed_one_changes_nothing() -> None:
    assert changes_nothing(S.OPENED, S.OPENED)
    assert changes_nothing(S.CLOSED, S.CLOSED)
    assert not changes_nothing(S.CANCELLED, S.CANCELLED)  # cancelling twice is refused
    assert not changes_nothing(S.SCHEDULED, S.OPENED)


def test_an_opened_session_is_moved_by_an_operator_only() -> None:
    operator = Actor(sub="op-1", roles=frozenset({Role.OPERATOR}))
    planner = Actor(sub="planner-1", roles=frozenset({Role.PLANNER}))

    check_reschedulable(S.OPENED, operator)
    check_reschedulable(S.SCHEDULED, planner)
    with pytest.raises(Forbidden) as refused:
        check_reschedulable(S.OPENED, planner)
    assert refused.value.code == "operator-moves-opened"
    with pytest.raises(Conflict):
        check_reschedulable(S.CLOSED, operator)


def test_only_a_scheduled_session_can_be_rescheduled() -> None:
    check_reschedulable(S.SCHEDULED)
    for status in (S.OPENED, S.CLOSED, S.CANCELLED):
        with pytest.raises(Conflict) as refused:
            check_reschedulable(status)
        assert refused.value.code == "invalid-transition"
        assert refused.value.detail == f"a {status.value} session cannot be rescheduled"


def test_a_session_is_today_or_later_and_ends_after_it_starts() -> None:
    today = date(2024, 7, 5)
    check_session_times(today, today, time(8), time(14))

    with pytest.raises(Invalid) as past:
        check_session_times(date(2024, 7, 4), today, time(8), time(14))
    with pytest.raises(Invalid) as backwards:
        check_session_times(today, today, time(14), time(8))
    with pytest.raises(Invalid) as empty:
        check_session_times(today, today, time(8), time(8))

    assert (past.value.code, past.value.status) == ("date-in-past", 422)
    assert past.value.detail == "2024-07-04 is in the past (today is 2024-07-05)"
    assert backwards.value.code == empty.value.code == "end-before-start"


def test_a_session_offers_the_catalogue_for_its_level_unless_told_otherwise(
    catalogue: Catalogue,
) -> None:
    kecamatan = session_services(catalogue, Level.KECAMATAN, None)
    desa = session_services(catalogue, Level.DESA, None)

    assert kecamatan == catalogue.codes() and len(kecamatan) == 45
    assert desa == [s.code for s in catalogue.desa_eligible()] and len(desa) < len(kecamatan)


def test_requested_services_are_known_codes_at_least_one_each_once(catalogue: Catalogue) -> None:
    first, second = catalogue.codes()[:2]

    assert session_services(catalogue, Level.DESA, [second, first, second]) == [second, first]
    with pytest.raises(Invalid) as unknown:
        session_services(catalogue, Level.KECAMATAN, [first, "no-such-service"])
    with pytest.raises(Invalid) as none:
        session_services(catalogue, Level.KECAMATAN, [])
    assert unknown.value.code == "unknown-service" and "no-such-service" in unknown.value.detail
    assert none.value.code == "no-services"


def test_each_service_gets_the_quota() -> None:
    assert quotas(["a", "b"]) == {"a": 100, "b": 100}
    assert quotas(["a"], Quotas(40)) == {"a": 40}
    assert quotas(["a", "b"], Quotas(40, {"b": 150})) == {"a": 40, "b": 150}


def test_a_rotation_session_changed_by_hand_is_marked_so_generation_leaves_it() -> None:
    assert edited_by_hand(Origin.ROTATION) is Origin.ROTATION_EDITED
    assert edited_by_hand(Origin.ROTATION_EDITED) is Origin.ROTATION_EDITED
    assert edited_by_hand(Origin.MANUAL) is Origin.MANUAL
    assert edited_by_hand("rotation") is Origin.ROTATION_EDITED  # type: ignore[arg-type]


SATURDAY = date(2024, 7, 6)


def at(hour: int, minute: int = 0, day: date = SATURDAY) -> datetime:
    """That time in Bekasi, as the UTC time a clock gives."""
    return datetime.combine(day, time(hour, minute), JAKARTA).astimezone(UTC)


@pytest.mark.parametrize(
    ("status", "updated_at", "now", "step"),
    [
        (S.SCHEDULED, at(6), at(7, 59), None),  # not yet
        (S.SCHEDULED, at(6), at(8), S.OPENED),  # its start
        (S.SCHEDULED, at(6), at(13, 59), S.OPENED),  # late, but still its hours
        (S.SCHEDULED, at(6), at(14), None),  # its day passed unopened: for a planner
        (S.OPENED, at(8), at(13, 59), None),  # open mid-day
        (S.OPENED, at(8), at(14), S.CLOSED),  # its end
        (S.OPENED, at(8), at(9, day=date(2024, 7, 7)), S.CLOSED),  # the clock was down
        (S.OPENED, at(15), at(16), None),  # opened by hand after its end: running late
        (S.CLOSED, at(8), at(16), None),
        (S.CANCELLED, at(6), at(9), None),
    ],
)
def test_the_clock_opens_a_session_at_its_start_and_closes_it_at_its_end(
    status: SessionStatus, updated_at: datetime, now: datetime, step: SessionStatus | None
) -> None:
    assert lifecycle_step(status, SATURDAY, time(8), time(14), updated_at, now) == step


def test_the_clock_reads_a_naive_stored_time_as_utc() -> None:
    # SQLite hands datetimes back naive; opened at 13:00 WIB = 06:00 UTC, before the end.
    opened = datetime(2024, 7, 6, 6, 0)

    assert lifecycle_step(S.OPENED, SATURDAY, time(8), time(14), opened, at(14)) == S.CLOSED
