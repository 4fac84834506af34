"""What each event adds to the aggregates: pure functions from events to deltas.

Aggregates are named counters with labels. Those whose labels contain no per-session value
become the contract's Prometheus metrics; the per-session ones feed the reports API only.
"""

import functools
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenTicketsAddedV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SurveyAnsweredV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
)

Labels = tuple[tuple[str, str], ...]

WAIT_BUCKETS = (60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
SERVICE_BUCKETS = (60.0, 180.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
# Time to ready (a completion to the agency's follow-up): an hour to a month.
READY_BUCKETS = (3600.0, 21600.0, 86400.0, 259200.0, 604800.0, 1209600.0, 2592000.0)

CHECKINS = "checkins"
TICKETS_ISSUED = "tickets_issued"
SERVICES_COMPLETED = "services_completed"
NO_SHOWS = "no_shows"
WAIT = "wait_seconds"
SERVICE_TIME = "service_seconds"
READY_TIME = "ready_seconds"
# Tickets waiting, by session (resolved to its kecamatan, and to opened sessions only, when
# the gauge is collected): the session id never becomes a metric label.
QUEUE_WAITING = "queue_waiting"
# Survey answers, and the sum of their nine scores, per agency and service: the IKM metric
# is 25 x score / (9 x responses) (every answer scores all nine elements).
SURVEY_RESPONSES = "survey_responses"
SURVEY_SCORE = "survey_score"


class Delta(NamedTuple):
    """Add `value` to the aggregate `name` at `labels`.

    A named tuple, not a frozen dataclass: a few are made per event, and a frozen
    dataclass's `__init__` costs three times as much."""

    name: str
    labels: Labels
    value: float = 1.0


def labels(**values: Any) -> Labels:
    """Label pairs in the order given; None becomes the empty string."""
    return _labels(tuple(values.items()))


# A day's events share few label sets (kecamatan, agency, service, session): each is built
# once, which was a fifth of reporting's CPU per event. Bounded; values are str or StrEnum.
@functools.lru_cache(maxsize=65_536)
def _labels(items: tuple[tuple[str, Any], ...]) -> Labels:
    return tuple((key, "" if value is None else str(value)) for key, value in items)


def observe(name: str, buckets: tuple[float, ...], value: float, **key: Any) -> Iterator[Delta]:
    """Histogram deltas: the bucket the value falls in, the sum and the count."""
    bound = next((b for b in buckets if value <= b), float("inf"))
    yield Delta(f"{name}_bucket", labels(**key, le=_le(bound)))
    plain = labels(**key)
    yield Delta(f"{name}_sum", plain, value)
    yield Delta(f"{name}_count", plain)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def deltas_for(data: object) -> list[Delta]:
    """Every metric aggregate change one event makes."""
    if isinstance(data, CitizenCheckedInV1 | CitizenTicketsAddedV1):
        out = []
        if isinstance(data, CitizenCheckedInV1):
            out.append(Delta(CHECKINS, labels(level=data.level, kecamatan=data.kecamatan)))
        for ticket in data.tickets:
            out += [
                Delta(
                    TICKETS_ISSUED,
                    labels(level=data.level, agency=ticket.agency, service=ticket.service),
                ),
                Delta(QUEUE_WAITING, _queue(data.session_id, ticket.agency, ticket.service)),
            ]
        return out
    if isinstance(data, TicketCalledV1):
        return [
            Delta(QUEUE_WAITING, _queue(data.session_id, data.agency, data.service), -1.0),
            *observe(
                WAIT, WAIT_BUCKETS, data.waited_seconds, agency=data.agency, service=data.service
            ),
        ]
    if isinstance(data, SurveyAnsweredV1):
        key = labels(agency=data.agency, service=data.service)
        return [Delta(SURVEY_RESPONSES, key), Delta(SURVEY_SCORE, key, sum(data.scores()))]
    if isinstance(data, ServiceCompletedV1):
        return [
            Delta(
                SERVICES_COMPLETED,
                labels(
                    level=data.level, agency=data.agency, service=data.service, outcome=data.outcome
                ),
            ),
            *observe(
                SERVICE_TIME,
                SERVICE_BUCKETS,
                data.service_seconds,
                agency=data.agency,
                service=data.service,
            ),
        ]
    if isinstance(data, TicketExpiredV1 | TicketCancelledV1):  # it waited until the end
        return [Delta(QUEUE_WAITING, _queue(data.session_id, data.agency, data.service), -1.0)]
    if isinstance(data, ServiceFollowedUpV1):
        return list(
            observe(
                READY_TIME,
                READY_BUCKETS,
                data.seconds_since_completion,
                agency=data.agency,
                service=data.service,
            )
        )
    if isinstance(data, TicketNoShowV1):
        return [Delta(NO_SHOWS, labels(level=data.level, agency=data.agency, service=data.service))]
    return []


def _queue(session_id: str, agency: str, service: str) -> Labels:
    return labels(session_id=session_id, agency=agency, service=service)


def sum_deltas(deltas: Iterable[Delta]) -> list[Delta]:
    """One delta per aggregate (name and labels): the sum of the batch's, in first-seen order."""
    sums: dict[tuple[str, Labels], float] = {}
    get = sums.get
    for name, key, value in deltas:
        sums[name, key] = get((name, key), 0.0) + value
    return [Delta(name, key, value) for (name, key), value in sums.items()]
