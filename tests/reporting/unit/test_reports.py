"""Report figures from facts, and the rules of a report's question (period, kecamatan, window)."""

from dataclasses import dataclass
from datetime import date

import pytest

from botram_contracts.reference import load_catalogue, load_regions
from botram_reporting.domain.demand import Ranked, demand_ranking, demand_window
from botram_reporting.domain.reports import (
    DIMENSIONS,
    Dimension,
    check_period,
    figures,
    grouped,
    kecamatan_slug,
    percentile,
    session_report,
    sessions_of,
    summary,
)
from botram_runtime.errors import Invalid, NotFound

DAY = date(2024, 7, 6)


@dataclass
class CheckIn:
    id: str
    session_id: str = "s-1"
    level: str = "kecamatan"
    kecamatan: str = "sukatani"
    desa: str | None = None
    day: date = DAY
    hour: int = 9
    sex: str = "F"
    age_band: str = "30-44"
    resident: bool = True


@dataclass
class Ticket:
    id: str
    check_in_id: str | None
    service: str = "dukcapil-kk"
    agency: str = "dukcapil"
    session_id: str = "s-1"
    level: str | None = "kecamatan"
    kecamatan: str | None = "sukatani"
    desa: str | None = None
    day: date | None = DAY
    called: bool = False
    waited_seconds: float | None = None
    outcome: str | None = None
    service_seconds: float | None = None
    ready_seconds: float | None = None


@dataclass
class Session:
    level: str = "kecamatan"
    kecamatan: str = "sukatani"
    desa: str | None = None
    date: date = DAY
    status: str = "closed"


def test_percentiles_are_nearest_rank_and_always_an_observed_value() -> None:
    values = [10.0, 20.0, 30.0, 40.0]

    assert percentile(values, 50) == 20.0
    assert percentile(values, 90) == 40.0
    assert percentile(values, 0) == 10.0
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 50) is None


def test_figures_count_outcomes_waits_and_who_came() -> None:
    check_ins = [
        CheckIn("c1", hour=8, sex="M", age_band="60+", resident=False),
        CheckIn("c2", hour=10),
    ]
    tickets = [
        Ticket(
            "t1",
            "c1",
            called=True,
            waited_seconds=60.0,
            outcome="served",
            service_seconds=30.0,
            ready_seconds=86400.0,  # the document was ready a day later
        ),
        Ticket("t2", "c1", called=True, waited_seconds=120.0, outcome="no_show"),
        Ticket("t3", "c2", called=True, waited_seconds=10.0),  # at the desk now
        Ticket("t4", "c2"),
        Ticket("t5", "c2", service="pmi-donor-darah", outcome="expired"),  # waited until close
        Ticket("t6", "c1", service="pmi-donor-darah", outcome="cancelled"),
    ]

    cell = figures(check_ins, tickets)

    assert cell == {
        "check_ins": 2,
        "tickets_issued": 6,
        "served": 1,
        "referred": 0,
        "rejected": 0,
        "no_shows": 1,
        "expired": 1,
        "cancelled": 1,
        "waiting": 1,
        "wait_seconds": {"count": 3, "mean": 63.333, "p50": 60.0, "p90": 120.0},
        "service_seconds": {"count": 1, "mean": 30.0, "p50": 30.0, "p90": 30.0},
        "follow_ups": 1,
        "ready_seconds": {"count": 1, "mean": 86400.0, "p50": 86400.0, "p90": 86400.0},
        "residents": 1,
        "non_residents": 1,
        "sex": {"F": 1, "M": 1},
        "age_bands": {"0-17": 0, "18-29": 0, "30-44": 1, "45-59": 0, "60+": 1},
        "arrivals_by_hour": {"08": 1, "10": 1},
    }


def test_a_service_group_brings_its_holders_check_ins_along_once() -> None:
    check_ins = [CheckIn("c1"), CheckIn("c2")]
    tickets = [
        Ticket("t1", "c1", service="pmi-donor-darah", agency="pmi"),
        Ticket("t2", "c1", service="dukcapil-kk"),
        Ticket("t3", "c1", service="dukcapil-kia"),
        Ticket("t4", "c2", service="dukcapil-kk"),
    ]

    by_agency = {cell["key"]: cell for cell in grouped(Dimension.AGENCY, check_ins, tickets)}
    by_service = [cell["key"] for cell in grouped(Dimension.SERVICE, check_ins, tickets)]

    assert (by_agency["dukcapil"]["check_ins"], by_agency["dukcapil"]["tickets_issued"]) == (2, 3)
    assert (by_agency["pmi"]["check_ins"], by_agency["pmi"]["tickets_issued"]) == (1, 1)
    assert by_service == ["dukcapil-kia", "dukcapil-kk", "pmi-donor-darah"]


