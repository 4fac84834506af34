"""One sample of every public event type: what the catalogue (`GET /v1/event-types`), the
sandbox (`POST /v1/subscriptions/{id}/test`) and docs/agencies.md show.

Fixed values (ids derived from the type, one moment), so the documentation generated from
them is stable and checked like the schemas (`botram schemas --check`).
"""

import json
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID, uuid5

from botram_contracts.events import (
    CloudEvent,
    DemandRankedV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
    SurveyAnsweredV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
    TicketRecalledV1,
    WaitingTicketRef,
    make_event,
)
from botram_contracts.events.models import BotramEvent, Period, RankedService
from botram_contracts.vocabulary import Level, Outcome

SAMPLE_NAMESPACE = UUID("6d1f0e57-7f3a-4a53-9c1e-0b07a1a5e001")
SAMPLE_MOMENT = datetime(2026, 12, 5, 2, 15, tzinfo=UTC)  # 09:15 WIB on a Saturday
SAMPLE_DAY = date(2026, 12, 5)
SESSION_ID = str(uuid5(SAMPLE_NAMESPACE, "session"))
PSEUDONYM = "5f1d8c0e" * 8
_SESSION: dict[str, Any] = {
    "session_id": SESSION_ID,
    "level": Level.KECAMATAN,
    "kecamatan": "sukatani",
    "date": SAMPLE_DAY,
}
_TICKET: dict[str, Any] = {
    "ticket_id": str(uuid5(SAMPLE_NAMESPACE, "ticket")),
    "session_id": SESSION_ID,
    "service": "bpjs-kesehatan-pendaftaran",
    "agency": "bpjs-kesehatan",
    "level": Level.KECAMATAN,
    "kecamatan": "sukatani",
    "actor": "desk-officer-7",
}


def _samples() -> list[BotramEvent]:
    return [
        SessionScheduledV1(
            **_SESSION,
            start=time(8),
            end=time(14),
            venue="Kantor Kecamatan Sukatani",
            services=["bpjs-kesehatan-pendaftaran", "dukcapil-kk"],
            quotas={"bpjs-kesehatan-pendaftaran": 100, "dukcapil-kk": 100},
        ),
        SessionRescheduledV1(
            **(_SESSION | {"date": date(2026, 12, 12)}),
            previous_date=SAMPLE_DAY,
            start=time(8),
            end=time(14),
            reason="Banjir di lokasi",
        ),
        SessionUpdatedV1(
            **_SESSION,
            start=time(8),
            end=time(15),
            venue="Kantor Kecamatan Sukatani",
            services=["bpjs-kesehatan-pendaftaran", "dukcapil-kk"],
            quotas={"bpjs-kesehatan-pendaftaran": 100, "dukcapil-kk": 150},
            changed=["quotas", "end"],
        ),
        SessionCancelledV1(**_SESSION, reason="Banjir di lokasi"),
        SessionOpenedV1(**_SESSION, opened_at=SAMPLE_MOMENT),
        SessionClosedV1(**_SESSION, closed_at=SAMPLE_MOMENT),
        TicketCalledV1(
            **_TICKET,
            number="BPJ-012",
            desk="2",
            waited_seconds=840,
            called_at=SAMPLE_MOMENT,
            up_next=[
                WaitingTicketRef(ticket_id=str(uuid5(SAMPLE_NAMESPACE, "next")), number="BPJ-013")
            ],
        ),
        TicketRecalledV1(
            **_TICKET, number="BPJ-012", desk="2", recalls=1, recalled_at=SAMPLE_MOMENT
        ),
        TicketNoShowV1(**_TICKET),
        TicketExpiredV1(**_TICKET, number="BPJ-012", expired_at=SAMPLE_MOMENT),
        TicketCancelledV1(
            **_TICKET, number="BPJ-012", reason="banjir di lokasi", cancelled_at=SAMPLE_MOMENT
        ),
        ServiceCompletedV1(
            **_TICKET,
            check_in_id=str(uuid5(SAMPLE_NAMESPACE, "check-in")),
            citizen=PSEUDONYM,
            outcome=Outcome.SERVED,
            waited_seconds=840,
            service_seconds=420,
            desk="2",
            completed_at=SAMPLE_MOMENT,
        ),
        ServiceFollowedUpV1(
            **_TICKET,
            follow_up_id=str(uuid5(SAMPLE_NAMESPACE, "follow-up")),
            kind="document_ready",
            place="Kantor BPJS Kesehatan Cikarang, loket 3",
            until=date(2026, 12, 19),
            note="Bawa bukti pendaftaran",
            outcome=Outcome.SERVED,
            completed_at=SAMPLE_MOMENT,
            followed_up_at=datetime(2026, 12, 8, 3, 0, tzinfo=UTC),
            seconds_since_completion=261900,
        ),
        DemandRankedV1(
            period=Period.model_validate({"from": date(2026, 11, 1), "to": date(2026, 11, 30)}),
            level=Level.DESA,
            ranking=[
                RankedService(
                    service="bpjs-kesehatan-pendaftaran", agency="bpjs-kesehatan", tickets=412
                )
            ],
        ),
        SurveyAnsweredV1(
            survey_id=str(uuid5(SAMPLE_NAMESPACE, "survey")),
            session_id=SESSION_ID,
            service="bpjs-kesehatan-pendaftaran",
            agency="bpjs-kesehatan",
            level=Level.KECAMATAN,
            kecamatan="sukatani",
            date=SAMPLE_DAY,
            sex="F",
            age_band="30-44",
            resident=True,
            u1=4,
            u2=3,
            u3=3,
            u4=4,
            u5=3,
            u6=4,
            u7=4,
            u8=3,
            u9=2,
        ),
    ]


