"""Reporting HTTP routes: session report, summary (JSON or CSV), demand ranking."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from botram_contracts.vocabulary import Level
from botram_reporting.deps import DepsDep
from botram_reporting.domain.demand import PublishRanking, RankDemand
from botram_reporting.domain.reports import DIMENSIONS, Dimension, ReportSession, Summarise
from botram_reporting.schemas import (
    DemandPublic,
    PublishDemand,
    PublishedDemand,
    SessionReportPublic,
    SummaryPublic,
    summary_csv,
)
from botram_reporting.usecases import ranking, reports
from botram_runtime.access import allow
from botram_runtime.actors import Actor, Role
from botram_runtime.inputs import Day, PlainText

router = APIRouter(prefix="/v1/reports", tags=["reports"])

# Who may call what (docs/operations.md, "Access"); tests/reporting/integration/test_access.py.
READERS = [Depends(allow(Role.VIEWER, Role.OPERATOR, Role.PLANNER))]
Operator = Annotated[Actor, Depends(allow(Role.OPERATOR))]

FromDate = Annotated[Day | None, Query(alias="from", description="First day (inclusive)")]
ToDate = Annotated[Day | None, Query(alias="to", description="Last day (inclusive)")]
GroupBy = Annotated[
    list[Dimension] | None, Query(description="Breakdowns to include (default: all but session)")
]
CSV = {"content": {"text/csv": {}}, "model": SummaryPublic, "description": "JSON or CSV"}


@router.get("/sessions/{session_id}", dependencies=READERS)
async def session_report(session_id: str, deps: DepsDep) -> SessionReportPublic:
    """What one session achieved: check-ins, outcomes, waits, who came, per service and agency."""
    report = await reports.report_session(deps, ReportSession(session_id))
    return SessionReportPublic.of(report, deps.regions.name)


@router.get("/summary", response_model=None, responses={200: CSV}, dependencies=READERS)
async def summary(
    deps: DepsDep,
    start: FromDate = None,
    end: ToDate = None,
    level: Level | None = None,
    kecamatan: Annotated[PlainText | None, Query(max_length=80)] = None,
    group_by: GroupBy = None,
    format: Literal["json", "csv"] = "json",
) -> SummaryPublic | Response:
    """Totals and breakdowns (kecamatan, desa, service, agency, day/week/month) over a period."""
    command = Summarise(start, end, level, kecamatan, tuple(group_by or DIMENSIONS))
    result = await reports.summarise(deps, command)
    if format == "csv":
        return Response(
            summary_csv(result.report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="botram-summary.csv"'},
        )
    return SummaryPublic.of(result, deps.regions.name)


@router.get("/demand", dependencies=READERS)
async def demand(
    deps: DepsDep, start: FromDate = None, end: ToDate = None, level: Level = Level.KECAMATAN
) -> DemandPublic:
    """Services ranked by demand (tickets issued) at sessions of one level over a period."""
    return DemandPublic.of(await reports.rank_demand(deps, RankDemand(level, start, end)))


@router.post("/demand/publish", status_code=202)
async def publish_demand(body: PublishDemand, deps: DepsDep, actor: Operator) -> PublishedDemand:
    """Publish `botram.demand.ranked.v1` now for the configured window (the scheduler uses it)."""
    command = PublishRanking(actor, level=body.level, end=body.to)
    return PublishedDemand.of(await ranking.publish_ranking(deps, command))
