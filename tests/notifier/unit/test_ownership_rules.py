"""Whose subscriptions an actor may see and change: the agency comes from the token."""

import pytest

from botram_notifier.domain.ownership import (
    check_owner,
    confined_agency,
    listing_agencies,
    subscription_agency,
)
from botram_notifier.domain.subscriptions import (
    DISABLED_BY_AGENCY,
    DISABLED_BY_OPERATOR,
    disabled_by,
)
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Forbidden, Invalid, NotFound

BAZNAS = Actor(sub="baznas-system", roles=frozenset({Role.AGENCY}), agency="baznas")
OPERATOR = Actor(sub="operator-1", roles=frozenset({Role.OPERATOR}))
NAMELESS = Actor(sub="someone", roles=frozenset({Role.AGENCY}))
# An operator's token that also carries an agency still acts for any agency.
OPERATOR_OF_BAZNAS = Actor(
    sub="operator-2", roles=frozenset({Role.OPERATOR, Role.AGENCY}), agency="baznas"
)


def test_an_agency_token_subscribes_for_its_own_agency_named_or_not() -> None:
    assert subscription_agency(BAZNAS, None) == "baznas"
    assert subscription_agency(BAZNAS, "baznas") == "baznas"


def test_an_agency_token_naming_another_agency_is_refused() -> None:
    with pytest.raises(Forbidden) as refused:
        subscription_agency(BAZNAS, "bpjs-kesehatan")

    assert refused.value.code == "agency-mismatch"


def test_an_operator_subscribes_for_the_agency_it_names_and_must_name_one() -> None:
    assert subscription_agency(OPERATOR, "bpjs-kesehatan") == "bpjs-kesehatan"
    assert subscription_agency(OPERATOR_OF_BAZNAS, "bpjs-kesehatan") == "bpjs-kesehatan"
    with pytest.raises(Invalid) as refused:
        subscription_agency(OPERATOR, None)
    assert refused.value.code == "agency-required"


@pytest.mark.parametrize(
    "actor",
    [NAMELESS, Actor(sub="viewer-1", roles=frozenset({Role.VIEWER}), agency="baznas")],
)
def test_a_token_that_acts_for_no_agency_is_refused(actor: Actor) -> None:
    with pytest.raises(Forbidden) as refused:
        confined_agency(actor)

    assert refused.value.code == "agency-required"


def test_another_agencys_subscription_is_not_found_unless_the_caller_is_an_operator() -> None:
    check_owner(BAZNAS, "baznas", "subscription", "s-1")
    check_owner(OPERATOR, "bpjs-kesehatan", "subscription", "s-1")
    check_owner(OPERATOR_OF_BAZNAS, "bpjs-kesehatan", "subscription", "s-1")

    with pytest.raises(NotFound) as hidden:
        check_owner(BAZNAS, "bpjs-kesehatan", "subscription", "s-1")

    assert (hidden.value.status, hidden.value.code) == (404, "subscription-not-found")
    assert hidden.value.detail == "subscription s-1 does not exist"  # as an unknown id


@pytest.mark.parametrize(
    ("actor", "requested", "agencies"),
    [
        (OPERATOR, None, set()),
        (OPERATOR, "baznas", {"baznas"}),
        (BAZNAS, None, {"baznas"}),
        (BAZNAS, "baznas", {"baznas"}),
        (BAZNAS, "bpjs-kesehatan", {"baznas", "bpjs-kesehatan"}),  # matches nothing
    ],
)
def test_a_listing_is_confined_to_the_agency_of_the_token(
    actor: Actor, requested: str | None, agencies: set[str]
) -> None:
    assert listing_agencies(actor, requested) == agencies


def test_a_subscription_disabled_by_hand_says_who_disabled_it() -> None:
    assert disabled_by(OPERATOR) == DISABLED_BY_OPERATOR
    assert disabled_by(BAZNAS) == DISABLED_BY_AGENCY
