"""The fair queue: who is called next, the order of the rest, the estimated waits."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.queue import (
    QueueShape,
    Waiting,
    check_queue,
    choose_next,
    estimated_wait,
    fair_order,
    next_streak,
    next_to_call,
    place_in_queue,
    place_of_arrival,
    service_queue,
)
from botram_registry.domain.tickets import TicketStatus
from botram_runtime.errors import DomainError


def call_order(queue: list[Waiting], per_regular: int, streak: int = 0) -> list[str]:
    """The tickets in the order desks calling one after another get them (`choose_next`)."""
    order, waiting = [], list(queue)
    while (chosen := choose_next(waiting, streak, per_regular)) is not None:
        order.append(chosen.ticket_id)
        streak = next_streak(chosen, streak)
        waiting.remove(chosen)
    return order


def test_priority_tickets_go_first_but_never_starve_regular_ones() -> None:
    queue = [Waiting(f"r{i}", False) for i in range(3)] + [Waiting(f"p{i}", True) for i in range(5)]

    assert call_order(queue, per_regular=2) == ["p0", "p1", "r0", "p2", "p3", "r1", "p4", "r2"]


def test_each_class_is_first_in_first_out() -> None:
    queue = [Waiting("r0", False), Waiting("p0", True), Waiting("r1", False), Waiting("p1", True)]

    order = call_order(queue, per_regular=1)

    assert [t for t in order if t.startswith("r")] == ["r0", "r1"]
    assert [t for t in order if t.startswith("p")] == ["p0", "p1"]


def test_the_fair_order_continues_the_streak_the_desks_left_off() -> None:
    queue = [Waiting("r0", False), Waiting("p0", True), Waiting("p1", True)]

    fresh = [w.ticket_id for w in fair_order(queue, priority_streak=0, priority_per_regular=2)]
    after_two = [w.ticket_id for w in fair_order(queue, priority_streak=2, priority_per_regular=2)]

    assert fresh == ["p0", "p1", "r0"]
    assert after_two == ["r0", "p0", "p1"]


queues = st.lists(st.booleans(), max_size=30).map(
    lambda flags: [Waiting(f"t{i}", priority) for i, priority in enumerate(flags)]
)
streaks = st.integers(min_value=0, max_value=6)
per_regulars = st.integers(min_value=0, max_value=4)


@given(queues, streaks, per_regulars)
def test_every_waiting_ticket_s_place_is_the_order_in_which_desks_will_call_it(
    queue: list[Waiting], streak: int, per_regular: int
) -> None:
    order = [w.ticket_id for w in fair_order(queue, streak, per_regular)]

    assert order == call_order(queue, per_regular, streak)
    assert [place_in_queue(queue, t, streak, per_regular) for t in order] == list(
        range(1, len(order) + 1)
    )


@given(queues, streaks, per_regulars, st.booleans())
def test_an_arriving_ticket_is_told_the_place_it_will_be_called_at(
    queue: list[Waiting], streak: int, per_regular: int, priority: bool
) -> None:
    shape = QueueShape(
        priority_waiting=sum(w.priority for w in queue),
        regular_waiting=sum(not w.priority for w in queue),
        priority_streak=streak,
        priority_per_regular=per_regular,
    )
    arrival = Waiting("new", priority)

    place = place_of_arrival(shape, priority)

    assert place == call_order([*queue, arrival], per_regular, streak).index("new") + 1


@given(queues, streaks, per_regulars, st.booleans())
def test_an_arrival_never_brings_a_waiting_ticket_closer(
    queue: list[Waiting], streak: int, per_regular: int, priority: bool
) -> None:
    # So a waiting ticket only moves closer when a desk calls: the `ticket.called` event's
    # `up_next` is all the notifier needs to tell a citizen the turn is near.
    before = call_order(queue, per_regular, streak)
    after = call_order([*queue, Waiting("new", priority)], per_regular, streak)

    assert all(after.index(t) >= before.index(t) for t in before)


def test_a_priority_citizen_arriving_behind_a_long_queue_is_told_a_near_place() -> None:
    shape = QueueShape(
        priority_waiting=1, regular_waiting=10, priority_streak=0, priority_per_regular=2
    )

    assert place_of_arrival(shape, priority=True) == 2  # not 12: priority goes first
    assert place_of_arrival(shape, priority=False) == 12
    after_two = QueueShape(1, 10, priority_streak=2, priority_per_regular=2)
    assert place_of_arrival(after_two, priority=True) == 3  # a regular call is due first


def test_more_desks_shorten_the_estimated_wait() -> None:
    assert estimated_wait(1, being_served=0, mean_seconds=300, desks=1) == 0
    assert estimated_wait(3, being_served=1, mean_seconds=300, desks=1) == 900
    assert estimated_wait(3, being_served=1, mean_seconds=300, desks=3) == 300
    assert estimated_wait(2, being_served=0, mean_seconds=300, desks=0) == 300


def test_an_empty_queue_has_nobody_to_call() -> None:
    with pytest.raises(DomainError) as error:
        next_to_call("dukcapil-kk", [], priority_streak=0, priority_per_regular=2)

    assert (error.value.status, error.value.code) == (404, "queue-empty")
    assert next_to_call("dukcapil-kk", [Waiting("r0", False)], 0, 2) == Waiting("r0", False)


def test_a_desk_calls_only_from_a_queue_the_session_offers() -> None:
    check_queue("dukcapil-kk", ["dukcapil-kk"])
    with pytest.raises(DomainError) as error:
        check_queue("pmi-donor-darah", ["dukcapil-kk"])

    assert (error.value.status, error.value.code) == (404, "service-not-offered")


T0 = datetime(2024, 7, 6, 1, 0, tzinfo=UTC)


@dataclass
class QueuedTicket:
    id: str
    number: str
    status: TicketStatus = TicketStatus.WAITING
    priority: bool = False
    outcome: Outcome | None = None
    called_at: datetime | None = None
    completed_at: datetime | None = None


def done(number: str, minutes: int, outcome: Outcome = Outcome.SERVED) -> QueuedTicket:
    return QueuedTicket(
        id=number,
        number=number,
        status=TicketStatus.COMPLETED,
        outcome=outcome,
        called_at=T0,
        completed_at=T0 + timedelta(minutes=minutes),
    )


def test_a_service_queue_counts_and_estimates_from_its_tickets() -> None:
    tickets = [
        done("KK-001", 4),
        done("KK-002", 6, Outcome.REJECTED),
        QueuedTicket("KK-003", "KK-003", TicketStatus.CALLED, called_at=T0),
        QueuedTicket("KK-004", "KK-004"),
        QueuedTicket("KK-005", "KK-005", priority=True),
        QueuedTicket("KK-006", "KK-006", TicketStatus.NO_SHOW),
    ]

    queue = service_queue(
        "dukcapil-kk",
        "dukcapil",
        tickets,
        priority_streak=0,
        desks_lately=0,
        prior_mean_seconds=900,
        priority_per_regular=2,
    )

    assert (queue.waiting, queue.called, queue.served) == (2, 1, 1)
    assert queue.now_serving == ["KK-003"]
    assert queue.mean_service_seconds == 300  # (4 + 6) / 2 minutes; the prior is not used
    assert queue.active_desks == 1  # the called ticket keeps a desk busy
    assert [(p.number, p.position, p.estimated_wait_seconds) for p in queue.positions] == [
        ("KK-005", 1, 300.0),
        ("KK-004", 2, 600.0),
    ]
    assert queue.estimated_wait_seconds == 900.0  # behind both, one at the desk


def test_before_any_completion_the_catalogue_s_mean_is_the_estimate() -> None:
    tickets = [QueuedTicket("KK-001", "KK-001"), QueuedTicket("KK-002", "KK-002")]

    queue = service_queue(
        "dukcapil-kk",
        "dukcapil",
        tickets,
        priority_streak=0,
        desks_lately=2,
        prior_mean_seconds=600,
        priority_per_regular=2,
    )

    assert (queue.mean_service_seconds, queue.active_desks) == (600, 2)
    assert [p.estimated_wait_seconds for p in queue.positions] == [0.0, 300.0]
    assert queue.estimated_wait_seconds == 600.0
