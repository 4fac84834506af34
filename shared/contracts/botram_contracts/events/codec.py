"""Turning event data into CloudEvents on the wire, and back."""

import re
from typing import Any, cast

from pydantic import ValidationError

from botram_contracts.events.envelope import CloudEvent, RawCloudEvent
from botram_contracts.events.models import EVENT_MODELS, BotramEvent
from botram_contracts.subjects import subject_for

# JetStream drops a publish whose Nats-Msg-Id it saw within the stream's duplicate window.
MSG_ID_HEADER = "Nats-Msg-Id"


class EventDecodeError(ValueError):
    """The bytes are not a valid Botram event: retrying will never help."""


class UnknownEventType(EventDecodeError):
    """A well-formed CloudEvent of a type (or version) this consumer does not know."""

    def __init__(self, event: RawCloudEvent) -> None:
        super().__init__(f"unknown event type {event.type!r}")
        self.event = event


def make_event(data: BotramEvent, service: str | None = None) -> CloudEvent[Any]:
    """Wrap event data in a new CloudEvent from `/botram/<service>` (default: its producer)."""
    envelope = _ENVELOPES.get(data.event_type)
    if envelope is None:  # a model not in the catalogue (tests, a newer producer's draft)
        envelope = cast(type[CloudEvent[Any]], CloudEvent[type(data)])  # type: ignore[misc]
    return envelope(
        source=f"/botram/{service or data.producer}",
        type=data.event_type,
        subject=subject_for(data),
        data=data,
    )


def encode_event(event: CloudEvent[Any]) -> bytes:
    """The structured-mode JSON of an event."""
    return event.model_dump_json(by_alias=True).encode()


# Each known type's envelope, parametrised once (a lookup of `CloudEvent[model]` is not free).
_ENVELOPES: dict[str, type[CloudEvent[Any]]] = {
    event_type: CloudEvent[model]  # type: ignore[valid-type]
    for event_type, model in EVENT_MODELS.items()
}


# The envelope's type as producers write it (`"type":"botram.…"`): a guess that picks the
# model before anything is parsed; the decoded event must confirm it (see `decode_event`).
_TYPE_IN_JSON = re.compile(rb'"type"\s*:\s*"(botram\.[a-z_]+\.[a-z_]+\.v[0-9]+)"')


def decode_event(payload: bytes | str) -> CloudEvent[Any]:
    """Parse and validate a structured-mode CloudEvent against its type's model."""
    # Fast path, from bytes to models in one pass of pydantic-core (~15 % less CPU than
    # parsing to a dict and validating that): the type read from the bytes picks the envelope,
    # and the decoded event must carry that very type (a "type" key elsewhere in the payload
    # could be read first). Anything else takes the two-step path, whose errors say whether
    # the envelope or the data is wrong: the reasons a dead letter records stay the same.
    raw = payload.encode() if isinstance(payload, str) else payload
    found = _TYPE_IN_JSON.search(raw)
    event_type = found.group(1).decode() if found else ""
    envelope = _ENVELOPES.get(event_type)
    if envelope is not None:
        try:
            event = envelope.model_validate_json(raw)
        except ValueError:
            pass
        else:
            if event.type == event_type:
                return event
    return _decode_in_two_steps(payload)


def _decode_in_two_steps(payload: bytes | str) -> CloudEvent[Any]:
    try:
        raw = RawCloudEvent.model_validate_json(payload)
    except ValidationError as error:
        raise EventDecodeError(f"not a valid CloudEvent: {_summary(error)}") from error
    model = EVENT_MODELS.get(raw.type)
    if model is None:
        raise UnknownEventType(raw)
    try:
        data = model.model_validate(raw.data)
    except ValidationError as error:
        raise EventDecodeError(f"invalid {raw.type} data: {_summary(error)}") from error
    return CloudEvent[model](**raw.model_dump(exclude={"data"}), data=data)  # type: ignore[valid-type]


def _summary(error: ValidationError) -> str:
    """A one-line reason (field and message) that is safe to log: no input values."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
    )
