"""Decoding's fast path (the type read from the bytes, one validation from JSON) decodes
exactly what the two-step path does, from payloads that match the committed JSON Schemas,
and fails with the same reasons, so dead letters read as before."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from botram_contracts.events import (
    CitizenCheckedInV1,
    EventDecodeError,
    TicketRef,
    UnknownEventType,
    decode_event,
    encode_event,
    make_event,
)
from botram_contracts.events.codec import _decode_in_two_steps
from botram_contracts.samples import SAMPLES, sample_json

SCHEMAS = Path(__file__).parents[3] / "shared" / "schemas"


def checked_in() -> dict[str, Any]:
    data = CitizenCheckedInV1(
        session_id="s-1",
        level="kecamatan",
        kecamatan="sukatani",
        check_in_id="c-1",
        citizen="a" * 64,
        sex="F",
        age_band="30-44",
        resident=True,
        priority=False,
        checked_in_at=datetime(2026, 12, 5, 2, 15, tzinfo=UTC),
        tickets=[
            TicketRef(
                ticket_id="t-1",
                service="dukcapil-kk",
                agency="dukcapil",
                number="KK-001",
                position=1,
            )
        ],
    )
    body: dict[str, Any] = json.loads(encode_event(make_event(data, "registry")))
    return body


BODIES = [sample_json(t) for t in sorted(SAMPLES)] + [checked_in()]


@pytest.mark.parametrize("body", BODIES, ids=[b["type"] for b in BODIES])
def test_every_sample_matches_its_schema_and_decodes_as_the_two_step_path_does(
    body: dict[str, Any],
) -> None:
    schema = json.loads((SCHEMAS / f"{body['type']}.json").read_text())
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    payload = json.dumps(body).encode()

    assert decode_event(payload) == _decode_in_two_steps(payload)
    assert decode_event(payload.decode()) == _decode_in_two_steps(payload)


@pytest.mark.parametrize("body", BODIES, ids=[b["type"] for b in BODIES])
def test_key_order_and_a_type_inside_data_do_not_mislead_the_fast_path(
    body: dict[str, Any],
) -> None:
    # A producer free to order keys: data first, carrying a "type" of another known event.
    other = (
        "botram.session.opened.v1"
        if body["type"] != "botram.session.opened.v1"
        else ("botram.ticket.called.v1")
    )
    reordered = {"data": body["data"] | {"type": other}} | {
        k: v for k, v in body.items() if k != "data"
    }
    payload = json.dumps(reordered).encode()

    decoded = decode_event(payload)

    assert decoded.type == body["type"]
    assert decoded == _decode_in_two_steps(payload)


def broken(mutate: str) -> bytes:
    body = sample_json("botram.ticket.called.v1")
    if mutate == "data":
        body["data"]["waited_seconds"] = "lama sekali"
    elif mutate == "envelope":
        body["source"] = "not a botram source"
    elif mutate == "missing":
        del body["data"]["ticket_id"]
    elif mutate == "truncated":
        return json.dumps(body).encode()[:-20]
    return json.dumps(body).encode()


@pytest.mark.parametrize("mutate", ["data", "envelope", "missing", "truncated"])
def test_a_bad_event_fails_with_the_reason_of_the_two_step_path(mutate: str) -> None:
    payload = broken(mutate)

    with pytest.raises(EventDecodeError) as fast:
        decode_event(payload)
    with pytest.raises(EventDecodeError) as two_step:
        _decode_in_two_steps(payload)

    assert type(fast.value) is type(two_step.value)
    assert str(fast.value) == str(two_step.value)


def test_an_unknown_version_is_still_unknown() -> None:
    body = sample_json("botram.ticket.called.v1") | {"type": "botram.ticket.called.v9"}

    with pytest.raises(UnknownEventType):
        decode_event(json.dumps(body).encode())
