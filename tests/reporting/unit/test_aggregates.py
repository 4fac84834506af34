"""What each event adds to the aggregates (the contract's metrics and the queue gauge)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botram_contracts.events import (
    CitizenTicketsAddedV1,
    ServiceCompletedV1,
    SessionOpenedV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
    TicketRef,
)
from botram_reporting.domain.aggregates import (
    SERVICE_BUCKETS,
    WAIT_BUCKETS,
    Delta,
    deltas_for,
    labels,
    observe,
    sum_deltas,
)

QUEUE = (("session_id", "s-1"), ("agency", "dukcapil"), ("service", "dukcapil-kk"))
SERVICE = (("agency", "dukcapil"), ("service", "dukcapil-kk"))


def test_a_check_in_counts_once_and_each_of_its_tickets_as_issued_and_waiting(
    check_in: Callable[..., Any],
) -> None:
    data = check_in(1, ("dukcapil-kk", "dukcapil"), ("pmi-donor-darah", "pmi"))

    assert deltas_for(data) == [
        Delta("checkins", (("level", "kecamatan"), ("kecamatan", "sukatani"))),
        Delta(
            "tickets_issued",
            (("level", "kecamatan"), ("agency", "dukcapil"), ("service", "dukcapil-kk")),
        ),
        Delta("queue_waiting", QUEUE),
        Delta(
            "tickets_issued",
            (("level", "kecamatan"), ("agency", "pmi"), ("service", "pmi-donor-darah")),
        ),
        Delta(
            "queue_waiting",
            (("session_id", "s-1"), ("agency", "pmi"), ("service", "pmi-donor-darah")),
        ),
    ]


def test_tickets_added_to_a_check_in_are_tickets_but_not_a_new_check_in(
    check_in: Callable[..., Any],
) -> None:
    original = check_in(1)
    added = CitizenTicketsAddedV1(
        check_in_id="c1",
        session_id="s-1",
        level="desa",
        kecamatan="sukatani",
        desa="sukamanah",
        citizen="0" * 64,
        priority=False,
        reason="added",
        tickets=[
            TicketRef(
                ticket_id="c1-t1", service="pmi-donor-darah", agency="pmi", number="P-1", position=1
            )
        ],
        added_at=original.checked_in_at,
    )

    names = [d.name for d in deltas_for(added)]

    assert names == ["tickets_issued", "queue_waiting"]
    assert dict(deltas_for(added)[0].labels)["level"] == "desa"


def test_a_call_leaves_the_queue_and_observes_the_wait(ticket: Callable[..., Any]) -> None:
    data = TicketCalledV1(**ticket(1), number="X-1", waited_seconds=300.0)

    assert deltas_for(data) == [
        Delta("queue_waiting", QUEUE, -1.0),
        Delta("wait_seconds_bucket", (*SERVICE, ("le", "300.0"))),
        Delta("wait_seconds_sum", SERVICE, 300.0),
        Delta("wait_seconds_count", SERVICE),
    ]


def test_a_ticket_ended_by_its_session_leaves_the_queue(ticket: Callable[..., Any]) -> None:
    now = datetime(2024, 7, 6, 7, tzinfo=UTC)
    expired = TicketExpiredV1(**ticket(1), number="X-1", expired_at=now)
    cancelled = TicketCancelledV1(**ticket(1), number="X-1", reason="banjir", cancelled_at=now)

    assert deltas_for(expired) == deltas_for(cancelled) == [Delta("queue_waiting", QUEUE, -1.0)]


def test_a_completion_counts_its_outcome_and_observes_the_service_time(
    ticket: Callable[..., Any],
) -> None:
    data = ServiceCompletedV1(
        **ticket(1),
        check_in_id="c1",
        citizen="0" * 64,
        outcome="referred",
        waited_seconds=10.0,
        service_seconds=4000.0,
    )

    completed, bucket, total, count = deltas_for(data)

    assert completed == Delta(
        "services_completed",
        (
            ("level", "kecamatan"),
            ("agency", "dukcapil"),
            ("service", "dukcapil-kk"),
            ("outcome", "referred"),
        ),
    )
    assert bucket == Delta("service_seconds_bucket", (*SERVICE, ("le", "+Inf")))
    assert total == Delta("service_seconds_sum", SERVICE, 4000.0)
    assert count == Delta("service_seconds_count", SERVICE)


def test_a_no_show_counts_as_such_with_an_empty_level_when_the_event_has_none(
    ticket: Callable[..., Any],
) -> None:
    data = TicketNoShowV1(**(ticket(1) | {"level": None}))

    assert deltas_for(data) == [
        Delta("no_shows", (("level", ""), ("agency", "dukcapil"), ("service", "dukcapil-kk")))
    ]


def test_session_events_change_no_aggregate(check_in: Callable[..., Any]) -> None:
    at = check_in(1).checked_in_at
    opened = SessionOpenedV1(
        session_id="s-1", level="kecamatan", kecamatan="sukatani", date=at.date(), opened_at=at
    )

    assert deltas_for(opened) == []


def test_a_value_falls_in_the_first_bucket_that_holds_it() -> None:
    def bucket_of(value: float, buckets: tuple[float, ...]) -> str:
        first = next(observe("x", buckets, value))
        return dict(first.labels)["le"]

    assert bucket_of(0.0, WAIT_BUCKETS) == "60.0"
    assert bucket_of(60.0, WAIT_BUCKETS) == "60.0"  # upper bounds are inclusive
    assert bucket_of(60.5, WAIT_BUCKETS) == "300.0"
    assert bucket_of(14400.0, WAIT_BUCKETS) == "14400.0"
    assert bucket_of(14400.1, WAIT_BUCKETS) == "+Inf"
    assert bucket_of(3600.1, SERVICE_BUCKETS) == "+Inf"


def test_labels_keep_their_order_and_turn_none_into_empty() -> None:
    assert labels(b=1, a=None) == (("b", "1"), ("a", ""))


def test_a_batch_sums_to_one_delta_per_aggregate_in_first_seen_order() -> None:
    a, b = (("k", "a"),), (("k", "b"),)
    deltas = [Delta("n", a), Delta("m", a, 2.0), Delta("n", a, -1.0), Delta("n", b), Delta("m", a)]

    assert sum_deltas(deltas) == [Delta("n", a, 0.0), Delta("m", a, 3.0), Delta("n", b, 1.0)]
