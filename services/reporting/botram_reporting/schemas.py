"""The HTTP request and response models of the reports API (and its CSV rendering)."""

import csv
import datetime as dt
import io
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from botram_contracts.events import DemandRankedV1
from botram_contracts.vocabulary import Level
from botram_reporting.domain.demand import DemandRanking, PublishedRanking
from botram_reporting.domain.reports import AGE_BANDS, SEXES, Report, SessionReport, Summary
from botram_runtime.inputs import Day


class Durations(BaseModel):
    """Exact figures of a duration in seconds (nearest-rank percentiles; None without data)."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None


class Figures(BaseModel):
    """Every figure of one report cell: volumes, outcomes, durations and who came when."""

    check_ins: int
    tickets_issued: int
    served: int
    referred: int
    rejected: int
    no_shows: int
    expired: int = Field(
        default=0, description="Tickets still waiting when the session closed: unserved demand"
    )
    cancelled: int = Field(
        default=0, description="Tickets still waiting when the session was cancelled"
    )
    waiting: int
    wait_seconds: Durations
    service_seconds: Durations
    follow_ups: int = Field(
        default=0, description="Tickets an agency followed up (e.g. a document ready) since"
    )
    ready_seconds: Durations = Field(
        default=Durations(count=0, mean=None, p50=None, p90=None),
        description="From a ticket's completion to its first follow-up: the time to ready",
    )
    residents: int
    non_residents: int
    sex: dict[str, int]
    age_bands: dict[str, int]
    arrivals_by_hour: dict[str, int] = Field(description="Check-ins by local hour (WIB)")


class Cell(Figures):
    """The figures of one group (one kecamatan, service, day…)."""

    key: str


class SessionReportPublic(BaseModel):
    """What one session achieved; its place, date and status are None if only its facts came."""

    session_id: str
    level: str | None
    kecamatan: str | None
    desa: str | None
    date: dt.date | None
    status: str | None
    totals: Figures
    groups: dict[str, list[Cell]]

    @classmethod
    def of(cls, result: SessionReport) -> "SessionReportPublic":
        return cls.model_validate(
            {
                "session_id": result.session_id,
                "level": result.level,
                "kecamatan": result.kecamatan,
                "desa": result.desa,
                "date": result.date,
                "status": result.status,
                **result.report,
            }
        )


class SummaryFilters(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: dt.date | None = Field(alias="from")
    end: dt.date | None = Field(alias="to")
    level: Level | None
    kecamatan: str | None = Field(description="The kecamatan's slug")


class SummaryPublic(BaseModel):
    """Totals and breakdowns over a period, with the filters they answer."""

    filters: SummaryFilters
    totals: Figures
    groups: dict[str, list[Cell]]

    @classmethod
    def of(cls, result: Summary) -> "SummaryPublic":
        filters = SummaryFilters(
            start=result.start, end=result.end, level=result.level, kecamatan=result.kecamatan
        )
        return cls.model_validate({"filters": filters, **result.report})


class PeriodPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")


class RankedPublic(BaseModel):
    service: str
    agency: str
    tickets: int


class DemandPublic(BaseModel):
    """Services ranked by tickets issued (ties by code); catalogue services with none last."""

    period: PeriodPublic
    level: Level
    ranking: list[RankedPublic]

    @classmethod
    def of(cls, result: DemandRanking) -> "DemandPublic":
        return cls(
            period=PeriodPublic(start=result.start, end=result.end),
            level=result.level,
            ranking=[
                RankedPublic(service=r.service, agency=r.agency, tickets=r.tickets)
                for r in result.ranking
            ],
        )


class PublishDemand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level = Level.KECAMATAN
    to: Day | None = Field(default=None, description="Last day of the window (default: today)")


class PublishedDemand(BaseModel):
    """The `botram.demand.ranked.v1` event staged for publication."""

    event_id: str
    subject: str
    data: DemandRankedV1

    @classmethod
    def of(cls, result: PublishedRanking) -> "PublishedDemand":
        return cls(event_id=result.event_id, subject=result.subject, data=result.data)


CSV_COLUMNS = (
    "group",
    "key",
    "check_ins",
    "tickets_issued",
    "served",
    "referred",
    "rejected",
    "no_shows",
    "expired",
    "cancelled",
    "waiting",
    "wait_mean_seconds",
    "wait_p50_seconds",
    "wait_p90_seconds",
    "service_mean_seconds",
    "service_p50_seconds",
    "service_p90_seconds",
    "follow_ups",
    "ready_mean_seconds",
    "ready_p50_seconds",
    "ready_p90_seconds",
    "residents",
    "non_residents",
    *(f"sex_{sex}" for sex in SEXES),
    *(f"age_{band}" for band in AGE_BANDS),
)


def _csv_row(group: str, key: str, cell: dict[str, Any]) -> list[Any]:
    wait, service = cell["wait_seconds"], cell["service_seconds"]
    values = [group, key]
    values += [cell[name] for name in CSV_COLUMNS[2:11]]
    values += [wait["mean"], wait["p50"], wait["p90"]]
    values += [service["mean"], service["p50"], service["p90"]]
    ready = cell["ready_seconds"]
    values += [cell["follow_ups"], ready["mean"], ready["p50"], ready["p90"]]
    values += [cell["residents"], cell["non_residents"]]
    values += [cell["sex"][sex] for sex in SEXES]
    values += [cell["age_bands"][band] for band in AGE_BANDS]
    return ["" if v is None else v for v in values]


def summary_csv(report: Report) -> str:
    """The summary as CSV: a `total` row, then one row per group (arrivals by hour: JSON only)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_csv_row("total", "", report["totals"]))
    for dimension, cells in report["groups"].items():
        for cell in cells:
            writer.writerow(_csv_row(dimension, cell["key"], cell))
    return out.getvalue()
