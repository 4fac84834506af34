"""Who may record a follow-up, and on which tickets (pure rules)."""

from datetime import date

import pytest

from botram_contracts.vocabulary import Outcome
from botram_registry.domain.follow_ups import (
    check_follow_up_access,
    check_until,
    outcome_to_follow_up,
)
from botram_registry.domain.tickets import TicketStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Conflict, Forbidden, Invalid


def actor(*roles: Role, agency: str = "dukcapil", services: set[str] | None = None) -> Actor:
    return Actor(
        "a-1",
        frozenset(roles),
        agency=agency,
        services=None if services is None else frozenset(services),
    )


def test_the_tickets_agency_may_follow_it_up_and_no_other() -> None:
    check_follow_up_access(actor(Role.AGENCY), "dukcapil", "dukcapil-kk")
    check_follow_up_access(actor(Role.DESK, services={"dukcapil-kk"}), "dukcapil", "dukcapil-kk")
    # An agency's own systems are not confined to services, whatever the claim says.
    check_follow_up_access(actor(Role.AGENCY, services={"x"}), "dukcapil", "dukcapil-kk")

    with pytest.raises(Forbidden) as other:
        check_follow_up_access(actor(Role.AGENCY, agency="pmi"), "dukcapil", "dukcapil-kk")
    with pytest.raises(Forbidden) as service:
        check_follow_up_access(actor(Role.DESK, services={"x"}), "dukcapil", "dukcapil-kk")

    assert (other.value.code, service.value.code) == ("agency-required", "service-required")


@pytest.mark.parametrize(
    "status,outcome,expected",
    [
        (TicketStatus.COMPLETED, Outcome.SERVED, Outcome.SERVED),
        (TicketStatus.COMPLETED, Outcome.REFERRED, Outcome.REFERRED),
        (TicketStatus.TRANSFERRED, Outcome.REFERRED, Outcome.REFERRED),
    ],
)
def test_served_and_referred_tickets_may_be_followed_up(
    status: TicketStatus, outcome: Outcome, expected: Outcome
) -> None:
    assert outcome_to_follow_up(status, outcome) == expected


@pytest.mark.parametrize(
    "status,outcome",
    [
        (TicketStatus.WAITING, None),
        (TicketStatus.CALLED, None),
        (TicketStatus.NO_SHOW, None),
        (TicketStatus.EXPIRED, None),
        (TicketStatus.CANCELLED, None),
        (TicketStatus.COMPLETED, Outcome.REJECTED),
    ],
)
def test_other_tickets_have_nothing_to_follow_up(
    status: TicketStatus, outcome: Outcome | None
) -> None:
    with pytest.raises(Conflict) as refused:
        outcome_to_follow_up(status, outcome)

    assert refused.value.code == "ticket-not-finished"


def test_a_deadline_in_the_past_is_refused() -> None:
    check_until(None, date(2026, 12, 2))
    check_until(date(2026, 12, 2), date(2026, 12, 2))
    with pytest.raises(Invalid):
        check_until(date(2026, 12, 1), date(2026, 12, 2))
