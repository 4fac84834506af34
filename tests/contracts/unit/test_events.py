"""The event contracts: envelope, models, subjects, schemas."""

import json
from datetime import UTC, date, time, timedelta, timezone
from uuid import UUID

import jsonschema
import pytest

from botram_contracts.events import (
    EVENT_MODELS,
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    EventDecodeError,
    ServiceCompletedV1,
    SessionScheduledV1,
    SurveyAnsweredV1,
    UnknownEventType,
    decode_event,
    encode_event,
    make_event,
)
from botram_contracts.schemas import render_schemas
from botram_contracts.subjects import (
    dead_letter_subject,
    is_private,
    private_session_subjects,
    subject_for,
    subject_template,
)

PSEUDONYM = "a" * 64


def scheduled(**overrides: object) -> SessionScheduledV1:
    values: dict[str, object] = {
        "session_id": "s-1",
        "level": "kecamatan",
        "kecamatan": "muara-gembong",
        "date": date(2024, 7, 20),
        "start": time(8),
        "end": time(14),
        "services": ["dukcapil-kk"],
    } | overrides
    return SessionScheduledV1(**values)  # type: ignore[arg-type]


def test_an_event_round_trips_through_the_wire_format() -> None:
    event = make_event(scheduled(), "scheduler")

    decoded = decode_event(encode_event(event))

    assert decoded == event
    assert isinstance(decoded.data, SessionScheduledV1)


def test_the_envelope_is_structured_mode_cloudevents_1_0() -> None:
    body = json.loads(encode_event(make_event(scheduled(), "scheduler")))

    assert body["specversion"] == "1.0"
    assert UUID(body["id"])
    assert body["source"] == "/botram/scheduler"
    assert body["type"] == "botram.session.scheduled.v1"
    assert body["datacontenttype"] == "application/json"
    assert body["subject"] == "botram.session.scheduled.v1.kecamatan.muara-gembong"
    assert body["time"].endswith("Z")


def test_subjects_end_with_the_tokens_subscribers_filter_on() -> None:
    completed = ServiceCompletedV1(
        ticket_id="t",
        check_in_id="c",
        session_id="s",
        citizen=PSEUDONYM,
        service="bpjs-kesehatan-pendaftaran",
        agency="bpjs-kesehatan",
        outcome="served",
        waited_seconds=10,
        service_seconds=20,
    )

    assert subject_for(completed) == (
        "botram.service.completed.v1.bpjs-kesehatan.bpjs-kesehatan-pendaftaran"
    )


def test_private_events_travel_under_the_private_prefix_ending_with_their_session() -> None:
    contact = CitizenContactSharedV1(
        check_in_id="c", session_id="s-1", phone="081234567890", tickets=[]
    )

    assert subject_for(contact) == "botram.private.citizen.contact_shared.v1.s-1"
    assert is_private(subject_for(contact))
    assert subject_template(CitizenContactSharedV1) == (
        "botram.private.citizen.contact_shared.v1.{session_id}"
    )


def test_a_sessions_private_events_are_matched_by_one_filter_and_no_dead_letter() -> None:
    session = private_session_subjects("s-1")

    assert session == "botram.private.*.*.*.s-1"
    assert dead_letter_subject("notifier", private=True) == "botram.private.dlq.notifier"
    assert dead_letter_subject("notifier") == "botram.dlq.notifier"
    assert not is_private(dead_letter_subject("notifier"))
    assert len(session.split(".")) != len(dead_letter_subject("notifier", private=True).split("."))


def test_a_token_that_is_not_a_slug_is_refused() -> None:
    with pytest.raises(ValueError, match="kecamatan"):
        scheduled(kecamatan="Muara Gembong")


