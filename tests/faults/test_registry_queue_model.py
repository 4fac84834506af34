"""Fault suite, test 8: a model of the registry's queues against the real thing.

Hypothesis drives the registry's use cases on a real database (SQLite, and PostgreSQL when
BOTRAM_TEST_DATABASE_URL is set) through any interleaving of check-ins (alone and together,
through the group commit), calls from several desks (one after the other and at once),
recalls, completions, no-shows and transfers, and compares every answer, every event and
the stored queues with a plain model of the rules:

- each ticket is called at most once, and a desk action is accepted only in the state the
  model says allows it;
- positions match the order of calls: priority first, at most `PER_REGULAR` in a row while
  regular tickets wait, first in first out within each class (the model's own restatement);
  the place a ticket is told at check-in, in events and in the queue status is the place
  desks will call it at;
- counts add up: waiting + called + finished = issued, per queue and per class.
"""

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlmodel import col, select

from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenTicketsAddedV1,
    TicketCalledV1,
    decode_event,
)
from botram_contracts.reference import load_catalogue
from botram_contracts.vocabulary import Level, Outcome, SessionStatus
from botram_registry.batching import Batcher
from botram_registry.deps import Deps
from botram_registry.domain.check_in import CheckIn, CheckInResult
from botram_registry.domain.tickets import CallNext, Complete, MarkNoShow, Recall, Transfer
from botram_registry.main import MIGRATIONS
from botram_registry.settings import Settings
from botram_registry.store import QueueRow, SessionRow, TicketActionRow, TicketRow
from botram_registry.usecases import check_in as check_ins
from botram_registry.usecases import desks, queues
from botram_runtime.actors import Actor, Role
from botram_runtime.clock import local_today
from botram_runtime.db import Database
from botram_runtime.errors import DomainError
from botram_runtime.outbox import OutboxEvent
from helpers import FakeClock

# An operator: acts on every queue (a desk's agency rule is tested in tests/registry).
DESK = Actor(sub="operator-1", roles=frozenset({Role.OPERATOR}))

pytestmark = pytest.mark.faults

SERVICES = ("dukcapil-kk", "bpjs-kesehatan-pendaftaran", "dukcapil-akta-kelahiran")
DESKS = ("meja-1", "meja-2", "meja-3")
CITIZENS = 10
PER_REGULAR = 2
UP_NEXT = 10
T = TypeVar("T")


def nik(citizen: int) -> str:
    """A valid NIK per citizen (born 1 January 1990: never lansia)."""
    return f"3216050101900{citizen + 1:03d}"


async def together(*work: Awaitable[T]) -> list[T]:
    """Run these at once (as concurrent requests would), on the running loop."""
    return list(await asyncio.gather(*work))


class World:
    """The real registry: its use cases on a real database, driven from this thread's loop.

    One database for the whole test, one session per example (examples never see each other's
    queues); the group commit runs as `main` wires it.
    """

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = Database(url, service="registry")
        self.catalogue = load_catalogue()
        self.run(self.db.migrate(MIGRATIONS))

    def run(self, work: Awaitable[T]) -> T:
        return self.loop.run_until_complete(work)

    def open_session(self) -> tuple[Deps, FakeClock, str]:
        clock = FakeClock(datetime(2024, 7, 6, 1, 30, tzinfo=UTC))
        settings = Settings(priority_calls_per_regular=PER_REGULAR)
        deps = Deps(db=self.db, clock=clock, catalogue=self.catalogue, settings=settings)
        batcher: Batcher[Any, CheckInResult | None] = Batcher(
            functools.partial(check_ins.check_in_group, deps), max_size=64
        )
        self.run(batcher.start())
        session = SessionRow(
            id=str(uuid4()),
            level=Level.KECAMATAN,
            kecamatan="sukatani",
            date=local_today(clock),
            start=time(8),
            end=time(14),
            services=list(SERVICES),
            status=SessionStatus.OPENED,
        )
        self.run(self._store(session))
        return replace(deps, group_commit=batcher), clock, session.id

    async def _store(self, row: Any) -> None:
        async with self.db.transaction() as tx:
            tx.add(row)

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


@dataclass
class Ticket:
    ticket_id: str
    service: str
    number: str
    priority: bool
    citizen: int
    status: str = "waiting"


