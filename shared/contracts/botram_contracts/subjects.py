"""Every NATS subject Botram uses is built here, and nowhere else.

Subjects are `<event type>.<filter tokens>`: the version sits in the subject as well as in
the type, and the tokens subscribers filter on (level, kecamatan, agency, service) come last.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the event models build their subjects here: import only for typing
    from botram_contracts.events.models import BotramEvent

ROOT = "botram"
ALL_EVENTS = f"{ROOT}.>"
# Subjects no agency credential may read (phone numbers for the notifier travel here).
PRIVATE_PREFIX = f"{ROOT}.private"
DLQ_PREFIX = f"{ROOT}.dlq"

SESSION_EVENTS = f"{ROOT}.session.>"
CITIZEN_EVENTS = f"{ROOT}.citizen.>"
TICKET_EVENTS = f"{ROOT}.ticket.>"
SERVICE_EVENTS = f"{ROOT}.service.>"
DEMAND_EVENTS = f"{ROOT}.demand.>"
# What reporting and other whole-picture consumers read: every public event family.
PUBLIC_EVENT_FAMILIES = (
    SESSION_EVENTS,
    CITIZEN_EVENTS,
    TICKET_EVENTS,
    SERVICE_EVENTS,
    DEMAND_EVENTS,
)


def subject_for(data: "BotramEvent") -> str:
    """The subject an event is published on: its type, then its filter tokens."""
    tokens = [str(getattr(data, name)) for name in data.subject_fields]
    for name, token in zip(data.subject_fields, tokens, strict=True):
        if not token or "." in token or " " in token or token in {"*", ">"}:
            raise ValueError(f"subject token {name}={token!r} is not a slug")
    event_type = data.event_type
    if data.private:  # botram.citizen.x.v1 -> botram.private.citizen.x.v1
        event_type = PRIVATE_PREFIX + event_type.removeprefix(ROOT)
    return ".".join([event_type, *tokens])


def dead_letter_subject(service: str) -> str:
    """Where a service sends events it can never process, with the reason in headers."""
    return f"{DLQ_PREFIX}.{service}"


def agency_ticket_subjects(agency: str) -> tuple[str, str]:
    """The ticket and service subjects one agency may read (any version, any service)."""
    return (f"{ROOT}.ticket.*.*.{agency}.>", f"{ROOT}.service.*.*.{agency}.>")
