"""What the one-page printable session report shows beyond the figures: names in words (the
regency, the kecamatan and desa, each agency), and the satisfaction index when there is one.

The IKM (Indeks Kepuasan Masyarakat, PermenPAN-RB 14/2017) section: the session's index
overall and per service (`ikm_rows_of`); with no answers `ikm` is None and the page says the
index is not available.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from botram_contracts.reference import Regency, UnknownRegionError
from botram_reporting.domain.ikm import IkmDimension, IkmReport
from botram_reporting.domain.reports import SessionReport


@dataclass(frozen=True, slots=True)
class IkmRow:
    """One line of the IKM section: who (a service or agency), responses, index and band."""

    label: str
    responses: int
    ikm: float
    band: str


@dataclass(frozen=True, slots=True)
class PrintableSession:
    """A session's report with the names a printed page needs."""

    report: SessionReport
    regency: str
    kecamatan: str | None
    desa: str | None
    agency_names: Mapping[str, str] = field(default_factory=dict)
    ikm: tuple[IkmRow, ...] | None = None


@dataclass(frozen=True, slots=True)
class NamedSession:
    """A session's report with its kecamatan's and desa's names in words."""

    report: SessionReport
    kecamatan: str | None
    desa: str | None


def place_names(
    regions: Regency, kecamatan: str | None, desa: str | None
) -> tuple[str | None, str | None]:
    """The kecamatan's and desa's names in words (the slug, in words, for one unknown)."""
    if kecamatan is None:
        return None, None
    try:
        found = regions.kecamatan(kecamatan)
    except UnknownRegionError:
        return _words(kecamatan), _words(desa) if desa else None
    village = found.find_desa(desa) if desa else None
    return found.name, (village.name if village else _words(desa) if desa else None)


def _words(slug: str) -> str:
    return slug.replace("-", " ").title()


def ikm_rows_of(report: IkmReport, service_names: Mapping[str, str]) -> tuple[IkmRow, ...] | None:
    """The printed IKM lines: every answer first, then each service (None: nobody answered)."""
    if report.overall.responses == 0:
        return None
    overall = IkmRow(
        "Semua layanan", report.overall.responses, report.overall.ikm, report.overall.band
    )
    per_service = [
        IkmRow(
            service_names.get(group.key["service"], group.key["service"]),
            group.responses,
            group.ikm,
            group.band,
        )
        for group in report.groups[IkmDimension.SERVICE]
    ]
    return (overall, *per_service)
