"""Reporting HTTP routes: the sessions of a period, session report, summary (JSON, CSV or
XLSX), the printable session report, demand ranking."""

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from botram_contracts.vocabulary import Level
from botram_reporting.api_deps import DepsDep
from botram_reporting.domain.demand import PublishRanking, RankDemand
from botram_reporting.domain.reports import DIMENSIONS, Dimension, Report, ReportSession, Summarise
from botram_reporting.report_files import (
    XLSX_MEDIA_TYPE,
    report_csv,
    report_xlsx,
    session_report_html,
)
from botram_reporting.schemas import (
    DemandPublic,
    PublishDemand,
    PublishedDemand,
    SessionListPublic,
    SessionReportPublic,
    SummaryPublic,
)
from botram_reporting.usecases import ranking, reports
from botram_runtime.access import allow
from botram_runtime.actors import Actor, Role
from botram_runtime.clock import local_today
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
Format = Annotated[
    Literal["json", "csv", "xlsx"],
    Query(description="json, or a file to hand in: csv, or xlsx (a `total` row, then groups)"),
]
AgencyFilter = Annotated[
    str | None,
    Query(max_length=80, pattern=r"^[a-z0-9-]+$", description="One agency's report (its slug)"),
]


def period_filters(
    start: FromDate = None,
    end: ToDate = None,
    level: Level | None = None,
    kecamatan: Annotated[PlainText | None, Query(max_length=80)] = None,
    agency: AgencyFilter = None,
) -> Summarise:
    """The period and filters the summary and the list of sessions share."""
    return Summarise(start, end, level, kecamatan, agency=agency)


PeriodFilters = Annotated[Summarise, Depends(period_filters)]


def _files(model: type[SummaryPublic] | type[SessionReportPublic]) -> dict[int | str, Any]:
    content: dict[str, Any] = {"application/json": {}, "text/csv": {}, XLSX_MEDIA_TYPE: {}}
    return {200: {"content": content, "model": model, "description": "JSON, CSV or XLSX"}}


@router.get("/sessions", dependencies=READERS)
async def sessions_in_period(deps: DepsDep, period: PeriodFilters) -> SessionListPublic:
    """The sessions with check-ins or tickets over a period (the summary per session), each
    with its place, date, status and figures; with `agency`, that agency's figures."""
    result, found = await reports.sessions_in_period(deps, period)
    return SessionListPublic.of(result, found, deps.regions.name)


@router.get(
    "/sessions/{session_id}",
    response_model=None,
    responses=_files(SessionReportPublic),
    dependencies=READERS,
)
async def session_report(
    session_id: str, deps: DepsDep, format: Format = "json"
) -> SessionReportPublic | Response:
    """What one session achieved: check-ins, outcomes, waits, who came, per service and agency."""
    result = await reports.report_session(deps, ReportSession(session_id))
    if format == "json":
        return SessionReportPublic.of(result, deps.regions.name)
    about = [
        ("regency", deps.regions.name),
        ("session_id", result.session_id),
        ("level", result.level),
        ("kecamatan", result.kecamatan),
        ("desa", result.desa),
        ("date", result.date),
        ("status", result.status),
    ]
    return _file(result.report, format, f"botram-session-{session_id[:36]}", about)


@router.get(
    "/sessions/{session_id}/print",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}},
    dependencies=READERS,
)
async def printable_session_report(session_id: str, deps: DepsDep) -> HTMLResponse:
    """One printable page (A4, Bahasa Indonesia) of what a session achieved: served, no-show,
    expired, cancelled, waits, follow-ups, per agency (and the IKM once computed)."""
    printable = await reports.printable_session(deps, ReportSession(session_id))
    html, policy = session_report_html(printable, local_today(deps.clock))
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@router.get("/summary", response_model=None, responses=_files(SummaryPublic), dependencies=READERS)
async def summary(
    deps: DepsDep, period: PeriodFilters, group_by: GroupBy = None, format: Format = "json"
) -> SummaryPublic | Response:
    """Totals and breakdowns (kecamatan, desa, service, agency, day/week/month) over a period;
    with `agency`, that agency's report (its tickets and the citizens who held them)."""
    command = replace(period, group_by=tuple(group_by or DIMENSIONS))
    result = await reports.summarise(deps, command)
    if format == "json":
        return SummaryPublic.of(result, deps.regions.name)
    about = [
        ("regency", deps.regions.name),
        ("from", result.start),
        ("to", result.end),
        ("level", result.level),
        ("kecamatan", result.kecamatan),
        ("agency", result.agency),
    ]
    name = f"botram-summary-{command.agency}" if command.agency else "botram-summary"
    return _file(result.report, format, name, about)


def _file(report: Report, format: str, name: str, about: list[tuple[str, Any]]) -> Response:
    """A report as a file to hand in (CSV or XLSX), downloaded under `name`."""
    if format == "csv":
        body: str | bytes = report_csv(report)
        media_type = "text/csv; charset=utf-8"
    else:
        body, media_type = report_xlsx(report, about), XLSX_MEDIA_TYPE
    disposition = f'attachment; filename="{name}.{format}"'
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


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
