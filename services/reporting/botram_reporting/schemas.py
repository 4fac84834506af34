"""The HTTP request and response models of the reports API (files: `report_files`)."""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from botram_contracts.events import DemandRankedV1
from botram_contracts.vocabulary import Level
from botram_reporting.domain.demand import DemandRanking, PublishedRanking
from botram_reporting.domain.ikm import ELEMENT_NAMES, ELEMENTS, IkmDimension, IkmGroup, IkmReport
from botram_reporting.domain.printable import NamedSession
from botram_reporting.domain.reports import SessionReport, Summary
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


REGENCY = "The regency the report is for (`BOTRAM_REGENCY_NAME`)"


class SessionReportPublic(BaseModel):
    """What one session achieved; its place, date and status are None if only its facts came."""

    regency: str = Field(description=REGENCY)
    session_id: str
    level: str | None
    kecamatan: str | None
    desa: str | None
    date: dt.date | None
    status: str | None
    totals: Figures
    groups: dict[str, list[Cell]]

    @classmethod
    def of(cls, result: SessionReport, regency: str) -> "SessionReportPublic":
        return cls.model_validate(
            {
                "regency": regency,
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
    agency: str | None = Field(default=None, description="One agency's report")


class SummaryPublic(BaseModel):
    """Totals and breakdowns over a period, with the filters they answer."""

    regency: str = Field(description=REGENCY)
    filters: SummaryFilters
    totals: Figures
    groups: dict[str, list[Cell]]

    @classmethod
    def of(cls, result: Summary, regency: str) -> "SummaryPublic":
        filters = SummaryFilters(
            start=result.start,
            end=result.end,
            level=result.level,
            kecamatan=result.kecamatan,
            agency=result.agency,
        )
        return cls.model_validate({"regency": regency, "filters": filters, **result.report})


class SessionLinePublic(BaseModel):
    """One session of a period: its place (slugs and names), date, status and figures."""

    session_id: str
    level: str | None
    kecamatan: str | None
    kecamatan_name: str | None
    desa: str | None
    desa_name: str | None
    date: dt.date | None
    status: str | None
    totals: Figures


class SessionListPublic(BaseModel):
    """The sessions with check-ins or tickets in a period, by date, with the filters."""

    regency: str = Field(description=REGENCY)
    filters: SummaryFilters
    sessions: list[SessionLinePublic]

    @classmethod
    def of(
        cls,
        result: Summary,
        sessions: list[NamedSession],
        regency: str,
    ) -> "SessionListPublic":
        lines = [
            SessionLinePublic(
                session_id=named.report.session_id,
                level=named.report.level,
                kecamatan=named.report.kecamatan,
                kecamatan_name=named.kecamatan,
                desa=named.report.desa,
                desa_name=named.desa,
                date=named.report.date,
                status=named.report.status,
                totals=Figures.model_validate(named.report.report),
            )
            for named in sessions
        ]
        filters = SummaryFilters(
            start=result.start,
            end=result.end,
            level=result.level,
            kecamatan=result.kecamatan,
            agency=result.agency,
        )
        return cls(regency=regency, filters=filters, sessions=lines)


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


# --- the satisfaction survey's IKM (PermenPAN-RB 14/2017) ---


class IkmGroupPublic(BaseModel):
    """The IKM of one group of answers: each element's mean (NRR), the IKM and its band."""

    key: dict[str, str] = Field(description="What the group is (empty: every answer)")
    responses: int
    elements: dict[str, float] = Field(description="u1…u9: each element's mean score (1-4)")
    ikm: float | None = Field(description="25-100 (None without answers)")
    band: str | None = Field(description="A (Sangat Baik) … D (Tidak Baik)")
    band_label: str | None

    @classmethod
    def of(cls, group: IkmGroup) -> "IkmGroupPublic":
        answered = group.responses > 0
        return cls(
            key=group.key,
            responses=group.responses,
            elements={e: round(m, 3) for e, m in zip(ELEMENTS, group.means, strict=True)},
            ikm=round(group.ikm, 2) if answered else None,
            band=group.band or None,
            band_label=group.band_label or None,
        )


class IkmPublic(BaseModel):
    """The IKM over a period: overall, per agency and service (`services`), and per agency,
    session, kecamatan and month."""

    model_config = ConfigDict(populate_by_name=True)

    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    agency: str | None
    service: str | None
    level: Level | None
    element_names: dict[str, str]
    overall: IkmGroupPublic
    services: list[IkmGroupPublic]
    groups: dict[str, list[IkmGroupPublic]]

    @classmethod
    def of(cls, report: IkmReport) -> "IkmPublic":
        q = report.question
        groups = {str(d): [IkmGroupPublic.of(g) for g in gs] for d, gs in report.groups.items()}
        return cls(
            start=q.start,
            end=q.end,
            agency=q.agency,
            service=q.service,
            level=q.level,
            element_names=ELEMENT_NAMES,
            overall=IkmGroupPublic.of(report.overall),
            services=groups.pop(IkmDimension.SERVICE),
            groups=groups,
        )
