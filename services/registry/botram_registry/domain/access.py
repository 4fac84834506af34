"""Whose queues and tickets a desk may act on (docs/operations.md, "Access").

A `desk` token acts for the agency its `agency` claim names and, when its `services` claim is
given, only for those services: another agency's queue or ticket answers 403 naming the agency
needed (a desk officer who picked the wrong queue learns why at once). An `operator` acts on any
queue. The route's rule (`allow`) has already admitted only desks and operators.
"""

from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Forbidden


def check_desk(actor: Actor, agency: str, service: str) -> None:
    """Refuse (403) a desk of another agency, or of the agency but not of `service`."""
    if actor.has(Role.OPERATOR):
        return
    if actor.agency != agency:
        raise Forbidden(
            f"this queue belongs to the agency {agency!r}: it needs a desk token of {agency!r}",
            code="agency-required",
            agency=agency,
        )
    if actor.services is not None and service not in actor.services:
        raise Forbidden(
            f"this desk token is not for the service {service!r}",
            code="service-required",
            service=service,
        )
