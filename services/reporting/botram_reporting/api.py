"""Reporting HTTP routes: session report, summary (JSON or CSV), demand ranking."""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from botram_contracts.reference import UnknownRegionError, load_regions
from botram_reporting import handlers, reports
from botram_reporting.handlers import Reporting
from botram_runtime.clock import local_today, system_clock
from botram_runtime.problems import Problem

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Level = Literal["kecamatan", "desa"]
FromDate = Annotated[date | None, Query(alias="from", description="First day (inclusive)")]
ToDate = Annotated[date | None, Query(alias="to", description="Last day (inclusive)")]


def _reporting(request: Request) -> Reporting:
    reporting: Reporting = request.app.state.reporting
    return reporting


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise Problem(
            422,
            f"The period starts ({start}) after it ends ({end}): swap 'from' and 'to'.",
            code="invalid-period",
        )


def _kecamatan_slug(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return load_regions().kecamatan(name).slug
    except UnknownRegionError as error:
        raise Problem(
            422, str(error), code="unknown-kecamatan", suggestions=list(error.suggestions)
        ) from error


@router.get("/sessions/{session_id}")
async def session_report(session_id: str, request: Request) -> dict[str, Any]:
    """What one session achieved: check-ins, outcomes, waits, who came, per service and agency."""
    reporting = _reporting(request)
    row = await handlers.session_row(reporting, session_id)
    check_ins, tickets = await handlers.facts(reporting, session_id=session_id)
    if row is None and not check_ins and not tickets:
        raise Problem(
            404, f"No session {session_id} is known to reporting.", code="unknown-session"
        )
    session = (
        {"level": row.level, "kecamatan": row.kecamatan, "desa": row.desa, "date": row.date}
        | {"status": row.status}
        if row is not None
        else {"level": None, "kecamatan": None, "desa": None, "date": None, "status": None}
    )
    return {
        "session_id": session_id,
        **session,
        **reports.summary(check_ins, tickets, ("service", "agency")),
    }


@router.get("/summary", response_model=None)
async def summary(
    request: Request,
    start: FromDate = None,
    end: ToDate = None,
    level: Level | None = None,
    kecamatan: str | None = None,
    group_by: Annotated[
        list[Literal["kecamatan", "desa", "service", "agency", "day", "week", "month", "session"]]
        | None,
        Query(description="Breakdowns to include (default: all but session)"),
    ] = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """Totals and breakdowns (kecamatan, desa, service, agency, day/week/month) over a period."""
    _check_period(start, end)
    slug = _kecamatan_slug(kecamatan)
    check_ins, tickets = await handlers.facts(
        _reporting(request), start=start, end=end, level=level, kecamatan=slug
    )
    report = reports.summary(check_ins, tickets, group_by or reports.DIMENSIONS)
    filters = {"from": start, "to": end, "level": level, "kecamatan": slug}
    if format == "csv":
        return Response(
            reports.summary_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="botram-summary.csv"'},
        )
    return {"filters": filters, **report}


def _window(reporting: Reporting, start: date | None, end: date | None) -> tuple[date, date]:
    end = end or local_today(system_clock)
    start = start or end - timedelta(days=reporting.demand_window_days - 1)
    _check_period(start, end)
    return start, end


@router.get("/demand")
async def demand(
    request: Request, start: FromDate = None, end: ToDate = None, level: Level = "kecamatan"
) -> dict[str, Any]:
    """Services ranked by demand (tickets issued) at sessions of one level over a period."""
    reporting = _reporting(request)
    start, end = _window(reporting, start, end)
    async with reporting.db.session() as session:
        ranked = await handlers.ranking(session, reporting, level, start, end)
    return {"period": {"from": start, "to": end}, "level": level, "ranking": ranked}


class PublishDemand(BaseModel):
    level: Level = "kecamatan"
    to: date | None = Field(default=None, description="Last day of the window (default: today)")


@router.post("/demand/publish", status_code=202)
async def publish_demand(body: PublishDemand, request: Request) -> dict[str, Any]:
    """Publish `botram.demand.ranked.v1` now for the configured window (the scheduler uses it)."""
    reporting = _reporting(request)
    _, end = _window(reporting, None, body.to)
    event = await handlers.publish_ranking(reporting, body.level, end)
    return {"event_id": str(event.id), "subject": event.subject, "data": event.data}
