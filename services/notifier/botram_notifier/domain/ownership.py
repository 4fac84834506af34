"""Whose subscriptions an actor may see and change (docs/operations.md, "Access").

An `agency` token acts for the one agency its `agency` claim names, never for the agency a
request body names: it creates subscriptions for that agency, lists only those, and another
agency's subscription or delivery does not exist for it (404, exactly as an unknown id, so
ids cannot be probed). An `operator` acts for any agency, naming it in the body.
"""

from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Forbidden, Invalid, NotFound


def confined_agency(actor: Actor) -> str | None:
    """The one agency an actor acts for, or None for an operator (any agency)."""
    if actor.has(Role.OPERATOR):
        return None
    if actor.has(Role.AGENCY) and actor.agency:
        return actor.agency
    # A route's rule lets only operators and agencies in; an agency token needs its claim.
    raise Forbidden(
        "This token names no agency: an agency's token carries the claim `agency`.",
        code="agency-required",
        roles=[Role.AGENCY.value, Role.OPERATOR.value],
    )


def subscription_agency(actor: Actor, requested: str | None) -> str:
    """The agency a new subscription is for: the token's own, or the one an operator names.

    An agency token may leave `agency` out of the body or repeat its own; naming another
    agency is refused (403) rather than silently replaced, so a misconfigured client learns
    at once which agency its token belongs to.
    """
    own = confined_agency(actor)
    if own is None:
        if not requested:
            raise Invalid("Name the agency the subscription is for.", code="agency-required")
        return requested
    if requested is not None and requested != own:
        raise Forbidden(
            f"This token acts for {own!r}; it cannot subscribe for {requested!r}.",
            code="agency-mismatch",
        )
    return own


def check_owner(actor: Actor, agency: str, what: str, ident: str) -> None:
    """Another agency's subscription (or delivery) is not found for an agency token."""
    own = confined_agency(actor)
    if own is not None and own != agency:
        raise NotFound(what, ident)


def listing_agencies(actor: Actor, requested: str | None) -> set[str]:
    """The agencies a listing must match (all of them): the token's own, the one asked for.

    Empty for an operator who asks for no agency (every subscription); an agency token that
    asks for another agency matches nothing.
    """
    own = confined_agency(actor)
    return {agency for agency in (own, requested) if agency}
