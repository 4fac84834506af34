"""Changing a session after it was put on the calendar: which fields its status allows.

A scheduled session may change anything. An opened session has citizens holding tickets,
and the scheduler does not know how many each service issued, so it may only grow: add
services and raise quotas (never remove a service nor lower a quota, which could take away
a ticket already issued), and keep its venue and hours (citizens came there; a session that
must move is rescheduled or cancelled). A closed or cancelled session is history.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import time

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor
from botram_runtime.errors import Conflict, Invalid
from botram_scheduler.domain.sessions import Quotas, session_services

EDITABLE = ("services", "quotas", "venue", "start", "end")


@dataclass(frozen=True)
class UpdateSession:
    """Change a session's services, quotas (only the services named), venue or hours."""

    actor: Actor
    session_id: str
    services: Sequence[str] | None = None
    quotas: Mapping[str, int] | None = None
    venue: str | None = None
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class SessionFields:
    """What an update may change, as the session has it."""

    services: tuple[str, ...]
    quotas: Mapping[str, int]
    venue: str | None
    start: time
    end: time

    def changed_from(self, before: "SessionFields") -> list[str]:
        """The names of the fields that differ from `before`, in `EDITABLE` order."""
        return [name for name in EDITABLE if getattr(self, name) != getattr(before, name)]


def updated_fields(
    status: SessionStatus,
    level: Level,
    current: SessionFields,
    command: UpdateSession,
    catalogue: Catalogue,
    rule: Quotas,
) -> SessionFields:
    """The session's fields after `command`, or the rule it breaks (409 by the status, 422 by
    the values). A service added without a quota gets the level's quota from the rules."""
    if status in (SessionStatus.CLOSED, SessionStatus.CANCELLED):
        raise Conflict(f"a {status} session cannot be changed", code="session-ended")
    services = current.services
    if command.services is not None:
        services = tuple(session_services(catalogue, level, command.services))
    quotas = {code: current.quotas.get(code, rule.of(code)) for code in services}
    unknown = [code for code in command.quotas or {} if code not in quotas]
    if unknown:
        raise Invalid(
            f"quota for a service the session does not offer: {', '.join(unknown)}",
            code="quota-for-unknown-service",
        )
    quotas |= command.quotas or {}
    after = replace(
        current,
        services=services,
        quotas=quotas,
        venue=command.venue if command.venue is not None else current.venue,
        start=command.start or current.start,
        end=command.end or current.end,
    )
    if after.end <= after.start:
        raise Invalid(f"end {after.end} must be after start {after.start}", code="end-before-start")
    if status == SessionStatus.OPENED:
        check_opened_only_grows(current, after)
    return after


def check_opened_only_grows(before: SessionFields, after: SessionFields) -> None:
    """An opened session adds services and raises quotas; nothing else (409)."""
    removed = [code for code in before.services if code not in after.services]
    if removed:
        raise Conflict(
            f"an opened session keeps its services (citizens may hold tickets): "
            f"{', '.join(removed)} cannot be removed",
            code="opened-session-keeps-services",
        )
    lowered = [
        code
        for code, quota in before.quotas.items()
        if code in after.quotas and after.quotas[code] < quota
    ]
    if lowered:
        raise Conflict(
            f"an opened session's quotas may only be raised: {', '.join(lowered)}",
            code="opened-session-quota-lowered",
        )
    fixed = [name for name in ("venue", "start", "end") if name in after.changed_from(before)]
    if fixed:
        raise Conflict(
            f"an opened session keeps its {', '.join(fixed)}: reschedule or cancel it instead",
            code="opened-session-fixed",
        )