def test_place_and_time_groups_skip_facts_without_that_place() -> None:
    check_ins = [
        CheckIn("c1", desa="sukamanah", day=date(2024, 12, 30)),  # ISO week 1 of 2025
        CheckIn("c2"),
    ]

    desa = grouped(Dimension.DESA, check_ins, [])
    weeks = grouped(Dimension.WEEK, check_ins, [])

    assert [cell["key"] for cell in desa] == ["sukatani/sukamanah"]
    assert [cell["key"] for cell in weeks] == ["2024-W27", "2025-W01"]


def test_a_summary_has_totals_and_the_groups_asked_for() -> None:
    report = summary([CheckIn("c1")], [Ticket("t1", "c1")], (Dimension.MONTH, Dimension.SESSION))

    assert report["totals"]["check_ins"] == 1
    assert report["groups"] == {
        "month": [{"key": "2024-07", **figures([CheckIn("c1")], [Ticket("t1", "c1")])}],
        "session": [{"key": "s-1", **figures([CheckIn("c1")], [Ticket("t1", "c1")])}],
    }
    assert "session" not in DIMENSIONS and len(DIMENSIONS) == 7


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    check_period(DAY, DAY)
    check_period(None, DAY)

    with pytest.raises(Invalid) as refused:
        check_period(date(2024, 7, 31), date(2024, 7, 1))

    assert (refused.value.code, refused.value.status) == ("invalid-period", 422)
    assert "swap 'from' and 'to'" in refused.value.detail


def test_the_demand_window_ends_on_its_last_day_and_spans_the_configured_days() -> None:
    assert demand_window(90, DAY) == (date(2024, 4, 8), DAY)
    assert demand_window(1, DAY) == (DAY, DAY)
    assert demand_window(90, DAY, date(2024, 7, 1)) == (date(2024, 7, 1), DAY)
    with pytest.raises(Invalid, match="after it ends"):
        demand_window(90, DAY, date(2024, 7, 7))


def test_a_kecamatan_is_named_as_people_write_it_and_resolved_in_the_regency() -> None:
    bekasi = load_regions()

    assert kecamatan_slug(bekasi, "Sukatani") == "sukatani"
    assert kecamatan_slug(bekasi, "cikarang barat") == "cikarang-barat"
    assert kecamatan_slug(bekasi, None) is None
    with pytest.raises(Invalid) as refused:
        kecamatan_slug(bekasi, "Sukatan")
    assert (refused.value.code, refused.value.status) == ("unknown-kecamatan", 422)
    assert "Sukatani" in refused.value.extensions["suggestions"]
    with pytest.raises(Invalid, match="Kota Bekasi"):
        kecamatan_slug(load_regions("Jawa Barat", "Kota Bekasi"), "Sukatani")


def test_a_session_report_needs_the_session_or_some_of_its_facts() -> None:
    with pytest.raises(NotFound) as unknown:
        session_report("nope", None, [], [])
    assert (unknown.value.code, unknown.value.status) == ("unknown-session", 404)

    known = session_report("s-1", Session(), [], [])
    facts_only = session_report("s-1", None, [CheckIn("c1")], [])

    assert (known.level, known.status, known.date) == ("kecamatan", "closed", DAY)
    assert set(known.report["groups"]) == {"service", "agency"}
    assert (facts_only.level, facts_only.status) == (None, None)
    assert facts_only.report["totals"]["check_ins"] == 1


def test_the_sessions_of_a_period_are_its_session_groups_by_date_with_their_places() -> None:
    check_ins = [CheckIn("c1", session_id="s-b"), CheckIn("c2", session_id="s-a")]
    check_ins += [CheckIn("c3", session_id="s-gone", day=date(2024, 7, 1))]
    tickets = [Ticket("t1", "c1", session_id="s-b", outcome="served")]
    cells = grouped(Dimension.SESSION, check_ins, tickets)
    rows = {"s-a": Session(date=date(2024, 7, 9)), "s-b": Session(desa="ciantra", level="desa")}

    found = sessions_of(cells, rows)

    assert [s.session_id for s in found] == ["s-b", "s-a", "s-gone"]
    assert (found[0].level, found[0].desa, found[0].date) == ("desa", "ciantra", DAY)
    assert found[0].report == figures([check_ins[0]], tickets)
    assert (found[2].level, found[2].date, found[2].report["check_ins"]) == (None, None, 1)


def test_demand_ranks_by_tickets_then_code_and_lists_every_catalogue_service() -> None:
    catalogue = load_catalogue()
    tickets = [
        Ticket("t1", None, service="pmi-donor-darah", agency="pmi"),
        Ticket("t2", None, service="dukcapil-kk"),
        Ticket("t3", None, service="dukcapil-kk"),
        Ticket("t4", None, service="dukcapil-kia"),
    ]

    ranking = demand_ranking(tickets, catalogue)

    assert ranking[:3] == [
        Ranked("dukcapil-kk", "dukcapil", 2),
        Ranked("dukcapil-kia", "dukcapil", 1),
        Ranked("pmi-donor-darah", "pmi", 1),
    ]
    assert len(ranking) == len(catalogue)
    rest = ranking[3:]
    assert all(r.tickets == 0 for r in rest)
    assert [r.service for r in rest] == sorted(r.service for r in rest)
