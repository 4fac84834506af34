"""The summary's CSV: a total row, then one row per group, durations flattened."""

import csv
import io
from datetime import date

from botram_contracts.vocabulary import Level
from botram_reporting.domain.reports import Dimension, Summary, summary
from botram_reporting.report_files import CSV_COLUMNS, report_csv
from botram_reporting.schemas import SummaryPublic


class Row:
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


CHECK_IN = Row(
    id="c1", session_id="s-1", level="kecamatan", kecamatan="sukatani", desa=None,
    day=date(2024, 7, 6), hour=9, sex="M", age_band="18-29", resident=False,
)  # fmt: skip
TICKET = Row(
    id="t1", session_id="s-1", service="dukcapil-kk", agency="dukcapil", check_in_id="c1",
    level="kecamatan", kecamatan="sukatani", desa=None, day=date(2024, 7, 6), called=True,
    waited_seconds=90.0, outcome="served", service_seconds=None, ready_seconds=7200.0,
)  # fmt: skip


def test_the_csv_has_a_total_row_then_a_row_per_group() -> None:
    report = summary([CHECK_IN], [TICKET], (Dimension.SERVICE, Dimension.DAY))  # type: ignore[list-item]

    rows = list(csv.DictReader(io.StringIO(report_csv(report))))

    assert [(r["group"], r["key"]) for r in rows] == [
        ("total", ""),
        ("service", "dukcapil-kk"),
        ("day", "2024-07-06"),
    ]
    total = rows[0]
    assert list(total) == list(CSV_COLUMNS)
    assert (total["check_ins"], total["served"], total["waiting"]) == ("1", "1", "0")
    assert (total["wait_mean_seconds"], total["wait_p90_seconds"]) == ("90.0", "90.0")
    assert total["service_mean_seconds"] == ""  # no completion timed: empty, not "None"
    assert (total["follow_ups"], total["ready_mean_seconds"]) == ("1", "7200.0")
    assert (total["non_residents"], total["sex_M"], total["age_18-29"]) == ("1", "1", "1")


def test_the_json_summary_names_its_period_from_and_to() -> None:
    report = summary([CHECK_IN], [TICKET], ())  # type: ignore[list-item]
    result = Summary(date(2024, 7, 1), None, Level.KECAMATAN, "sukatani", report)

    body = SummaryPublic.of(result, "Kabupaten Karawang").model_dump(mode="json", by_alias=True)

    assert body["regency"] == "Kabupaten Karawang"

    assert body["filters"] == {
        "from": "2024-07-01",
        "to": None,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "agency": None,
    }
    assert body["totals"] == report["totals"] and body["groups"] == {}