SAMPLES: dict[str, BotramEvent] = {data.event_type: data for data in _samples()}


def sample_event(event_type: str) -> CloudEvent[Any]:
    """The sample CloudEvent of a type (KeyError: no sample), with a stable id and time."""
    event = make_event(SAMPLES[event_type])
    return event.model_copy(
        update={"id": uuid5(SAMPLE_NAMESPACE, event_type), "time": SAMPLE_MOMENT}
    )


def sample_json(event_type: str) -> dict[str, Any]:
    """The sample as the JSON an agency receives."""
    body: dict[str, Any] = json.loads(sample_event(event_type).model_dump_json(by_alias=True))
    return body


# What agencies may read: session events, their own ticket and service events.
AGENCY_FAMILIES = ("session", "ticket", "service")
SAMPLES_BEGIN = "<!-- BEGIN samples: generated by `botram schemas`, do not edit -->"
SAMPLES_END = "<!-- END samples -->"


def agency_sample_types() -> list[str]:
    """The event types agencies may read, each with its sample."""
    return sorted(t for t in SAMPLES if t.split(".")[1] in AGENCY_FAMILIES)


def render_samples_markdown() -> str:
    """The generated samples section of docs/agencies.md, markers included."""
    parts = [SAMPLES_BEGIN]
    for event_type in agency_sample_types():
        body = json.dumps(sample_json(event_type), indent=2, ensure_ascii=False)
        parts += [
            "",
            f"<details><summary><code>{event_type}</code></summary>",
            "",
            f"Schema: [`shared/schemas/{event_type}.json`](../shared/schemas/{event_type}.json)",
            "",
            "```json",
            body,
            "```",
            "",
            "</details>",
        ]
    parts.append(SAMPLES_END)
    return "\n".join(parts)


def with_samples(document: str) -> str:
    """A document with its samples section replaced by the generated one (ValueError: no
    markers)."""
    start, end = document.find(SAMPLES_BEGIN), document.find(SAMPLES_END)
    if start < 0 or end < start:
        raise ValueError(f"no {SAMPLES_BEGIN} ... {SAMPLES_END} section")
    return document[:start] + render_samples_markdown() + document[end + len(SAMPLES_END) :]
