"""Reports: what a session achieved, summaries over a period, demand rankings."""

from dataclasses import replace

from botram_reporting import store
from botram_reporting.deps import Deps
from botram_reporting.domain import reports
from botram_reporting.domain.demand import DemandRanking, RankDemand, demand_window
from botram_reporting.domain.ikm import ComputeIkm
from botram_reporting.domain.printable import (
    NamedSession,
    PrintableSession,
    ikm_rows_of,
    place_names,
)
from botram_reporting.domain.reports import (
    Dimension,
    ReportSession,
    SessionReport,
    Summarise,
    Summary,
)
from botram_reporting.usecases.ikm import compute_ikm
from botram_reporting.usecases.ranking import rank
from botram_runtime.clock import local_today


async def report_session(deps: Deps, command: ReportSession) -> SessionReport:
    """Check-ins, outcomes, waits and who came at one session, per service and agency."""
    async with deps.db.session() as session:
        row = await store.session_row(session, command.session_id)
        check_ins, tickets = await store.report_facts(session, session_id=command.session_id)
    return reports.session_report(command.session_id, row, check_ins, tickets)


async def summarise(deps: Deps, command: Summarise) -> Summary:
    """Totals and breakdowns over a period, at one level or in one kecamatan."""
    reports.check_period(command.start, command.end)
    reports.check_agency(deps.catalogue.agencies, command.agency)
    kecamatan = reports.kecamatan_slug(deps.regions, command.kecamatan)
    async with deps.db.session() as session:
        check_ins, tickets = await store.report_facts(
            session,
            start=command.start,
            end=command.end,
            level=command.level,
            kecamatan=kecamatan,
        )
    own_check_ins, own_tickets = reports.of_agency(check_ins, tickets, command.agency)
    report = reports.summary(own_check_ins, own_tickets, command.group_by)
    return Summary(
        command.start, command.end, command.level, kecamatan, report, agency=command.agency
    )


async def sessions_in_period(deps: Deps, command: Summarise) -> tuple[Summary, list[NamedSession]]:
    """The sessions with check-ins or tickets in a period (and filters), each with its place
    (in words too), date, status and figures: the summary per session."""
    result = await summarise(deps, replace(command, group_by=(Dimension.SESSION,)))
    cells = result.report["groups"][Dimension.SESSION.value]
    async with deps.db.session() as session:
        rows = await store.session_rows(session, (cell["key"] for cell in cells))
    found = reports.sessions_of(cells, rows)
    return result, [
        NamedSession(line, *place_names(deps.regions, line.kecamatan, line.desa)) for line in found
    ]


async def printable_session(deps: Deps, command: ReportSession) -> PrintableSession:
    """A session's report with the names its printed page shows and its survey's IKM."""
    result = await report_session(deps, command)
    kecamatan, desa = place_names(deps.regions, result.kecamatan, result.desa)
    names = {slug: agency.name for slug, agency in deps.catalogue.agencies.items()}
    satisfaction = await compute_ikm(deps, ComputeIkm(session_id=command.session_id))
    services = {service.code: service.name for service in deps.catalogue}
    ikm = ikm_rows_of(satisfaction, services)
    return PrintableSession(result, deps.regions.name, kecamatan, desa, names, ikm=ikm)


async def rank_demand(deps: Deps, command: RankDemand) -> DemandRanking:
    """Services ranked by demand over a period (default: the configured window up to today)."""
    end = command.end or local_today(deps.clock)
    start, end = demand_window(deps.settings.demand_window_days, end, command.start)
    async with deps.db.session() as session:
        return await rank(session, deps, command.level, start, end)
