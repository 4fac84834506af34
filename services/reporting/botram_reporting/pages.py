"""Reporting screens: the report officer's reports (`/reports`, an addition to the contract).

The page is a public shell; signed in (viewer, operator or planner: the readers of the reports
API), its script asks the JSON API with the bearer token for the summary and the sessions of a
period, downloads the summary and each session's report as CSV or XLSX, and opens a session's
printable page for printing. The token never goes into a URL or a cookie.
"""

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from botram_reporting.api_deps import DepsDep
from botram_reporting.report_files import session_report_style_hash
from botram_runtime.access import public
from botram_runtime.clock import local_today
from botram_runtime.pages import PageKitDep

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(public())], default_response_class=HTMLResponse
)

# The readers of `api.py` (READERS).
READING_ROLES = ["viewer", "operator", "planner"]


@router.get("/reports")
async def reports_page(kit: PageKitDep, deps: DepsDep) -> HTMLResponse:
    """The reports of a period: summary, downloads, sessions and their printable pages."""
    today = local_today(deps.clock)
    return kit.render(
        "reports.html",
        title="Laporan Botram",
        signin_roles=READING_ROLES,
        # The printable session report opens from a blob URL, which keeps this page's policy.
        style_hashes=[session_report_style_hash()],
        start=today.replace(day=1).isoformat(),
        end=today.isoformat(),
        kecamatans=[(k.name, k.name) for k in deps.regions.kecamatans],
        agencies=sorted(
            ((slug, agency.name) for slug, agency in deps.catalogue.agencies.items()),
            key=lambda pair: pair[1],
        ),
    )
