"""Report use cases on fakes: the clock and the regency come from Deps, errors are domain kinds."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from botram_reporting.deps import Deps
from botram_reporting.domain.demand import RankDemand
from botram_reporting.domain.reports import Dimension, ReportSession, Summarise
from botram_reporting.settings import Settings
from botram_reporting.usecases.reports import rank_demand, report_session, summarise
from botram_runtime.errors import Invalid, NotFound
from helpers import FakeClock

MakeDeps = Callable[..., Deps]


@dataclass
class Issued:
    service: str
    agency: str


async def test_the_demand_window_ends_today_in_bekasi_by_the_clock_of_deps(
    make_deps: MakeDeps,
) -> None:
    # 20:00 UTC on the 6th is 03:00 on the 7th in Bekasi.
    clock = FakeClock(datetime(2024, 7, 6, 20, 0, tzinfo=UTC))
    deps = make_deps(rows=[Issued("pmi-donor-darah", "pmi")], clock=clock)

    ranking = await rank_demand(deps, RankDemand())

    assert (ranking.start, ranking.end) == (date(2024, 4, 9), date(2024, 7, 7))
    assert ranking.ranking[0].service == "pmi-donor-darah" and ranking.ranking[0].tickets == 1


async def test_the_demand_window_follows_the_configured_days(make_deps: MakeDeps) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", demand_window_days=7)
    deps = make_deps(settings=settings)

    ranking = await rank_demand(deps, RankDemand(end=date(2024, 7, 6)))

    assert ranking.start == date(2024, 6, 30)


async def test_a_reversed_demand_period_is_refused(make_deps: MakeDeps) -> None:
    with pytest.raises(Invalid, match="after it ends"):
        await rank_demand(make_deps(), RankDemand(start=date(2024, 7, 31), end=date(2024, 7, 1)))


async def test_a_summary_names_kecamatan_of_the_configured_regency(make_deps: MakeDeps) -> None:
    kota = Settings(database_url="sqlite+aiosqlite:///:memory:", regency="Kota Bekasi")
    deps = make_deps(settings=kota)

    result = await summarise(deps, Summarise(kecamatan="Bekasi Barat", group_by=()))

    assert result.kecamatan == "bekasi-barat"
    assert result.report == {"totals": result.report["totals"], "groups": {}}
    with pytest.raises(Invalid) as refused:
        await summarise(deps, Summarise(kecamatan="Sukatani"))
    assert refused.value.code == "unknown-kecamatan"


async def test_a_summary_checks_the_period_before_the_kecamatan(make_deps: MakeDeps) -> None:
    command = Summarise(
        start=date(2024, 7, 31),
        end=date(2024, 7, 1),
        kecamatan="Nowhere",
        group_by=(Dimension.DAY,),
    )

    with pytest.raises(Invalid) as refused:
        await summarise(make_deps(), command)

    assert refused.value.code == "invalid-period"


async def test_a_session_nobody_told_reporting_about_is_not_found(make_deps: MakeDeps) -> None:
    with pytest.raises(NotFound) as unknown:
        await report_session(make_deps(), ReportSession("nope"))

    assert (unknown.value.code, unknown.value.status) == ("unknown-session", 404)
