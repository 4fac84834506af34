"""The contract's Prometheus metrics, served from an in-memory mirror of the stored aggregates.

The mirror is loaded from the database at start-up and updated after each commit, so the
metrics are right again after a restart without waiting for new events, and a redelivered
event (already counted in the database) never counts twice.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from botram_contracts.vocabulary import SessionStatus
from botram_reporting.domain import aggregates as domain
from botram_reporting.domain.aggregates import Delta, Labels
from botram_reporting.domain.ikm import ELEMENTS, ikm

# Aggregate name -> (metric name, help, label names). No label takes a per-citizen or
# per-session value: per-session aggregates stay in the reports API.
COUNTERS = {
    domain.CHECKINS: ("botram_checkins", "Citizens checked in", ("level", "kecamatan")),
    domain.TICKETS_ISSUED: (
        "botram_tickets_issued",
        "Queue tickets issued",
        ("level", "agency", "service"),
    ),
    domain.SERVICES_COMPLETED: (
        "botram_services_completed",
        "Tickets finished at a desk, by outcome",
        ("level", "agency", "service", "outcome"),
    ),
    domain.NO_SHOWS: (
        "botram_no_shows",
        "Called tickets whose holder did not come",
        ("level", "agency", "service"),
    ),
    domain.SURVEY_RESPONSES: (
        "botram_survey_responses",
        "Satisfaction survey (SKM) answers",
        ("agency", "service"),
    ),
}
HISTOGRAMS = {
    domain.WAIT: ("botram_wait_seconds", "Time from ticket issued to called"),
    domain.SERVICE_TIME: ("botram_service_seconds", "Time from ticket called to completed"),
    domain.READY_TIME: (
        "botram_ready_seconds",
        "Time from ticket completed to the agency's follow-up (a document ready)",
    ),
}
HISTOGRAM_BUCKETS = {
    domain.WAIT: domain.WAIT_BUCKETS,
    domain.SERVICE_TIME: domain.SERVICE_BUCKETS,
    domain.READY_TIME: domain.READY_BUCKETS,
}


class Aggregates:
    """The in-memory mirror of the `aggregates` table and of session statuses."""

    def __init__(self) -> None:
        self.values: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        # session id -> (level, kecamatan, status)
        self.sessions: dict[str, tuple[str, str, str]] = {}
        # JetStream messages not yet processed, per consumer of this service (see lag probe).
        self.consumer_lag: dict[str, int] = {}

    def reload(
        self, stored: Iterable[Delta], sessions: Iterable[tuple[str, str, str, str]]
    ) -> None:
        """Forget everything and hold what the database holds: aggregates and sessions."""
        self.values.clear()
        self.sessions.clear()
        self.apply(stored)
        for session_id, level, kecamatan, status in sessions:
            self.set_session(session_id, level, kecamatan, status)

    def apply(self, deltas: Iterable[Delta]) -> None:
        for delta in deltas:
            self.values[delta.name][delta.labels] += delta.value

    def set_session(self, session_id: str, level: str, kecamatan: str, status: str) -> None:
        self.sessions[session_id] = (level, kecamatan, status)

    def get(self, name: str, **labels: str) -> float:
        """The value of one aggregate at exactly these labels (0 when never counted)."""
        return self.values.get(name, {}).get(tuple(labels.items()), 0.0)


class AggregatesCollector(Collector):
    """Exposes the mirror as the contract's metric families."""

    def __init__(self, aggregates: Aggregates) -> None:
        self._aggregates = aggregates

    def collect(self) -> Iterator[Metric]:
        values = self._aggregates.values
        for name, (metric, doc, label_names) in COUNTERS.items():
            family = CounterMetricFamily(metric, doc, labels=label_names)
            for key, value in values.get(name, {}).items():
                family.add_metric([v for _, v in key], value)
            yield family
        for name, (metric, doc) in HISTOGRAMS.items():
            yield self._histogram(name, metric, doc)
        yield self._ikm()
        yield self._queue_waiting()
        yield self._sessions()
        yield self._consumer_lag()

    def _histogram(self, name: str, metric: str, doc: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(metric, doc, labels=("agency", "service"))
        buckets = HISTOGRAM_BUCKETS[name]
        bounds = [repr(b) for b in buckets] + ["+Inf"]
        values = self._aggregates.values
        for key, count in values.get(f"{name}_count", {}).items():
            label_values = dict(key)
            cumulative, series = 0.0, []
            for le in bounds:
                cumulative += values.get(f"{name}_bucket", {}).get((*key, ("le", le)), 0.0)
                series.append((le, cumulative))
            series[-1] = ("+Inf", count)
            family.add_metric(
                [label_values["agency"], label_values["service"]],
                buckets=series,
                sum_value=values.get(f"{name}_sum", {}).get(key, 0.0),
            )
        return family

    def _ikm(self) -> GaugeMetricFamily:
        """The IKM (PermenPAN-RB 14/2017) of all answers so far, per agency and service."""
        family = GaugeMetricFamily(
            "botram_ikm",
            "Indeks Kepuasan Masyarakat (25-100) of the satisfaction survey's answers",
            labels=("agency", "service"),
        )
        scores = self._aggregates.values.get(domain.SURVEY_SCORE, {})
        for key, responses in self._aggregates.values.get(domain.SURVEY_RESPONSES, {}).items():
            if responses:
                mean = scores.get(key, 0.0) / (len(ELEMENTS) * responses)
                family.add_metric([v for _, v in key], ikm([mean] * len(ELEMENTS)))
        return family

    def _queue_waiting(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "botram_queue_waiting",
            "Tickets waiting now at opened sessions",
            labels=("kecamatan", "agency", "service"),
        )
        totals: dict[tuple[str, str, str], float] = defaultdict(float)
        opened = {
            sid: kecamatan
            for sid, (_, kecamatan, status) in self._aggregates.sessions.items()
            if status == SessionStatus.OPENED
        }
        for key, value in self._aggregates.values.get(domain.QUEUE_WAITING, {}).items():
            labels = dict(key)
            kecamatan = opened.get(labels["session_id"])
            if kecamatan is not None:
                totals[(kecamatan, labels["agency"], labels["service"])] += value
        for label_values, value in totals.items():
            family.add_metric(list(label_values), value)
        return family

    def _sessions(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "botram_sessions", "Sessions by level and status", labels=("level", "status")
        )
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for level, _, status in self._aggregates.sessions.values():
            counts[(level, status)] += 1
        for label_values, count in counts.items():
            family.add_metric(list(label_values), count)
        return family

    def _consumer_lag(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "botram_consumer_lag_messages",
            "JetStream messages of this consumer not yet processed (pending + unacknowledged)",
            labels=("consumer",),
        )
        for consumer, lag in sorted(self._aggregates.consumer_lag.items()):
            family.add_metric([consumer], lag)
        return family


def register_collector(registry: CollectorRegistry, aggregates: Aggregates) -> None:
    registry.register(AggregatesCollector(aggregates))
