"""What each event adds to the aggregates: pure functions from events to deltas.

Aggregates are named counters with labels. Those whose labels contain no per-session value
become the contract's Prometheus metrics; the per-session ones feed the reports API only.
"""

import bisect
import functools
import math
from collections.abc import Callable, Iterable, Iterator
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
    bucket, plain = _histogram_labels(_le(_bound(buckets, value)), tuple(key.items()))
    yield Delta(f"{name}_bucket", bucket)
    yield Delta(f"{name}_sum", plain, value)
    yield Delta(f"{name}_count", plain)


def _bound(buckets: tuple[float, ...], value: float) -> float:
    """The smallest bucket bound at or above `value` (+Inf above the last)."""
    index = bisect.bisect_left(buckets, value)
    return buckets[index] if index < len(buckets) else math.inf


def _le(bound: float) -> str:
    return "+Inf" if bound == math.inf else repr(bound)


@functools.lru_cache(maxsize=65_536)
def _histogram_labels(le: str, key: tuple[tuple[str, Any], ...]) -> tuple[Labels, Labels]:
    """A histogram's bucket labels (with `le`) and its plain labels, built once per key."""
    return _labels((*key, ("le", le))), _labels(key)


# What each event type adds, by exact type (the event models are not subclassed): one dict
# lookup instead of a chain of isinstance checks, for every event of a busy day.
def deltas_for(data: object) -> list[Delta]:
    """Every metric aggregate change one event makes."""
    deltas = _DELTAS.get(type(data))
    return deltas(data) if deltas is not None else []


def _issued(data: CitizenCheckedInV1 | CitizenTicketsAddedV1) -> list[Delta]:
    out = []
    if type(data) is CitizenCheckedInV1:
        out.append(Delta(CHECKINS, labels(level=data.level, kecamatan=data.kecamatan)))
    for ticket in data.tickets:
        out += [
            Delta(TICKETS_ISSUED, _level_service(data.level, ticket.agency, ticket.service)),
            Delta(QUEUE_WAITING, _queue(data.session_id, ticket.agency, ticket.service)),
        ]
    return out


def _called(data: TicketCalledV1) -> list[Delta]:
    return [
        Delta(QUEUE_WAITING, _queue(data.session_id, data.agency, data.service), -1.0),
        *observe(WAIT, WAIT_BUCKETS, data.waited_seconds, agency=data.agency, service=data.service),
    ]


def _answered(data: SurveyAnsweredV1) -> list[Delta]:
    key = labels(agency=data.agency, service=data.service)
    return [Delta(SURVEY_RESPONSES, key), Delta(SURVEY_SCORE, key, sum(data.scores()))]


def _completed(data: ServiceCompletedV1) -> list[Delta]:
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


def _ended_waiting(data: TicketExpiredV1 | TicketCancelledV1) -> list[Delta]:
    """It waited until the session's end (expired at the close, or cancelled with it)."""
    return [Delta(QUEUE_WAITING, _queue(data.session_id, data.agency, data.service), -1.0)]


def _followed_up(data: ServiceFollowedUpV1) -> list[Delta]:
    return list(
        observe(
            READY_TIME,
            READY_BUCKETS,
            data.seconds_since_completion,
            agency=data.agency,
            service=data.service,
        )
    )


def _no_show(data: TicketNoShowV1) -> list[Delta]:
    return [Delta(NO_SHOWS, _level_service(data.level, data.agency, data.service))]


_DELTAS: dict[type, Callable[[Any], list[Delta]]] = {
    CitizenCheckedInV1: _issued,
    CitizenTicketsAddedV1: _issued,
    TicketCalledV1: _called,
    SurveyAnsweredV1: _answered,
    ServiceCompletedV1: _completed,
    TicketExpiredV1: _ended_waiting,
    TicketCancelledV1: _ended_waiting,
    ServiceFollowedUpV1: _followed_up,
    TicketNoShowV1: _no_show,
}


# The two label sets every ticket uses, cached by their values as positional arguments (no
# keyword dict to build per event).
@functools.lru_cache(maxsize=65_536)
def _queue(session_id: str, agency: str, service: str) -> Labels:
    return labels(session_id=session_id, agency=agency, service=service)


@functools.lru_cache(maxsize=65_536)
def _level_service(level: str, agency: str, service: str) -> Labels:
    return labels(level=level, agency=agency, service=service)


def sum_deltas(deltas: Iterable[Delta]) -> list[Delta]:
    """One delta per aggregate (name and labels): the sum of the batch's, in first-seen order."""
    sums: dict[tuple[str, Labels], float] = {}
    get = sums.get
    for name, key, value in deltas:
        sums[name, key] = get((name, key), 0.0) + value
    return [Delta(name, key, value) for (name, key), value in sums.items()]
