"""The contract's metrics as the collector renders the in-memory mirror of the aggregates."""

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from botram_contracts.events import TicketCalledV1
from botram_reporting.domain.aggregates import Delta, deltas_for
from botram_reporting.metrics import Aggregates, register_collector


def samples(aggregates: Aggregates) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    register_collector(registry, aggregates)
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_queue_waiting_counts_opened_sessions_only_by_kecamatan(
    check_in: Callable[..., Any],
) -> None:
    mirror = Aggregates()
    mirror.apply(deltas_for(check_in(1)))
    mirror.apply(deltas_for(check_in(2, session_id="s-2", kecamatan="tarumajaya")))
    mirror.apply(deltas_for(check_in(3, session_id="s-3", kecamatan="tarumajaya")))
    mirror.set_session("s-1", "kecamatan", "sukatani", "opened")
    mirror.set_session("s-2", "kecamatan", "tarumajaya", "closed")
    mirror.set_session("s-3", "kecamatan", "tarumajaya", "opened")

    queue = {k: v for k, v in samples(mirror).items() if k[0] == "botram_queue_waiting"}

    def where(kecamatan: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        labels = (("agency", "dukcapil"), ("kecamatan", kecamatan), ("service", "dukcapil-kk"))
        return ("botram_queue_waiting", labels)

    assert queue == {where("sukatani"): 1.0, where("tarumajaya"): 1.0}
    got = samples(mirror)
    assert got[("botram_sessions", (("level", "kecamatan"), ("status", "opened")))] == 2
    assert got[("botram_checkins_total", (("kecamatan", "sukatani"), ("level", "kecamatan")))] == 1


def test_histograms_are_cumulative_with_the_count_as_inf(ticket: Callable[..., Any]) -> None:
    mirror = Aggregates()
    for waited in (30.0, 200.0, 200.0, 20000.0):
        mirror.apply(deltas_for(TicketCalledV1(**ticket(1), number="X", waited_seconds=waited)))

    got = samples(mirror)

    def bucket(le: str) -> float:
        labels = (("agency", "dukcapil"), ("le", le), ("service", "dukcapil-kk"))
        return got[("botram_wait_seconds_bucket", labels)]

    assert [bucket(le) for le in ("60.0", "300.0", "14400.0", "+Inf")] == [1, 3, 3, 4]
    service = (("agency", "dukcapil"), ("service", "dukcapil-kk"))
    assert got[("botram_wait_seconds_sum", service)] == 20430.0
    assert got[("botram_wait_seconds_count", service)] == 4


def test_a_reload_replaces_the_mirror_with_what_is_stored() -> None:
    mirror = Aggregates()
    mirror.apply([Delta("checkins", (("level", "desa"), ("kecamatan", "sukatani")), 5.0)])
    mirror.set_session("old", "desa", "sukatani", "opened")
    mirror.consumer_lag["reporting"] = 7

    mirror.reload(
        [Delta("checkins", (("level", "kecamatan"), ("kecamatan", "sukatani")), 2.0)],
        [("s-1", "kecamatan", "sukatani", "closed")],
    )

    assert mirror.get("checkins", level="kecamatan", kecamatan="sukatani") == 2.0
    assert mirror.get("checkins", level="desa", kecamatan="sukatani") == 0.0
    assert mirror.sessions == {"s-1": ("kecamatan", "sukatani", "closed")}
    assert mirror.consumer_lag == {"reporting": 7}  # the probe's, not the database's