def test_the_citizen_field_only_accepts_a_pseudonym_never_a_nik() -> None:
    with pytest.raises(ValueError, match="citizen"):
        CitizenCheckedInV1(
            check_in_id="c",
            session_id="s",
            level="desa",
            kecamatan="cikarang-selatan",
            citizen="3216054507900001",
            sex="F",
            age_band="30-44",
            resident=True,
            priority=False,
            tickets=[],
            checked_in_at="2024-07-09T01:00:00Z",  # type: ignore[arg-type]
        )


def test_consumers_ignore_fields_they_do_not_know() -> None:
    body = json.loads(encode_event(make_event(scheduled(), "scheduler")))
    body["data"]["added_later"] = "an optional v1 field"
    body["extension"] = "a CloudEvents extension attribute"

    decoded = decode_event(json.dumps(body))

    assert decoded.data.session_id == "s-1"


def test_an_unknown_type_is_reported_as_such() -> None:
    body = json.loads(encode_event(make_event(scheduled(), "scheduler")))
    body["type"] = "botram.session.scheduled.v9"

    with pytest.raises(UnknownEventType):
        decode_event(json.dumps(body))


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"{}", b'{"specversion": "1.0", "type": "botram.session.scheduled.v1"}'],
)
def test_a_malformed_event_is_a_decode_error(payload: bytes) -> None:
    with pytest.raises(EventDecodeError):
        decode_event(payload)


def test_invalid_data_names_the_field_without_echoing_the_value() -> None:
    body = json.loads(encode_event(make_event(scheduled(), "scheduler")))
    body["data"]["date"] = "3216054507900001"

    with pytest.raises(EventDecodeError) as error:
        decode_event(json.dumps(body))

    assert "date" in str(error.value)
    assert "3216054507900001" not in str(error.value)


def test_every_contract_event_type_has_a_model() -> None:
    assert set(EVENT_MODELS) == {
        "botram.session.scheduled.v1",
        "botram.session.rescheduled.v1",
        "botram.session.updated.v1",
        "botram.session.cancelled.v1",
        "botram.session.opened.v1",
        "botram.session.closed.v1",
        "botram.citizen.checked_in.v1",
        "botram.citizen.contact_shared.v1",
        "botram.citizen.pre_registered.v1",
        "botram.citizen.tickets_added.v1",
        "botram.ticket.called.v1",
        "botram.ticket.recalled.v1",
        "botram.ticket.expired.v1",
        "botram.ticket.cancelled.v1",
        "botram.service.completed.v1",
        "botram.service.followed_up.v1",
        "botram.citizen.follow_up_shared.v1",
        "botram.ticket.no_show.v1",
        "botram.demand.ranked.v1",
        "botram.survey.answered.v1",
    }


def test_committed_json_schemas_match_the_models(request: pytest.FixtureRequest) -> None:
    directory = request.config.rootpath / "shared" / "schemas"
    rendered = render_schemas()

    committed = {p.name: p.read_text() for p in directory.glob("*.json")}

    assert committed == rendered, "schemas are stale: run `make schemas`"


def test_session_times_are_wib_wall_clock_and_validate_with_format_checking() -> None:
    schema = json.loads(render_schemas()["botram.session.scheduled.v1.json"])
    zoned = scheduled(
        start=time(1, 30, tzinfo=UTC), end=time(14, tzinfo=timezone(timedelta(hours=7)))
    )
    body = json.loads(encode_event(make_event(zoned, "scheduler")))

    assert (body["data"]["start"], body["data"]["end"]) == ("08:30:00", "14:00:00")
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())
    body["data"]["start"] = "8 pagi"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())


def test_a_survey_answer_names_no_citizen_and_no_ticket() -> None:
    """Anonymous (issue 18): no pseudonym, no ticket or check-in id; its outbox row goes once
    published."""
    fields = set(SurveyAnsweredV1.model_fields)
    assert not fields & {"citizen", "ticket_id", "check_in_id", "nik", "name", "phone"}
    assert SurveyAnsweredV1.anonymous and not SurveyAnsweredV1.private
    assert {f"u{i}" for i in range(1, 10)} <= fields
