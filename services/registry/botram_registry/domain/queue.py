"""The fair queue: who is called next, in which order the rest follow, how long they wait."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.tickets import TicketStatus, seconds_between
from botram_runtime.errors import DomainError


@dataclass(frozen=True, slots=True)
class Waiting:
    """A waiting ticket as the fairness rule sees it (and its number, to name it)."""

    ticket_id: str
    priority: bool
    number: str = ""


def choose_next(
    waiting: Sequence[Waiting], priority_streak: int, priority_per_regular: int
) -> Waiting | None:
    """The ticket to call next: FIFO within class; priority first, but at most
    `priority_per_regular` priority calls in a row while regular tickets wait."""
    first_priority = next((w for w in waiting if w.priority), None)
    first_regular = next((w for w in waiting if not w.priority), None)
    if first_priority and (first_regular is None or priority_streak < priority_per_regular):
        return first_priority
    return first_regular


def check_queue(service: str, offered: Collection[str]) -> None:
    """A desk calls only from the queue of a service the session offers (404 otherwise)."""
    if service not in offered:
        raise DomainError(
            f"{service} is not offered at this session", code="service-not-offered", status=404
        )


def next_to_call(
    service: str, waiting: Sequence[Waiting], priority_streak: int, priority_per_regular: int
) -> Waiting:
    """The ticket a desk calls next (`choose_next`); an empty queue is refused (404)."""
    chosen = choose_next(waiting, priority_streak, priority_per_regular)
    if chosen is None:
        raise DomainError(f"nobody is waiting for {service}", code="queue-empty", status=404)
    return chosen


def next_streak(chosen: Waiting, streak: int) -> int:
    return streak + 1 if chosen.priority else 0


@dataclass(frozen=True, slots=True)
class QueueShape:
    """All the fair order of a queue depends on: how many of each class wait, and the streak of
    priority calls the desks left off at (`queues` keeps these as counters)."""

    priority_waiting: int
    regular_waiting: int
    priority_streak: int
    priority_per_regular: int

    def joined_by(self, priority: bool) -> "QueueShape":
        """The queue once one more ticket of that class waits at the end of its class."""
        return replace(
            self,
            priority_waiting=self.priority_waiting + priority,
            regular_waiting=self.regular_waiting + (not priority),
        )


@dataclass(frozen=True, slots=True)
class QueueCounters:
    """A queue's counters as stored: tickets issued and called, in all and of the priority
    class, and the streak of priority calls."""

    issued: int
    called: int
    priority_issued: int
    priority_called: int
    priority_streak: int

    def without(self, issued: int, priority_issued: int) -> "QueueCounters":
        """The counters before the last `issued` tickets (`priority_issued` of them priority)."""
        return replace(
            self,
            issued=self.issued - issued,
            priority_issued=self.priority_issued - priority_issued,
        )

    def shape(self, priority_per_regular: int) -> QueueShape:
        """Who waits, by class: a ticket leaves "waiting" only when called, so waiting = issued -
        called in each class."""
        priority_waiting = self.priority_issued - self.priority_called
        return QueueShape(
            priority_waiting=priority_waiting,
            regular_waiting=self.issued - self.called - priority_waiting,
            priority_streak=self.priority_streak,
            priority_per_regular=priority_per_regular,
        )


def fair_place(shape: QueueShape, priority: bool, rank: int) -> int:
    """The place (1 = called next) of the `rank`-th waiting ticket of its class (1 = the first
    of its class): how many calls `choose_next` makes before it, plus one, if nobody else
    arrives. The one rule for positions: check-in answers, events, the queue status.

    Calls come in runs: first up to `per_regular - streak` priority calls, then one regular
    call, then up to `per_regular` priority calls, and so on; a class whose tickets run out
    lets the other go on alone.
    """
    per_regular = shape.priority_per_regular
    first_run = max(per_regular - shape.priority_streak, 0)
    if priority:
        # Regular calls needed before this one: one per run of priority calls after the first.
        beyond = rank - first_run
        if beyond <= 0:
            regular_before = 0
        elif per_regular == 0:
            regular_before = shape.regular_waiting
        else:
            regular_before = min(shape.regular_waiting, -(-beyond // per_regular))
        return rank + regular_before
    priority_before = min(shape.priority_waiting, first_run + (rank - 1) * per_regular)
    return rank + priority_before


def place_of_arrival(shape: QueueShape, priority: bool) -> int:
    """The place of a ticket that joins the queue now (last of its class)."""
    joined = shape.joined_by(priority)
    rank = joined.priority_waiting if priority else joined.regular_waiting
    return fair_place(joined, priority, rank)


def fair_order(
    waiting: Sequence[Waiting], priority_streak: int, priority_per_regular: int
) -> list[Waiting]:
    """The waiting tickets (in numbering order) in the order they will be called if nobody
    else arrives: each at its `fair_place`."""
    shape = QueueShape(
        priority_waiting=sum(1 for w in waiting if w.priority),
        regular_waiting=sum(1 for w in waiting if not w.priority),
        priority_streak=priority_streak,
        priority_per_regular=priority_per_regular,
    )
    ranks = {True: 0, False: 0}
    placed: list[tuple[int, Waiting]] = []
    for ticket in waiting:
        ranks[ticket.priority] += 1
        placed.append((fair_place(shape, ticket.priority, ranks[ticket.priority]), ticket))
    return [ticket for _, ticket in sorted(placed, key=lambda pair: pair[0])]


def up_next(
    waiting: Sequence[Waiting], called: Waiting, priority_streak: int, priority_per_regular: int
) -> list[Waiting]:
    """The fair order of a queue once `called` left it (`priority_streak` counts that call)."""
    rest = [w for w in waiting if w.ticket_id != called.ticket_id]
    return fair_order(rest, priority_streak, priority_per_regular)


def place_in_queue(
    waiting: Sequence[Waiting], ticket_id: str, priority_streak: int, priority_per_regular: int
) -> int:
    """A waiting ticket's place in its queue's fair order (1 = next); 0 once it is not waiting."""
    order = fair_order(waiting, priority_streak, priority_per_regular)
    return next((index for index, w in enumerate(order, start=1) if w.ticket_id == ticket_id), 0)


def estimated_wait(position: int, being_served: int, mean_seconds: float, desks: int) -> float:
    """Seconds until the ticket at `position` (1 = next) is called.

    Fluid estimate: the tickets ahead of it, plus those at a desk now, shared by the desks.
    """
    return (position - 1 + being_served) * mean_seconds / max(desks, 1)


# --- a service's queue at a glance ---------------------------------------------------------


class QueuedTicket(Protocol):
    """What the queue report reads of a ticket (a stored ticket row has all of it)."""

    @property
    def id(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def priority(self) -> bool: ...
    @property
    def status(self) -> TicketStatus: ...
    @property
    def outcome(self) -> Outcome | None: ...
    @property
    def called_at(self) -> datetime | None: ...
    @property
    def completed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class WaitingPosition:
    number: str
    position: int
    estimated_wait_seconds: float


@dataclass(frozen=True, slots=True)
class ServiceQueue:
    """One service's queue: waiting, at a desk, served, and the estimated waits."""

    service: str
    agency: str
    waiting: int
    called: int
    served: int
    now_serving: list[str]
    mean_service_seconds: float
    active_desks: int
    estimated_wait_seconds: float
    positions: list[WaitingPosition]


