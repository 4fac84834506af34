"""Reports to hand in, on a real nats-server: the summary and a session's report as CSV and
XLSX (opened with openpyxl: its totals are the JSON report's), one agency's report, and the
printable session report."""

import csv
import io
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient
from openpyxl import load_workbook  # type: ignore[import-untyped]

from botram_reporting.main import create_app
from botram_reporting.report_files import CSV_COLUMNS, XLSX_MEDIA_TYPE
from botram_reporting.settings import Settings
from helpers import assert_problem, eventually, publish_event, running
from report_events import SESSION_ID, report_day

SUMMARY = "/v1/reports/summary"
SESSION = f"/v1/reports/sessions/{SESSION_ID}"


async def _day_reported(nc: NatsClient, reporting: httpx.AsyncClient) -> dict[str, Any]:
    for producer, data in report_day():
        await publish_event(nc, data, producer)

    async def ready() -> dict[str, Any] | None:
        body: dict[str, Any] = (await reporting.get(SUMMARY)).json()
        totals = body["totals"]
        return body if totals["follow_ups"] == 1 and totals["expired"] == 1 else None

    found: dict[str, Any] = await eventually(ready, within=15)
    return found


def _xlsx_rows(body: bytes) -> list[dict[str, Any]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    sheet = book["Laporan"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(header) == CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in rows]


def _flat(cell: dict[str, Any]) -> dict[str, Any]:
    """A JSON report cell as the file's columns (the figures a file has)."""
    flat = {name: cell[name] for name in CSV_COLUMNS[2:11]}
    for prefix, figure in (("wait", "wait_seconds"), ("service", "service_seconds")):
        for stat in ("mean", "p50", "p90"):
            flat[f"{prefix}_{stat}_seconds"] = cell[figure][stat]
    flat["follow_ups"] = cell["follow_ups"]
    for stat in ("mean", "p50", "p90"):
        flat[f"ready_{stat}_seconds"] = cell["ready_seconds"][stat]
    return flat


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in _flat_names()}


def _flat_names() -> list[str]:
    return [*CSV_COLUMNS[2:17], "follow_ups", "ready_mean_seconds", "ready_p50_seconds",
            "ready_p90_seconds"]  # fmt: skip


async def test_the_xlsx_opens_and_its_totals_and_groups_equal_the_json_report(
    settings: Settings, nc: NatsClient
) -> None:
    async with running(create_app(settings)) as reporting:
        summary = await _day_reported(nc, reporting)
        xlsx = await reporting.get(SUMMARY, params={"format": "xlsx"})
        session_json = (await reporting.get(SESSION)).json()
        session_xlsx = await reporting.get(SESSION, params={"format": "xlsx"})
        session_csv = await reporting.get(SESSION, params={"format": "csv"})

    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    assert 'filename="botram-summary.xlsx"' in xlsx.headers["content-disposition"]
    rows = _xlsx_rows(xlsx.content)
    assert (rows[0]["group"], rows[0]["key"]) == ("total", None)
    assert _figures(rows[0]) == _flat(summary["totals"])
    assert _flat(summary["totals"]) | {"served": 2, "no_shows": 1, "expired": 1} == _flat(
        summary["totals"]
    )
    by_service = {r["key"]: _figures(r) for r in rows if r["group"] == "service"}
    assert by_service == {c["key"]: _flat(c) for c in summary["groups"]["service"]}
    assert by_service["dukcapil-kk"]["ready_mean_seconds"] == 172800.0  # time to ready

    session_rows = _xlsx_rows(session_xlsx.content)
    assert _figures(session_rows[0]) == _flat(session_json["totals"])
    assert {r["group"] for r in session_rows[1:]} == {"service", "agency"}
    [total] = [r for r in csv.DictReader(io.StringIO(session_csv.text)) if r["group"] == "total"]
    assert (total["tickets_issued"], total["follow_ups"]) == ("4", "1")


async def test_one_agencys_report_counts_its_tickets_and_their_holders_only(
    settings: Settings, nc: NatsClient
) -> None:
    async with running(create_app(settings)) as reporting:
        everyone = await _day_reported(nc, reporting)
        dukcapil = (await reporting.get(SUMMARY, params={"agency": "dukcapil"})).json()
        as_csv = await reporting.get(SUMMARY, params={"agency": "dukcapil", "format": "csv"})
        unknown = await reporting.get(SUMMARY, params={"agency": "no-such-agency"})

    assert everyone["totals"]["tickets_issued"] == 4
    assert dukcapil["filters"]["agency"] == "dukcapil"
    totals = dukcapil["totals"]
    assert (totals["check_ins"], totals["tickets_issued"], totals["served"]) == (3, 3, 1)
    assert (totals["no_shows"], totals["expired"], totals["follow_ups"]) == (1, 1, 1)
    assert [c["key"] for c in dukcapil["groups"]["agency"]] == ["dukcapil"]
    assert 'filename="botram-summary-dukcapil.csv"' in as_csv.headers["content-disposition"]
    assert_problem(unknown, 422, "unknown-agency")


async def test_the_printable_session_report_is_one_page_in_bahasa_indonesia_without_scripts(
    settings: Settings, nc: NatsClient
) -> None:
    async with running(create_app(settings)) as reporting:
        await _day_reported(nc, reporting)
        page = await reporting.get(f"{SESSION}/print")
        unknown = await reporting.get("/v1/reports/sessions/nope/print")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    text = page.text
    assert '<html lang="id">' in text and "Laporan Sesi Botram Kecamatan" in text
    assert "Kecamatan Sukatani" in text and "6 Juli 2024" in text
    assert "Tidak hadir saat dipanggil" in text and "Tidak terlayani (sesi ditutup)" in text
    assert "waktu hingga siap rata-rata 2,0 hari" in text
    assert "Indeks Kepuasan Masyarakat (IKM)" in text and "Belum tersedia" in text
    assert "<script" not in text
    assert_problem(unknown, 404, "unknown-session")
