"""Survey answers counted into the IKM on a real database: exactly once, per agency and
service as a hand computation gives it, anonymous rows, and the metrics mirror."""

import io
from datetime import date, time
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from botram_contracts.events import SessionScheduledV1, SurveyAnsweredV1, make_event
from botram_reporting.deps import Deps
from botram_reporting.domain.aggregates import SURVEY_RESPONSES
from botram_reporting.domain.ikm import ComputeIkm, IkmDimension
from botram_reporting.domain.reports import ReportSession
from botram_reporting.report_files import rows_xlsx
from botram_reporting.usecases.ikm import compute_ikm, ikm_table
from botram_reporting.usecases.ingest import apply_events
from botram_reporting.usecases.reports import printable_session

DAY = date(2026, 12, 5)
ANSWERS = {
    ("dukcapil", "dukcapil-kk"): [(4, 3, 3, 4, 2, 4, 4, 1, 3), (3, 3, 4, 4, 3, 4, 3, 2, 3)],
    ("pmi", "pmi-donor-darah"): [(4, 4, 4, 4, 4, 4, 4, 4, 3)],
}


def answered(n: int, agency: str, service: str, scores: tuple[int, ...], **where: Any) -> Any:
    data = SurveyAnsweredV1.model_validate(
        {
            "survey_id": f"v-{n}",
            "session_id": "s-1",
            "service": service,
            "agency": agency,
            "level": "kecamatan",
            "kecamatan": "sukatani",
            "date": DAY,
            "sex": "F",
            "age_band": "30-44",
            "resident": True,
        }
        | {f"u{i}": s for i, s in enumerate(scores, start=1)}
        | where
    )
    return make_event(data, "registry")


def hand_ikm(answers: list[tuple[int, ...]]) -> float:
    means = [sum(a[i] for a in answers) / len(answers) for i in range(9)]
    return sum(m * (1 / 9) for m in means) * 25


async def test_answers_are_counted_once_into_the_ikm_of_their_agency_and_service(
    deps: Deps,
) -> None:
    events = [
        answered(n, agency, service, scores)
        for n, ((agency, service), scores) in enumerate(
            (key, s) for key, answers in ANSWERS.items() for s in answers
        )
    ]
    events.append(answered(9, "pmi", "pmi-donor-darah", (1,) * 9, date=date(2027, 1, 9)))
    assert await apply_events(deps, events) == set()
    assert await apply_events(deps, events[:1]) == {str(events[0].id)}  # a redelivery

    report = await compute_ikm(deps, ComputeIkm(end=DAY))
    services = {(g.key["agency"], g.key["service"]): g for g in report.groups[IkmDimension.SERVICE]}
    for key, answers in ANSWERS.items():
        assert services[key].responses == len(answers)
        assert services[key].ikm == pytest.approx(hand_ikm(answers))
    assert services[("dukcapil", "dukcapil-kk")].band == "B"  # 79.17: Baik
    assert services[("pmi", "pmi-donor-darah")].band == "A"
    only_pmi = await compute_ikm(deps, ComputeIkm(agency="pmi"))
    assert only_pmi.overall.responses == 2
    assert [g.key["month"] for g in only_pmi.groups[IkmDimension.MONTH]] == ["2026-12", "2027-01"]

    rows = await ikm_table(deps, ComputeIkm(end=DAY))
    assert rows[0]["breakdown"] == "overall" and rows[0]["responses"] == 3
    kk = next(r for r in rows if r["breakdown"] == "service" and r["service"] == "dukcapil-kk")
    assert kk["ikm"] == round(hand_ikm(ANSWERS[("dukcapil", "dukcapil-kk")]), 2)
    assert (kk["u1"], kk["u8"]) == (3.5, 1.5)

    assert deps.aggregates.get(SURVEY_RESPONSES, agency="pmi", service="pmi-donor-darah") == 2


async def test_one_sessions_ikm_is_printed_overall_then_per_service(deps: Deps) -> None:
    events = [
        answered(n, agency, service, scores)
        for n, ((agency, service), scores) in enumerate(
            (key, s) for key, answers in ANSWERS.items() for s in answers
        )
    ]
    events.append(answered(9, "pmi", "pmi-donor-darah", (1,) * 9, session_id="s-2"))
    for session_id in ("s-1", "s-3"):
        where = {"session_id": session_id, "level": "kecamatan", "kecamatan": "sukatani"}
        scheduled = SessionScheduledV1(
            **where, date=DAY, start=time(8), end=time(14), services=["dukcapil-kk"]
        )
        events.append(make_event(scheduled, "scheduler"))
    assert await apply_events(deps, events) == set()

    one_session = await compute_ikm(deps, ComputeIkm(session_id="s-1"))
    printed = await printable_session(deps, ReportSession("s-1"))
    nobody = await printable_session(deps, ReportSession("s-3"))

    assert one_session.overall.responses == 3
    assert printed.ikm is not None
    overall, *per_service = printed.ikm
    everyone = [s for answers in ANSWERS.values() for s in answers]
    assert (overall.label, overall.responses) == ("Semua layanan", 3)
    assert overall.ikm == pytest.approx(hand_ikm(everyone))
    assert [(row.responses, row.band) for row in per_service] == [(2, "B"), (1, "A")]
    assert nobody.ikm is None


async def test_the_ikm_workbook_holds_the_same_rows_as_the_table(deps: Deps) -> None:
    events = [answered(n, "pmi", "pmi-donor-darah", (4, 3, 4, 4, 3, 4, 4, 3, 4)) for n in (1, 2)]
    assert await apply_events(deps, events) == set()
    rows = await ikm_table(deps, ComputeIkm(session_id="s-1"))

    book = load_workbook(io.BytesIO(rows_xlsx(rows, "IKM", [("session_id", "s-1")])))

    sheet = [list(row) for row in book["IKM"].iter_rows(values_only=True)]
    assert sheet[0] == list(rows[0])
    assert [r[list(rows[0]).index("ikm")] for r in sheet[1:]] == [r["ikm"] for r in rows]
    assert list(book["Keterangan"].iter_rows(values_only=True)) == [("session_id", "s-1")]