@dataclass
class Queue:
    """The model of one service's queue: its tickets in numbering order and the streak."""

    tickets: list[Ticket] = field(default_factory=list)
    streak: int = 0

    def waiting(self) -> list[Ticket]:
        return [t for t in self.tickets if t.status == "waiting"]

    def order(self) -> list[Ticket]:
        """The rule as the docs state it, one call after another."""
        order, waiting, streak = [], self.waiting(), self.streak
        while waiting:
            priority = [t for t in waiting if t.priority]
            regular = [t for t in waiting if not t.priority]
            chosen = priority[0] if priority and (not regular or streak < PER_REGULAR) else None
            chosen = chosen or regular[0]
            streak = streak + 1 if chosen.priority else 0
            order.append(chosen)
            waiting.remove(chosen)
        return order

    def place(self, ticket: Ticket) -> int:
        return next((i for i, t in enumerate(self.order(), start=1) if t is ticket), 0)


class QueueModel(RuleBasedStateMachine):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.deps, self.clock, self.session_id = world.open_session()
        self.queues = {code: Queue() for code in SERVICES}
        self.tickets: dict[str, Ticket] = {}
        self.priority: dict[int, bool] = {}  # citizen -> priority, once checked in
        self.events_after = self.run(self._last_event())

    def run(self, work: Awaitable[T]) -> T:
        self.clock.advance(1)  # distinct times: a check-in lists its tickets by issue time
        return self.world.run(work)

    def teardown(self) -> None:
        assert self.deps.group_commit is not None
        self.world.run(self.deps.group_commit.stop())

    # --- the model's bookkeeping ---------------------------------------------------------

    def issue(self, ticket_id: str, service: str, number: str, citizen: int) -> int:
        """A new ticket joins its queue; the place it is told."""
        queue = self.queues[service]
        assert number == f"{number.split('-')[0]}-{len(queue.tickets) + 1:03d}"
        ticket = Ticket(ticket_id, service, number, self.priority[citizen], citizen)
        queue.tickets.append(ticket)
        self.tickets[ticket_id] = ticket
        return queue.place(ticket)

    def open_ticket(self, citizen: int, service: str) -> Ticket | None:
        return next(
            (
                t
                for t in self.tickets.values()
                if t.citizen == citizen
                and t.service == service
                and t.status in ("waiting", "called")
            ),
            None,
        )

    def pick(self, index: int) -> Ticket | None:
        ids = sorted(self.tickets)
        return self.tickets[ids[index % len(ids)]] if ids else None

    # --- rules: what front desks and desks do ---------------------------------------------

    @rule(
        citizen=st.integers(0, CITIZENS - 1),
        services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
        priority=st.booleans(),
    )
    def check_in(self, citizen: int, services: list[str], priority: bool) -> None:
        result = self.run(check_ins.check_in(self.deps, self.command(citizen, services, priority)))

        assert result.created == (citizen not in self.priority)
        self.priority.setdefault(citizen, priority)
        held = {t.service for t in self.tickets.values() if t.citizen == citizen}
        new = [t for t in result.tickets if t.ticket_id not in self.tickets]
        assert [t.service for t in new] == [s for s in services if s not in held]
        told = {t.ticket_id: self.issue(t.ticket_id, t.service, t.number, citizen) for t in new}
        for slip in result.tickets:  # each ticket of the check-in as it is now
            ticket = self.tickets[slip.ticket_id]
            assert (slip.status, slip.position) == (
                ticket.status,
                self.queues[ticket.service].place(ticket),
            )
        self.check_announced(told)

    @rule(
        citizens=st.lists(st.integers(0, CITIZENS - 1), min_size=2, max_size=5, unique=True),
        services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True),
        priority=st.lists(st.booleans(), min_size=5, max_size=5),
    )
    def check_in_together(
        self, citizens: list[int], services: list[str], priority: list[bool]
    ) -> None:
        newcomers = [c for c in citizens if c not in self.priority]
        commands = [self.command(c, services, p) for c, p in zip(newcomers, priority, strict=False)]
        results = self.run(together(*(check_ins.check_in(self.deps, c) for c in commands)))

        slips = []
        for citizen, command, result in zip(newcomers, commands, results, strict=True):
            assert result.created
            self.priority[citizen] = command.priority
            slips += [(int(s.number.split("-")[1]), s, citizen) for s in result.tickets]
        told = {}
        for _, slip, citizen in sorted(slips, key=lambda item: (item[1].service, item[0])):
            told[slip.ticket_id] = self.issue(slip.ticket_id, slip.service, slip.number, citizen)
            assert slip.position == told[slip.ticket_id]
        self.check_announced(told)

    @rule(service=st.sampled_from(SERVICES), desk=st.sampled_from(DESKS))
    def call_next(self, service: str, desk: str) -> None:
        expected = self.queues[service].order()
        outcome = self.attempt(
            desks.call_next(self.deps, CallNext(self.session_id, service, desk, actor=DESK))
        )

        if not expected:
            assert outcome == "queue-empty"
            return
        assert not isinstance(outcome, str) and outcome.ticket_id == expected[0].ticket_id
        self.called(service, [expected[0]])

    @rule(service=st.sampled_from(SERVICES), count=st.integers(2, 3))
    def call_at_once(self, service: str, count: int) -> None:
        expected = self.queues[service].order()[:count]
        calls = [
            self.attempt_async(
                desks.call_next(self.deps, CallNext(self.session_id, service, d, actor=DESK))
            )
            for d in DESKS[:count]
        ]
        outcomes = self.run(together(*calls))

        got = [o.ticket_id for o in outcomes if not isinstance(o, str)]
        assert sorted(got) == sorted(t.ticket_id for t in expected)  # two desks never share one
        assert [o for o in outcomes if isinstance(o, str)] == ["queue-empty"] * (count - len(got))
        self.called(service, expected)

    @rule(index=st.integers(0, 10_000), desk=st.sampled_from(DESKS))
    def recall(self, index: int, desk: str) -> None:
        ticket = self.pick(index)
        if ticket is not None:
            outcome = self.attempt(
                desks.recall(self.deps, Recall(ticket.ticket_id, desk, actor=DESK))
            )
            self.expect_desk_action(ticket, outcome, "called")

    @rule(index=st.integers(0, 10_000), outcome=st.sampled_from(list(Outcome)))
    def complete(self, index: int, outcome: Outcome) -> None:
        ticket = self.pick(index)
        if ticket is not None:
            done = self.attempt(
                desks.complete(self.deps, Complete(ticket.ticket_id, outcome, actor=DESK))
            )
            self.expect_desk_action(ticket, done, "completed")

    @rule(index=st.integers(0, 10_000))
    def no_show(self, index: int) -> None:
        ticket = self.pick(index)
        if ticket is not None:
            outcome = self.attempt(
                desks.mark_no_show(self.deps, MarkNoShow(ticket.ticket_id, actor=DESK))
            )
            self.expect_desk_action(ticket, outcome, "no_show")

    @rule(index=st.integers(0, 10_000), to_service=st.sampled_from(SERVICES))
    def transfer(self, index: int, to_service: str) -> None:
        ticket = self.pick(index)
        if ticket is None:
            return
        outcome = self.attempt(
            desks.transfer(self.deps, Transfer(ticket.ticket_id, to_service, actor=DESK))
        )

        if ticket.status != "called":
            assert outcome == "ticket-state"
        elif to_service == ticket.service:
            assert outcome == "transfer-same-service"
        elif self.open_ticket(ticket.citizen, to_service) is not None:
            assert outcome == "already-queued"
        else:
            assert not isinstance(outcome, str), outcome
            ticket.status = "transferred"
            told = self.issue(outcome.ticket_id, to_service, outcome.number, ticket.citizen)
            assert outcome.position == told
            self.check_announced({outcome.ticket_id: told})

    # --- invariants: the stored queues and the queue status agree with the model ----------

    @invariant()
    def queue_status_lists_the_fair_order(self) -> None:
        report = self.run(queues.queue_status(self.deps, self.session_id))
        for service in report.services:
            model = self.queues[service.service]
            order = [t.number for t in model.order()]
            assert [(p.number, p.position) for p in service.positions] == [
                (number, place) for place, number in enumerate(order, start=1)
            ]
            called = [t.number for t in model.tickets if t.status == "called"]
            assert (service.waiting, sorted(service.now_serving)) == (len(order), sorted(called))

    @invariant()
    def counts_add_up_and_each_ticket_is_called_once(self) -> None:
        queues_, tickets, calls = self.run(self.stored())
        for service, model in self.queues.items():
            row = queues_.get(service)
            mine = [t for t in tickets if t.service == service]
            issued, priority = len(mine), [t for t in mine if t.priority]
            left = [t for t in mine if t.status != "waiting"]
            assert ((row.issued, row.called) if row else (0, 0)) == (issued, len(left))
            if row:
                assert row.priority_issued == len(priority)
                assert row.priority_called == len([t for t in priority if t.status != "waiting"])
                assert row.priority_streak == model.streak
            statuses = Counter(t.status for t in mine)
            assert statuses == Counter(t.status for t in model.tickets)
            assert (
                statuses["waiting"]
                + statuses["called"]
                + sum(statuses[s] for s in ("completed", "no_show", "transferred"))
                == issued
            )
        for ticket in tickets:
            assert calls[ticket.id] == (0 if ticket.status == "waiting" else 1), ticket.number

    # --- helpers ----------------------------------------------------------------------------

    def command(self, citizen: int, services: list[str], priority: bool) -> CheckIn:
        return CheckIn(
            session_id=self.session_id,
            nik=nik(citizen),
            name="Warga Botram",
            services=tuple(services),
            phone="081234567890",
            priority=priority,
            actor=DESK,
        )

    def called(self, service: str, tickets: list[Ticket]) -> None:
        """Desks called these tickets, in this order: the model follows; the events agree."""
        queue = self.queues[service]
        up_next = []
        for ticket in tickets:
            ticket.status = "called"
            queue.streak = queue.streak + 1 if ticket.priority else 0
            up_next.append([t.number for t in queue.order()][:UP_NEXT])
        events = [e for e in self.new_events() if isinstance(e, TicketCalledV1)]
        assert [e.ticket_id for e in events] == [t.ticket_id for t in tickets]
        assert [[t.number for t in e.up_next or []] for e in events] == up_next

    def check_announced(self, told: dict[str, int]) -> None:
        """The check-in events tell each new ticket the place it was told."""
        events = self.new_events()
        refs = [
            ref
            for e in events
            if isinstance(e, CitizenCheckedInV1 | CitizenTicketsAddedV1)
            for ref in e.tickets
        ]
        assert {ref.ticket_id: ref.position for ref in refs} == told

    def expect_desk_action(self, ticket: Ticket, outcome: Any, status: str) -> None:
        if ticket.status != "called":
            assert outcome == "ticket-state"
            return
        assert not isinstance(outcome, str), outcome
        ticket.status = status
        self.new_events()

    def attempt(self, work: Awaitable[T]) -> T | str:
        return self.run(self.attempt_async(work))

    async def attempt_async(self, work: Awaitable[T]) -> T | str:
        """The use case's result, or the code of the problem it answered with."""
        try:
            return await work
        except DomainError as problem:
            return problem.code

    def new_events(self) -> list[Any]:
        rows = self.run(self._events_since(self.events_after))
        if rows:
            self.events_after = rows[-1][0]
        events = [decode_event(payload).data for _, payload in rows]
        return [e for e in events if getattr(e, "session_id", None) == self.session_id]

    async def _last_event(self) -> int:
        async with self.world.db.session() as tx:
            rows = (await tx.exec(select(OutboxEvent.seq))).all()
        return max((seq for seq in rows if seq is not None), default=0)

    async def _events_since(self, seq: int) -> list[tuple[int, bytes]]:
        async with self.world.db.session() as tx:
            statement = (
                select(OutboxEvent.seq, OutboxEvent.payload)
                .where(col(OutboxEvent.seq) > seq)
                .order_by(col(OutboxEvent.seq))
            )
            return [(int(s or 0), p) for s, p in (await tx.exec(statement)).all()]

    async def stored(self) -> tuple[dict[str, QueueRow], list[TicketRow], Counter[str]]:
        async with self.world.db.session() as tx:
            rows = (
                await tx.exec(select(QueueRow).where(QueueRow.session_id == self.session_id))
            ).all()
            tickets = (
                await tx.exec(select(TicketRow).where(TicketRow.session_id == self.session_id))
            ).all()
            actions = (
                await tx.exec(
                    select(TicketActionRow.ticket_id).where(
                        col(TicketActionRow.ticket_id).in_([t.id for t in tickets] or [""]),
                        TicketActionRow.action == "call",
                    )
                )
            ).all()
        return {r.service: r for r in rows}, list(tickets), Counter(actions)


def run_model(url: str) -> None:
    world = World(url)
    try:
        run_state_machine_as_test(
            lambda: QueueModel(world),
            settings=settings(
                max_examples=30,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        world.close()


@pytest.mark.timeout(900)
async def test_any_interleaving_of_desk_actions_keeps_the_queues_fair_and_counted(
    database_url: str,
) -> None:
    # The model runs the use cases on an event loop of its own (Hypothesis drives it step by
    # step), in a worker thread, so this test's loop only waits.
    await asyncio.to_thread(run_model, database_url)
    print("registry queue model: 30 examples of up to 40 steps, every invariant held")
