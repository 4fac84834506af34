"""A small closed session's events for the tests of reports to hand in (reporting's files and
the printable page in a browser): who came, what each desk did, one document ready later."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from botram_contracts.events import (
    BotramEvent,
    CitizenCheckedInV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketExpiredV1,
    TicketNoShowV1,
    TicketRef,
)

SESSION_ID = "s-report"
DAY = date(2024, 7, 6)
AT = datetime(2024, 7, 6, 2, 0, tzinfo=UTC)  # 09:00 WIB
WHERE: dict[str, Any] = {"session_id": SESSION_ID, "level": "kecamatan", "kecamatan": "sukatani"}
KK, JKN = ("dukcapil-kk", "dukcapil"), ("bpjs-kesehatan-pendaftaran", "bpjs-kesehatan")


def _ticket(n: int, service: tuple[str, str]) -> dict[str, Any]:
    return {
        "ticket_id": f"t-{n}",
        "session_id": SESSION_ID,
        "service": service[0],
        "agency": service[1],
        "level": "kecamatan",
        "kecamatan": "sukatani",
    }


def report_day() -> list[tuple[str, BotramEvent]]:
    """(producer, data): four citizens; KK served (its document ready two days later), KK no
    show, JKN served, KK still waiting at the close (expired)."""
    services = {1: KK, 2: KK, 3: JKN, 4: KK}
    events: list[tuple[str, BotramEvent]] = [
        (
            "scheduler",
            SessionScheduledV1(
                **WHERE, date=DAY, start=time(8), end=time(14), services=[KK[0], JKN[0]]
            ),
        ),
        ("scheduler", SessionOpenedV1(**WHERE, date=DAY, opened_at=AT)),
    ]
    for n, service in services.items():
        ref = TicketRef(
            ticket_id=f"t-{n}", service=service[0], agency=service[1], number=f"X-{n:03d}",
            position=1,
        )  # fmt: skip
        checked_in = CitizenCheckedInV1(
            **WHERE, check_in_id=f"c-{n}", citizen=f"{n:064x}", sex="F" if n % 2 else "M",
            age_band="30-44", resident=True, priority=False, tickets=[ref],
            checked_in_at=AT + timedelta(minutes=n),
        )  # fmt: skip
        events.append(("registry", checked_in))
    for n, waited in ((1, 600.0), (2, 900.0), (3, 300.0)):
        called = TicketCalledV1(
            **_ticket(n, services[n]), number=f"X-{n:03d}", waited_seconds=waited
        )
        events.append(("registry", called))
    for n, waited in ((1, 600.0), (3, 300.0)):
        done = ServiceCompletedV1(
            **_ticket(n, services[n]), check_in_id=f"c-{n}", citizen=f"{n:064x}",
            outcome="served", waited_seconds=waited, service_seconds=420.0,
            completed_at=AT + timedelta(minutes=30),
        )  # fmt: skip
        events.append(("registry", done))
    events.append(("registry", TicketNoShowV1(**_ticket(2, KK))))
    events.append(("registry", TicketExpiredV1(**_ticket(4, KK), number="X-004", expired_at=AT)))
    events.append(("scheduler", SessionClosedV1(**WHERE, date=DAY, closed_at=AT)))
    ready = ServiceFollowedUpV1(
        **_ticket(1, KK), follow_up_id="f-1", kind="document_ready",
        place="Kantor Disdukcapil Cikarang", outcome="served",
        followed_up_at=AT + timedelta(days=2, minutes=30), seconds_since_completion=172800.0,
    )  # fmt: skip
    events.append(("registry", ready))
    return events
