"""Registry rules: pure Python, no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass


class RegistryError(ValueError):
    """A request that breaks a registry rule; `code` names the rule, `status` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class NotFound(RegistryError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what}-not-found", f"{what} {ident} does not exist", status=404)


def ticket_number(prefix: str, seq: int) -> str:
    """`DUK-007`: the service's prefix and the ticket's place in that service's numbering."""
    return f"{prefix}-{seq:03d}"


@dataclass(frozen=True, slots=True)
class Waiting:
    """A waiting ticket as the fairness rule sees it."""

    ticket_id: str
    priority: bool


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


def next_streak(chosen: Waiting, streak: int) -> int:
    return streak + 1 if chosen.priority else 0


def fair_order(
    waiting: Sequence[Waiting], priority_streak: int, priority_per_regular: int
) -> list[Waiting]:
    """The order in which the waiting tickets will be called if nobody else arrives."""
    order, pending, streak = [], list(waiting), priority_streak
    while (chosen := choose_next(pending, streak, priority_per_regular)) is not None:
        order.append(chosen)
        streak = next_streak(chosen, streak)
        pending.remove(chosen)
    return order


def estimated_wait(position: int, being_served: int, mean_seconds: float, desks: int) -> float:
    """Seconds until the ticket at `position` (1 = next) is called.

    Fluid estimate: the tickets ahead of it, plus those at a desk now, shared by the desks.
    """
    return (position - 1 + being_served) * mean_seconds / max(desks, 1)
