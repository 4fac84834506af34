"""Scheduler screens: the planner's calendar (contract, "Screens": `/planner`).

The page is a public shell; signed in (planner or operator), its script loads the month view
(`/planner/month`, a fragment rendered from the same use case as `GET /v1/sessions`) and acts
through the JSON API with the bearer token: preview and confirm a generation, open, close,
cancel, move or change (services, quotas, venue, hours) a session.
"""

import calendar
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from botram_contracts.vocabulary import Level
from botram_runtime.access import public
from botram_runtime.clock import MONTHS, WEEKDAYS, local_today
from botram_runtime.pages import PageKitDep
from botram_scheduler.deps import Deps, DepsDep
from botram_scheduler.domain.sessions import FindSessions
from botram_scheduler.schemas import SessionPublic
from botram_scheduler.usecases import sessions

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(public())], default_response_class=HTMLResponse
)

PLANNING_ROLES = ["planner", "operator"]
# A month has at most ~23 Saturdays' and ~60 village days' sessions; one page holds them all.
MONTH_LIMIT = 1000
# The generation form proposes the coming four weeks.
GENERATE_AHEAD = timedelta(days=27)
# The form sends empty fields for "all".
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-12"])]


@router.get("/planner")
async def planner(kit: PageKitDep, deps: DepsDep) -> HTMLResponse:
    """The planner's calendar (signed in as planner or operator)."""
    today = local_today(deps.clock)
    return kit.render(
        "planner.html",
        title="Kalender Botram",
        signin_roles=PLANNING_ROLES,
        month=f"{today:%Y-%m}",
        generate_from=today.isoformat(),
        generate_to=(today + GENERATE_AHEAD).isoformat(),
        kecamatans=[(k.name, k.name) for k in deps.regions.kecamatans],
        services=deps.catalogue.services,
        agencies={slug: agency.name for slug, agency in deps.catalogue.agencies.items()},
    )


@router.get("/planner/month")
async def planner_month(
    kit: PageKitDep,
    deps: DepsDep,
    month: Month = None,
    level: Level | Literal[""] = "",
    kecamatan: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    """One month of sessions, by day, for the planner's calendar (an htmx fragment)."""
    first = date.fromisoformat(f"{month}-01") if month else local_today(deps.clock).replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    command = FindSessions(
        start=first, end=last, level=level or None, kecamatan=kecamatan or None, limit=MONTH_LIMIT
    )
    found = await sessions.list_sessions(deps, command)
    by_day: dict[date, list[SessionPublic]] = {}
    for row in found.rows:
        by_day.setdefault(row.date, []).append(
            SessionPublic.model_validate(row, from_attributes=True)
        )
    return kit.render(
        "planner_month.html",
        first=first,
        month_name=f"{MONTHS[first.month - 1]} {first.year}",
        weekdays=WEEKDAYS,
        months=MONTHS,
        weeks=_weeks(first, last),
        by_day=by_day,
        total=found.total,
        today=local_today(deps.clock),
        names=_place_names(deps),
    )


def _weeks(first: date, last: date) -> list[list[date]]:
    """The weeks (Monday to Sunday) that cover the month, days of the months around included."""
    start = first - timedelta(days=first.weekday())
    days = (last - start).days + 1
    count = -(-days // 7)
    return [[start + timedelta(days=7 * w + d) for d in range(7)] for w in range(count)]


def _place_names(deps: Deps) -> dict[str, str]:
    """Display names of the places sessions store as slugs: `kecamatan` and `kecamatan/desa`."""
    names = {}
    for kecamatan in deps.regions.kecamatans:
        names[kecamatan.slug] = kecamatan.name
        names |= {f"{kecamatan.slug}/{d.slug}": d.name for d in kecamatan.desas}
    return names
