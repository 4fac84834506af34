"""apply_events on its own, on a real database: a batch's set-based merge, exactly once."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import select

from botram_contracts.events import (
    CitizenCheckedInV1,
    DemandRankedV1,
    ServiceCompletedV1,
    SessionClosedV1,
    SessionOpenedV1,
    TicketCalledV1,
    TicketNoShowV1,
    TicketRef,
    decode_event,
    make_event,
)
from botram_reporting import store
from botram_reporting.deps import Deps
from botram_reporting.metrics import Aggregates
from botram_reporting.usecases.ingest import apply_events, load_mirror
from botram_runtime.clock import JAKARTA
from botram_runtime.outbox import OutboxEvent

UNIT_WHERE = {"session_id": "s-unit", "level": "kecamatan", "kecamatan": "sukatani", "desa": None}
AT = datetime(2024, 7, 6, 9, 30, tzinfo=JAKARTA)


def check_in(n: int, service: str = "dukcapil-kk", agency: str = "dukcapil") -> Any:
    ref = TicketRef(
        ticket_id=f"c{n}-t0", service=service, agency=agency, number=f"X-{n:03d}", position=n
    )
    data = CitizenCheckedInV1(
        **UNIT_WHERE,
        check_in_id=f"c{n}",
        citizen=f"{n:064x}",
        sex="F",
        age_band="30-44",
        resident=True,
        priority=False,
        tickets=[ref],
        checked_in_at=(AT + timedelta(minutes=n)).astimezone(UTC),
    )
    return make_event(data, "registry")


def ticket_common(n: int) -> dict[str, Any]:
    return {
        "ticket_id": f"c{n}-t0",
        "session_id": UNIT_WHERE["session_id"],
        "service": "dukcapil-kk",
        "agency": "dukcapil",
        "level": "kecamatan",
        "kecamatan": "sukatani",
    }


async def stored_aggregates(deps: Deps) -> dict[str, dict[Any, float]]:
    """What the database holds, through a fresh mirror loaded from it."""
    fresh = replace(deps, aggregates=Aggregates())
    await load_mirror(fresh)
    return {name: dict(values) for name, values in fresh.aggregates.values.items()}


async def facts(deps: Deps) -> tuple[list[store.CheckInFact], list[store.TicketFact]]:
    """Every check-in and issued ticket the database holds, by id."""
    async with deps.db.session() as session:
        return await store.report_facts(session)


async def test_a_batch_counts_a_repeated_and_a_redelivered_event_once(
    deps: Deps,
) -> None:
    first, second = check_in(1), check_in(2)
    called = make_event(
        TicketCalledV1(**ticket_common(1), number="X-001", waited_seconds=90.0), "registry"
    )
    assert await apply_events(deps, [first]) == set()
    # `second` twice in the batch, `first` redelivered from the batch before.
    batch = [second, first, called, second, called]
    assert await apply_events(deps, batch) == {str(second.id), str(first.id), str(called.id)}
    assert await apply_events(deps, batch) == {str(e.id) for e in batch}

    assert deps.aggregates.get("checkins", level="kecamatan", kecamatan="sukatani") == 2
    labels = {"level": "kecamatan", "agency": "dukcapil", "service": "dukcapil-kk"}
    assert deps.aggregates.get("tickets_issued", **labels) == 2
    queue = {"session_id": "s-unit", "agency": "dukcapil", "service": "dukcapil-kk"}
    assert deps.aggregates.get("queue_waiting", **queue) == 1
    assert deps.aggregates.get("wait_seconds_sum", agency="dukcapil", service="dukcapil-kk")
    assert deps.aggregates.get("wait_seconds_count", agency="dukcapil", service="dukcapil-kk") == 1
    # The database agrees with the mirror, value for value.
    mirror = {name: dict(values) for name, values in deps.aggregates.values.items()}
    assert await stored_aggregates(deps) == mirror
    check_ins, tickets = await facts(deps)
    assert [c.id for c in check_ins] == ["c1", "c2"]
    assert [(t.id, t.called, t.waited_seconds) for t in tickets] == [
        ("c1-t0", True, 90.0),
        ("c2-t0", False, None),
    ]


async def test_a_completion_before_its_check_in_in_one_batch_merges_into_one_ticket(
    deps: Deps,
) -> None:
    common = ticket_common(3)
    completed = ServiceCompletedV1(
        **common,
        check_in_id="c3",
        citizen="0" * 64,
        outcome="served",
        waited_seconds=120.0,
        service_seconds=300.0,
    )
    batch = [
        make_event(completed, "registry"),
        # Late and contradicting: the completion's wait and the desk's verdict stand.
        make_event(TicketCalledV1(**common, number="X-003", waited_seconds=999.0), "registry"),
        make_event(TicketNoShowV1(**common), "registry"),
        check_in(3),
    ]
    assert await apply_events(deps, batch) == set()

    check_ins, tickets = await facts(deps)
    assert [(c.id, c.day, c.hour) for c in check_ins] == [("c3", date(2024, 7, 6), 9)]
    [ticket] = tickets
    assert ticket.model_dump() == {
        "id": "c3-t0",
        "session_id": "s-unit",
        "service": "dukcapil-kk",
        "agency": "dukcapil",
        "issued": True,
        "check_in_id": "c3",
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "desa": None,
        "day": date(2024, 7, 6),
        "called": True,
        "waited_seconds": 120.0,
        "outcome": "served",
        "service_seconds": 300.0,
        "ready_seconds": None,
    }
    # A later batch merges into the stored row the same way.
    assert await apply_events(deps, [check_in(3)]) == set()  # same data, new event id
    assert (await facts(deps))[1][0].model_dump() == ticket.model_dump()


async def test_a_closing_ranks_the_events_before_it_even_within_one_batch(
    deps: Deps,
) -> None:
    deps = replace(deps, publish_rankings=True)
    day = date(2024, 7, 6)
    closed = SessionClosedV1(
        **UNIT_WHERE, date=day, closed_at=datetime.combine(day, time(14), JAKARTA)
    )
    before = [check_in(n, "dukcapil-kia") for n in range(4, 7)]
    after = [check_in(n, "pmi-donor-darah", "pmi") for n in range(7, 12)]
    opened = SessionOpenedV1(**UNIT_WHERE, date=day, opened_at=AT)
    batch = [make_event(opened, "scheduler"), *before, make_event(closed, "scheduler"), *after]
    assert await apply_events(deps, batch) == set()

    async with deps.db.session() as session:
        [row] = (await session.exec(select(OutboxEvent))).all()
    ranked = decode_event(row.payload).data
    assert isinstance(ranked, DemandRankedV1) and ranked.period.end == day
    counts = {r.service: r.tickets for r in ranked.ranking if r.tickets}
    assert counts == {"dukcapil-kia": 3}  # not the 5 check-ins that followed the closing
    assert deps.aggregates.sessions["s-unit"] == ("kecamatan", "sukatani", "closed")
