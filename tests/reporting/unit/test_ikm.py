"""The IKM of the satisfaction survey (PermenPAN-RB 14/2017): the formula, the bands, the
breakdowns, the metrics."""

from dataclasses import dataclass
from datetime import date

import pytest
from prometheus_client import CollectorRegistry

from botram_contracts.events import SurveyAnsweredV1
from botram_reporting.domain.aggregates import deltas_for
from botram_reporting.domain.ikm import (
    ComputeIkm,
    IkmDimension,
    band,
    ikm,
    ikm_report,
    ikm_rows,
    nrr,
)
from botram_reporting.metrics import Aggregates, register_collector


@dataclass(frozen=True)
class Answer:
    agency: str
    service: str
    answers: tuple[int, ...]
    session_id: str = "s-1"
    level: str = "kecamatan"
    kecamatan: str = "sukatani"
    day: date = date(2026, 12, 5)

    def scores(self) -> tuple[int, ...]:
        return self.answers


def test_the_ikm_is_the_mean_of_the_nine_element_means_times_25() -> None:
    answers = [(4, 3, 3, 4, 2, 4, 4, 1, 3), (3, 3, 4, 4, 3, 4, 3, 2, 3)]
    means = nrr(answers)
    assert means == (3.5, 3.0, 3.5, 4.0, 2.5, 4.0, 3.5, 1.5, 3.0)
    # Σ NRR × 1/9 = 28.5 / 9 = 3.1666…; × 25 = 79.1666…
    assert ikm(means) == pytest.approx(28.5 / 9 * 25)
    assert ikm((4.0,) * 9) == pytest.approx(100.0) and ikm((1.0,) * 9) == pytest.approx(25.0)


@pytest.mark.parametrize(
    "index,expected",
    [
        (100.0, ("A", "Sangat Baik")),
        (88.31, ("A", "Sangat Baik")),
        (88.305, ("A", "Sangat Baik")),  # 88.31 rounded to two decimals, as the table reads
        (88.30, ("B", "Baik")),
        (76.61, ("B", "Baik")),
        (76.60, ("C", "Kurang Baik")),
        (65.00, ("C", "Kurang Baik")),
        (64.99, ("D", "Tidak Baik")),
        (25.0, ("D", "Tidak Baik")),
    ],
)
def test_bands_follow_the_regulations_conversion_table(
    index: float, expected: tuple[str, str]
) -> None:
    assert band(index) == expected


def test_a_report_gives_each_agency_and_service_its_own_ikm() -> None:
    answers = [
        Answer("dukcapil", "dukcapil-kk", (4,) * 9),
        Answer("dukcapil", "dukcapil-kk", (3,) * 9, session_id="s-2", day=date(2027, 1, 2)),
        Answer("dukcapil", "dukcapil-ktp", (2,) * 9),
        Answer("pmi", "pmi-donor", (1, 2, 3, 4, 1, 2, 3, 4, 1)),
    ]
    report = ikm_report(ComputeIkm(), answers)

    services = {g.key["service"]: g for g in report.groups[IkmDimension.SERVICE]}
    assert services["dukcapil-kk"].responses == 2
    assert services["dukcapil-kk"].ikm == pytest.approx(87.5)
    assert services["dukcapil-kk"].band == "B"
    assert services["dukcapil-ktp"].ikm == pytest.approx(50.0)
    assert services["pmi-donor"].ikm == pytest.approx(21 / 9 * 25)
    agencies = {g.key["agency"]: g for g in report.groups[IkmDimension.AGENCY]}
    assert agencies["dukcapil"].responses == 3
    assert agencies["dukcapil"].ikm == pytest.approx(75.0)  # answers, not services, weigh
    months = [g.key["month"] for g in report.groups[IkmDimension.MONTH]]
    assert months == ["2026-12", "2027-01"]
    assert report.overall.responses == 4
    rows = ikm_rows(report)
    assert rows[0]["breakdown"] == "overall" and rows[0]["responses"] == 4
    assert {row["breakdown"] for row in rows} == {"overall", *map(str, IkmDimension)}


def test_no_answers_give_no_ikm_and_no_band() -> None:
    report = ikm_report(ComputeIkm(), [])
    assert (report.overall.responses, report.overall.band) == (0, "")
    assert all(groups == [] for groups in report.groups.values())


def test_the_metrics_give_answers_and_the_ikm_per_agency_and_service() -> None:
    mirror = Aggregates()
    common = {
        "session_id": "s-1",
        "service": "dukcapil-kk",
        "agency": "dukcapil",
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": date(2026, 12, 5),
    }
    for n, score in enumerate((4, 3, 3)):
        scores = {f"u{i}": score for i in range(1, 10)}
        mirror.apply(deltas_for(SurveyAnsweredV1(survey_id=f"v{n}", **common, **scores)))

    registry = CollectorRegistry()
    register_collector(registry, mirror)
    key = {"agency": "dukcapil", "service": "dukcapil-kk"}
    assert registry.get_sample_value("botram_survey_responses_total", key) == 3
    assert registry.get_sample_value("botram_ikm", key) == pytest.approx(10 / 3 * 25)
