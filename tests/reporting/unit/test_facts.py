"""How events merge into fact rows, in any order, and when a closing triggers a ranking."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from botram_contracts.events import (
    CitizenTicketsAddedV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
    TicketRef,
)
from botram_contracts.vocabulary import SessionStatus
from botram_reporting.domain.facts import (
    FactBatch,
    FactKind,
    TicketOutcome,
    ids_touched,
    merge_outcome,
    new_ticket,
    ranking_due,
)
from botram_runtime.clock import JAKARTA

DAY = date(2024, 7, 6)
WHERE: dict[str, Any] = {"session_id": "s-1", "level": "kecamatan", "kecamatan": "sukatani"}


def completed(ticket: dict[str, Any], outcome: str = "served", waited: float = 120.0) -> Any:
    return ServiceCompletedV1(
        **ticket,
        check_in_id="c1",
        citizen="0" * 64,
        outcome=outcome,
        waited_seconds=waited,
        service_seconds=300.0,
    )


@pytest.mark.parametrize(
    ("current", "new", "merged"),
    [
        (None, "no_show", "no_show"),
        (None, "served", "served"),
        ("served", "no_show", "served"),
        ("referred", "no_show", "referred"),
        ("rejected", "no_show", "rejected"),
        ("no_show", "served", "served"),  # came back late and was served after all
        ("served", "rejected", "rejected"),  # the newest verdict stands
        (None, "expired", "expired"),
        (None, "cancelled", "cancelled"),
        ("no_show", "expired", "no_show"),  # a session's end only ends waiting tickets
        ("served", "cancelled", "served"),
    ],
)
def test_a_desk_verdict_beats_a_no_show_whatever_the_order(
    current: str | None, new: str, merged: str
) -> None:
    assert merge_outcome(current, new) == merged


def test_a_check_in_becomes_a_row_in_local_time_and_its_tickets_are_issued(
    check_in: Callable[..., Any],
) -> None:
    late = datetime.combine(DAY, time(23, 30), JAKARTA)  # 16:30 UTC: still the 6th in Bekasi
    batch = FactBatch()

    assert batch.apply(check_in(1, at=late)) is None

    row = batch.check_ins["c1"]
    assert (row["day"], row["hour"], row["sex"], row["resident"]) == (DAY, 23, "F", True)
    assert batch.tickets["c1-t0"] == new_ticket("c1-t0", "s-1", "dukcapil-kk", "dukcapil") | {
        "issued": True,
        "check_in_id": "c1",
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "desa": None,
        "day": DAY,
    }


def test_a_completion_seen_first_keeps_its_wait_and_verdict_against_late_events(
    check_in: Callable[..., Any], ticket: Callable[..., Any]
) -> None:
    batch = FactBatch()
    for data in (
        completed(ticket(1), waited=120.0),
        TicketCalledV1(**ticket(1), number="X-1", waited_seconds=999.0),
        TicketNoShowV1(**ticket(1)),
        check_in(1),
    ):
        batch.apply(data)

    fact = batch.tickets["c1-t0"]
    assert (fact["issued"], fact["called"], fact["waited_seconds"]) == (True, True, 120.0)
    assert (fact["outcome"], fact["service_seconds"]) == (TicketOutcome.SERVED, 300.0)


def test_tickets_waiting_at_a_session_s_end_end_expired_or_cancelled(
    check_in: Callable[..., Any], ticket: Callable[..., Any]
) -> None:
    batch = FactBatch()
    now = datetime(2024, 7, 6, 7, tzinfo=UTC)
    batch.apply(check_in(1))
    batch.apply(TicketExpiredV1(**ticket(1), number="X-1", expired_at=now))
    batch.apply(check_in(2))
    batch.apply(TicketCancelledV1(**ticket(2), number="X-2", reason="banjir", cancelled_at=now))

    assert batch.tickets["c1-t0"]["outcome"] == TicketOutcome.EXPIRED
    assert batch.tickets["c2-t0"]["outcome"] == TicketOutcome.CANCELLED
    assert not batch.tickets["c1-t0"]["called"]
    assert ids_touched([TicketExpiredV1(**ticket(1), number="X-1", expired_at=now)])[
        FactKind.TICKETS
    ] == ["c1-t0"]


def test_a_tickets_time_to_ready_is_that_of_its_first_follow_up_whatever_the_order(
    check_in: Callable[..., Any], ticket: Callable[..., Any]
) -> None:
    def followed_up(seconds: float, kind_id: str) -> ServiceFollowedUpV1:
        return ServiceFollowedUpV1(
            **ticket(1),
            follow_up_id=kind_id,
            kind="document_ready",
            place="Kantor Kecamatan Sukatani",
            outcome="served",
            followed_up_at=datetime(2024, 7, 9, 3, tzinfo=UTC),
            seconds_since_completion=seconds,
        )

    batch = FactBatch()
    batch.apply(followed_up(7200.0, "f-2"))  # a later follow-up, delivered first
    batch.apply(check_in(1))
    batch.apply(completed(ticket(1)))
    batch.apply(followed_up(3600.0, "f-1"))

    assert batch.tickets["c1-t0"]["ready_seconds"] == 3600.0
    assert batch.tickets["c1-t0"]["outcome"] == TicketOutcome.SERVED
    assert ids_touched([followed_up(1.0, "f")])[FactKind.TICKETS] == ["c1-t0"]


def test_a_call_seen_first_is_overwritten_by_the_completion_s_wait(
    ticket: Callable[..., Any],
) -> None:
    batch = FactBatch()
    batch.apply(TicketCalledV1(**ticket(1), number="X-1", waited_seconds=90.0))
    assert batch.tickets["c1-t0"]["waited_seconds"] == 90.0
    assert batch.tickets["c1-t0"]["outcome"] is None

    batch.apply(completed(ticket(1), outcome="rejected", waited=95.0))

    assert batch.tickets["c1-t0"]["waited_seconds"] == 95.0
    assert batch.tickets["c1-t0"]["outcome"] == "rejected"


def test_a_repeated_check_in_keeps_the_first_row(check_in: Callable[..., Any]) -> None:
    batch = FactBatch()
    batch.apply(check_in(1))
    batch.apply(check_in(1, at=datetime(2024, 7, 7, 1, 0, tzinfo=UTC)))

    assert batch.check_ins["c1"]["hour"] == 9


def test_tickets_added_are_issued_without_a_new_check_in() -> None:
    batch = FactBatch()
    batch.apply(
        CitizenTicketsAddedV1(
            **WHERE,
            check_in_id="c1",
            citizen="0" * 64,
            priority=False,
            reason="transferred",
            tickets=[
                TicketRef(
                    ticket_id="c1-t1",
                    service="pmi-donor-darah",
                    agency="pmi",
                    number="P-1",
                    position=1,
                    transferred_from="c1-t0",
                )
            ],
            added_at=datetime.combine(DAY, time(10), JAKARTA),
        )
    )

    assert batch.check_ins == {}
    assert batch.tickets["c1-t1"]["issued"] is True
    assert batch.tickets["c1-t1"]["check_in_id"] == "c1"
    assert batch.tickets["c1-t1"]["day"] == DAY


def test_a_session_row_follows_its_lifecycle_and_its_latest_date() -> None:
    batch = FactBatch()
    scheduled = SessionScheduledV1(
        **WHERE, date=DAY, start=time(8), end=time(14), services=["dukcapil-kk"]
    )
    moved = SessionRescheduledV1(
        **WHERE, date=date(2024, 7, 13), previous_date=DAY, reason="banjir"
    )
    opened_at = datetime.combine(date(2024, 7, 13), time(8), JAKARTA)

    row = batch.apply(scheduled)
    assert row is not None and row["status"] == SessionStatus.SCHEDULED
    assert batch.apply(moved) is row
    assert (row["status"], row["date"]) == (SessionStatus.SCHEDULED, date(2024, 7, 13))
    batch.apply(SessionOpenedV1(**WHERE, date=date(2024, 7, 13), opened_at=opened_at))
    assert row["status"] == SessionStatus.OPENED
    batch.apply(SessionCancelledV1(**WHERE, date=date(2024, 7, 13), reason="banjir lagi"))
    assert row["status"] == SessionStatus.CANCELLED


def test_an_update_of_its_services_or_quotas_keeps_the_session_row_as_it_was() -> None:
    batch = FactBatch()
    at = datetime.combine(DAY, time(8), JAKARTA)
    batch.apply(SessionOpenedV1(**WHERE, date=DAY, opened_at=at))
    updated = SessionUpdatedV1(
        **WHERE,
        date=DAY,
        start=time(8),
        end=time(14),
        services=["dukcapil-kk"],
        quotas={"dukcapil-kk": 150},
        changed=["quotas"],
    )

    row = batch.apply(updated)

    assert row is not None
    assert (row["status"], row["date"]) == (SessionStatus.OPENED, DAY)


def test_a_late_opening_or_scheduling_never_reopens_a_closed_session() -> None:
    # Two replicas apply batches in any order: the closing may be merged first.
    batch = FactBatch()
    at = datetime.combine(DAY, time(8), JAKARTA)
    batch.apply(SessionClosedV1(**WHERE, date=DAY, closed_at=at))
    batch.apply(SessionOpenedV1(**WHERE, date=DAY, opened_at=at))
    row = batch.apply(
        SessionScheduledV1(**WHERE, date=DAY, start=time(8), end=time(14), services=["dukcapil-kk"])
    )

    assert row is not None and row["status"] == SessionStatus.CLOSED


def test_a_session_first_seen_closing_is_created_closed() -> None:
    batch = FactBatch()
    closed_at = datetime.combine(DAY, time(14), JAKARTA)

    row = batch.apply(SessionClosedV1(**WHERE, date=DAY, closed_at=closed_at))

    assert row == {
        "id": "s-1",
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "desa": None,
        "date": DAY,
        "status": "closed",
    }
    assert batch.dirty[FactKind.SESSIONS] == {"s-1"}


def test_only_a_kecamatan_session_s_closing_triggers_a_ranking_up_to_its_date() -> None:
    closed_at = datetime.combine(DAY, time(14), JAKARTA)
    closing = SessionClosedV1(**WHERE, date=DAY, closed_at=closed_at)
    desa_closing = SessionClosedV1(
        **(WHERE | {"level": "desa"}), desa="sukamanah", date=DAY, closed_at=closed_at
    )
    opening = SessionOpenedV1(**WHERE, date=DAY, opened_at=closed_at)
    batch = FactBatch()

    assert ranking_due(closing, batch.apply(closing)) == DAY
    assert ranking_due(opening, batch.apply(opening)) is None
    assert ranking_due(desa_closing, FactBatch().apply(desa_closing)) is None
    assert ranking_due(closing, None) is None


def test_the_rows_a_batch_touches_are_named_for_one_bulk_load_each(
    check_in: Callable[..., Any], ticket: Callable[..., Any]
) -> None:
    opened = SessionOpenedV1(**WHERE, date=DAY, opened_at=datetime.combine(DAY, time(8), JAKARTA))
    events = [
        opened,
        check_in(1, ("dukcapil-kk", "dukcapil"), ("pmi-donor-darah", "pmi")),
        TicketNoShowV1(**ticket(2)),
        "not an event",
    ]

    assert ids_touched(events) == {
        FactKind.SESSIONS: ["s-1"],
        FactKind.CHECK_INS: ["c1"],
        FactKind.TICKETS: ["c1-t0", "c1-t1", "c2-t0"],
    }


def test_changed_rows_are_handed_out_once_sorted_by_id(
    check_in: Callable[..., Any], ticket: Callable[..., Any]
) -> None:
    batch = FactBatch(tickets={"c0-t0": new_ticket("c0-t0", "s-1", "dukcapil-kk", "dukcapil")})
    batch.apply(check_in(2))
    batch.apply(TicketNoShowV1(**ticket(1)))

    changed = batch.take_changed()

    assert [row["id"] for row in changed[FactKind.TICKETS]] == ["c1-t0", "c2-t0"]
    assert [row["id"] for row in changed[FactKind.CHECK_INS]] == ["c2"]
    assert changed[FactKind.SESSIONS] == []
    assert all(rows == [] for rows in batch.take_changed().values())
