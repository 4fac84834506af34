"""What each event adds to the aggregates: pure functions from events to deltas.

Aggregates are named counters with labels. Those whose labels contain no per-session value
become the contract's Prometheus metrics; the per-session ones feed the reports API only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botram_shared.events import (
    CitizenCheckedInV1,
    ServiceCompletedV1,
    TicketCalledV1,
    TicketNoShowV1,
)

Labels = tuple[tuple[str, str], ...]

WAIT_BUCKETS = (60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
SERVICE_BUCKETS = (60.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)

CHECKINS = "checkins"
TICKETS_ISSUED = "tickets_issued"
SERVICES_COMPLETED = "services_completed"
NO_SHOWS = "no_shows"
WAIT = "wait_seconds"
SERVICE_TIME = "service_seconds"
QUEUE_WAITING = "queue_waiting"
SESSION_CHECKINS = "session_checkins"
SESSION_TICKETS = "session_tickets"
SESSION_COMPLETED = "session_completed"
SESSION_NO_SHOWS = "session_no_shows"


@dataclass(frozen=True, slots=True)
class Delta:
    """Add `value` to the aggregate `name` at `labels`."""

    name: str
    labels: Labels
    value: float = 1.0


def labels(**values: Any) -> Labels:
    return tuple((key, "" if value is None else str(value)) for key, value in values.items())


def observe(name: str, buckets: tuple[float, ...], value: float, **key: Any) -> Iterator[Delta]:
    """Histogram deltas: the bucket the value falls in, the sum and the count."""
    bound = next((b for b in buckets if value <= b), float("inf"))
    yield Delta(f"{name}_bucket", labels(**key, le=_le(bound)))
    yield Delta(f"{name}_sum", labels(**key), value)
    yield Delta(f"{name}_count", labels(**key))


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def deltas_for(data: Any) -> list[Delta]:
    """Every aggregate change one event makes."""
    if isinstance(data, CitizenCheckedInV1):
        out = [
            Delta(CHECKINS, labels(level=data.level, kecamatan=data.kecamatan)),
            Delta(SESSION_CHECKINS, labels(session_id=data.session_id)),
        ]
        for ticket in data.tickets:
            out += [
                Delta(
                    TICKETS_ISSUED,
                    labels(level=data.level, agency=ticket.agency, service=ticket.service),
                ),
                Delta(SESSION_TICKETS, labels(session_id=data.session_id, service=ticket.service)),
                Delta(QUEUE_WAITING, _queue(data.session_id, data.kecamatan, ticket)),
            ]
        return out
    if isinstance(data, TicketCalledV1):
        return [
            Delta(QUEUE_WAITING, _queue(data.session_id, data.kecamatan, data), -1.0),
            *observe(
                WAIT, WAIT_BUCKETS, data.waited_seconds, agency=data.agency, service=data.service
            ),
        ]
    if isinstance(data, ServiceCompletedV1):
        return [
            Delta(
                SERVICES_COMPLETED,
                labels(
                    level=data.level, agency=data.agency, service=data.service, outcome=data.outcome
                ),
            ),
            Delta(
                SESSION_COMPLETED,
                labels(session_id=data.session_id, service=data.service, outcome=data.outcome),
            ),
            *observe(
                SERVICE_TIME,
                SERVICE_BUCKETS,
                data.service_seconds,
                agency=data.agency,
                service=data.service,
            ),
        ]
    if isinstance(data, TicketNoShowV1):
        return [
            Delta(NO_SHOWS, labels(level=data.level, agency=data.agency, service=data.service)),
            Delta(SESSION_NO_SHOWS, labels(session_id=data.session_id, service=data.service)),
        ]
    return []


def _queue(session_id: str, kecamatan: str | None, ticket: Any) -> Labels:
    return labels(
        session_id=session_id, kecamatan=kecamatan, agency=ticket.agency, service=ticket.service
    )