@dataclass(frozen=True, slots=True)
class QueueReport:
    session_id: str
    status: str
    services: list[ServiceQueue]


def service_queue(
    service: str,
    agency: str,
    tickets: Sequence[QueuedTicket],
    *,
    priority_streak: int,
    desks_lately: int,
    prior_mean_seconds: float,
    priority_per_regular: int,
) -> ServiceQueue:
    """A service's queue from its tickets (in numbering order).

    The mean service time is that of the services completed so far (`prior_mean_seconds`,
    the catalogue's, before any). Desks: those that acted lately, but a called ticket keeps
    a desk busy even if it gave no name, and there is always at least one.
    """
    durations: list[float] = []
    served = 0
    called: list[str] = []
    waiting: list[Waiting] = []
    for ticket in tickets:
        if ticket.status == TicketStatus.WAITING:
            waiting.append(Waiting(ticket.id, ticket.priority))
        elif ticket.status == TicketStatus.CALLED:
            called.append(ticket.number)
        elif ticket.status == TicketStatus.COMPLETED and ticket.called_at and ticket.completed_at:
            durations.append(seconds_between(ticket.called_at, ticket.completed_at))
            if ticket.outcome == Outcome.SERVED:
                served += 1
    mean = sum(durations) / len(durations) if durations else prior_mean_seconds
    active = max(1, desks_lately, len(called))
    numbers = {t.id: t.number for t in tickets}
    order = fair_order(waiting, priority_streak, priority_per_regular)
    # A citizen checking in now joins the regular class (the common case).
    arrival = Waiting("", False)
    arrival_order = fair_order([*waiting, arrival], priority_streak, priority_per_regular)
    return ServiceQueue(
        service=service,
        agency=agency,
        waiting=len(waiting),
        called=len(called),
        served=served,
        now_serving=called,
        mean_service_seconds=round(mean, 1),
        active_desks=active,
        estimated_wait_seconds=round(
            estimated_wait(arrival_order.index(arrival) + 1, len(called), mean, active), 1
        ),
        positions=[
            WaitingPosition(
                number=numbers[w.ticket_id],
                position=index,
                estimated_wait_seconds=round(estimated_wait(index, len(called), mean, active), 1),
            )
            for index, w in enumerate(order, start=1)
        ],
    )
