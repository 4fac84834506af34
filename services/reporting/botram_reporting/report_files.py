"""Reports as files to hand in: a summary's or a session's figures as CSV and XLSX, and the
one-page printable session report (HTML with a print stylesheet, Bahasa Indonesia).

Every file has the same rows: a `total` row, then one row per group (`service`, `agency`…);
the XLSX's numbers are numbers, so its totals are the JSON report's. Imported by the HTTP
layer only (it renders what a use case answered).
"""

import csv
import hashlib
import io
from base64 import b64encode
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook  # type: ignore[import-untyped]  # openpyxl ships no type hints
from openpyxl.styles import Font  # type: ignore[import-untyped]

from botram_reporting.domain.printable import PrintableSession
from botram_reporting.domain.reports import AGE_BANDS, SEXES, Report
from botram_runtime.clock import tanggal as tanggal_of

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
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_row(group: str, key: str, cell: dict[str, Any]) -> list[Any]:
    """One cell of a report as a row of `CSV_COLUMNS` (None where there is no figure)."""
    wait, service, ready = cell["wait_seconds"], cell["service_seconds"], cell["ready_seconds"]
    values = [group, key]
    values += [cell[name] for name in CSV_COLUMNS[2:11]]
    values += [wait["mean"], wait["p50"], wait["p90"]]
    values += [service["mean"], service["p50"], service["p90"]]
    values += [cell["follow_ups"], ready["mean"], ready["p50"], ready["p90"]]
    values += [cell["residents"], cell["non_residents"]]
    values += [cell["sex"][sex] for sex in SEXES]
    values += [cell["age_bands"][band] for band in AGE_BANDS]
    return values


def report_rows(report: Report) -> list[list[Any]]:
    """A `total` row, then one row per group (arrivals by hour: JSON only)."""
    rows = [report_row("total", "", report["totals"])]
    for dimension, cells in report["groups"].items():
        rows += [report_row(dimension, cell["key"], cell) for cell in cells]
    return rows


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(report):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def report_xlsx(report: Report, about: Sequence[tuple[str, Any]]) -> bytes:
    """A workbook: `Laporan` (the CSV's rows, numbers as numbers), `Keterangan` (what the
    report answers: its filters or its session)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Laporan"
    sheet.append(list(CSV_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report_rows(report):
        sheet.append(row)
    sheet.freeze_panes = "C2"
    notes = book.create_sheet("Keterangan")
    for name, value in about:
        notes.append([name, "" if value is None else _plain(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of equal keys (e.g. the IKM table) as CSV, a header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def rows_xlsx(
    rows: Sequence[dict[str, Any]], title: str, about: Sequence[tuple[str, Any]]
) -> bytes:
    """The same rows as a workbook: sheet `title` (numbers as numbers), then `Keterangan`."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(list(rows[0]) if rows else [])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_plain(v) for v in row.values()])
    notes = book.create_sheet("Keterangan")
    for name, value in about:
        notes.append([name, "" if value is None else _plain(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- the printable session report ------------------------------------------------------------

SESSION_REPORT_STYLE = Path(__file__).parent / "templates" / "session_report.css"
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
STATUSES = {
    "scheduled": "terjadwal",
    "opened": "berlangsung",
    "closed": "selesai",
    "cancelled": "dibatalkan",
}
LEVELS = {"kecamatan": "Botram Kecamatan", "desa": "Botram Desa"}


def tanggal(day: date | None) -> str:
    return "–" if day is None else tanggal_of(day)


def minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}".replace(".", ",")


def days(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 86400:.1f}".replace(".", ",")


_TEMPLATES.filters.update(tanggal=tanggal, minutes=minutes, days=days)


@cache
def _session_report_style() -> str:
    return SESSION_REPORT_STYLE.read_text()


@cache
def session_report_style_hash() -> str:
    """`sha256-…` of the printable report's one inline stylesheet (its CSP source)."""
    digest = hashlib.sha256(_session_report_style().encode()).digest()
    return "sha256-" + b64encode(digest).decode()


def session_report_html(printable: PrintableSession, printed: date) -> tuple[str, str]:
    """The one-page session report and its Content-Security-Policy (no script; its one
    inline stylesheet allowed by hash)."""
    style = _session_report_style()
    result = printable.report
    html = _TEMPLATES.get_template("session_report.html").render(
        p=printable,
        r=result,
        totals=result.report["totals"],
        agencies=result.report["groups"].get("agency", []),
        level=LEVELS.get(result.level or "", "Botram"),
        status=STATUSES.get(result.status or "", result.status or "–"),
        printed=printed,
        style=style,
    )
    digest = session_report_style_hash()
    policy = f"default-src 'none'; style-src '{digest}'; base-uri 'none'; form-action 'none'"
    return html, policy
