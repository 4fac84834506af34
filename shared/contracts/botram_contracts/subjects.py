"""Every NATS subject Botram uses is built here, and nowhere else.

Subjects are `<event type>.<filter tokens>`: the version sits in the subject as well as in
the type, and the tokens subscribers filter on (level, kecamatan, agency, service) come last.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the event models build their subjects here: import only for typing
    from botram_contracts.events.models import BotramEvent

ROOT = "botram"
ALL_EVENTS = f"{ROOT}.>"
# Subjects no agency credential may read (phone numbers for the notifier travel here). They
# live in a stream of their own with a short retention, and a private event's subject ends
# with its session's id, so that a closed session's events can be purged by subject.
PRIVATE_PREFIX = f"{ROOT}.private"
PRIVATE_EVENTS = f"{PRIVATE_PREFIX}.>"
# The private events themselves (the private dead letters, `botram.private.dlq.<service>`,
# share the prefix but are no events to consume).
PRIVATE_CITIZEN_EVENTS = f"{PRIVATE_PREFIX}.citizen.>"
DLQ_PREFIX = f"{ROOT}.dlq"
DLQ_EVENTS = f"{DLQ_PREFIX}.>"

SESSION_EVENTS = f"{ROOT}.session.>"
CITIZEN_EVENTS = f"{ROOT}.citizen.>"
TICKET_EVENTS = f"{ROOT}.ticket.>"
SERVICE_EVENTS = f"{ROOT}.service.>"
DEMAND_EVENTS = f"{ROOT}.demand.>"
# Satisfaction survey answers (anonymous: no pseudonym, no ticket id).
SURVEY_EVENTS = f"{ROOT}.survey.>"
# What reporting and other whole-picture consumers read: every public event family.
PUBLIC_EVENT_FAMILIES = (
    SESSION_EVENTS,
    CITIZEN_EVENTS,
    TICKET_EVENTS,
    SERVICE_EVENTS,
    DEMAND_EVENTS,
    SURVEY_EVENTS,
)


def subject_for(data: "BotramEvent") -> str:
    """The subject an event is published on: its type, then its filter tokens."""
    tokens = [str(getattr(data, name)) for name in data.subject_fields]
    for name, token in zip(data.subject_fields, tokens, strict=True):
        if not token or "." in token or " " in token or token in {"*", ">"}:
            raise ValueError(f"subject token {name}={token!r} is not a slug")
    return ".".join([_typed_subject(type(data)), *tokens])


def subject_template(
    model: "type[BotramEvent]", token: Callable[[str], str] = lambda name: f"{{{name}}}"
) -> str:
    """An event type's subjects with `token(field)` for each filter token.

    `subject_template(SessionOpenedV1)` is `botram.session.opened.v1.{level}.{kecamatan}`
    (AsyncAPI's form); with `token=lambda _: "*"` it is the filter matching every subject of
    that type, which is what a producer's NATS permissions allow.
    """
    return ".".join([_typed_subject(model), *(token(name) for name in model.subject_fields)])


def _typed_subject(model: "type[BotramEvent]") -> str:
    if model.private:  # botram.citizen.x.v1 -> botram.private.citizen.x.v1
        return PRIVATE_PREFIX + model.event_type.removeprefix(ROOT)
    return model.event_type


def is_private(subject: str) -> bool:
    return subject.startswith(PRIVATE_PREFIX + ".")


def private_session_subjects(session_id: str) -> str:
    """Every private event of one session (event types are `botram.<family>.<name>.v<n>`)."""
    return f"{PRIVATE_PREFIX}.*.*.*.{session_id}"


def dead_letter_subject(service: str, *, private: bool = False) -> str:
    """Where a service sends events it can never process, with the reason in headers.

    A private event's dead letter stays under the private prefix (and so in the private
    stream, never where an agency or a public consumer could read it).
    """
    return f"{PRIVATE_PREFIX if private else ROOT}.dlq.{service}"


def agency_ticket_subjects(agency: str) -> tuple[str, str]:
    """The ticket and service subjects one agency may read (any version, any service)."""
    return (f"{ROOT}.ticket.*.*.{agency}.>", f"{ROOT}.service.*.*.{agency}.>")
