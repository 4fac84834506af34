"""The printable session report in a real headless Chromium: printed to PDF, it is one A4
page (issue 18, "How we will check it"), in Bahasa Indonesia, accessible, with no script.
And the report officer's screen (`/reports`): signed in as a viewer, the summary's figures
are the JSON API's, the summary downloads as CSV with the same totals, and a session's
"Cetak" opens its printable page; the token never goes into a URL."""

import asyncio
import csv
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import nats
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from botram_cli.nats_server import EmbeddedNatsServer
from helpers import LiveService, publish_event
from report_events import DAY, SESSION_ID, report_day

# A page object of the PDF (not the `/Type /Pages` tree that holds them).
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def publish_day(nats_url: str) -> None:
    async def publish() -> None:
        client = await nats.connect(nats_url)
        try:
            for producer, data in report_day():
                await publish_event(client, data, producer)
        finally:
            await client.drain()

    # Playwright's sync API holds this thread's event loop: publish from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=10)


def wait_until_reported(reporting: LiveService, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = httpx.get(f"{reporting.url}/v1/reports/summary", headers=headers, timeout=5)
        if answer.status_code == 200 and answer.json()["totals"]["follow_ups"] == 1:
            return
        time.sleep(0.1)
    pytest.fail("reporting did not count the day's events within 15 s")


@pytest.fixture
def reporting(serve: Callable[..., LiveService], nats_server: EmbeddedNatsServer) -> LiveService:
    live = serve("reporting", reporting_batch_timeout_seconds=0.2)
    publish_day(nats_server.url)
    wait_until_reported(live, live.headers("viewer"))
    return live


def test_the_printable_session_report_prints_on_one_a4_page(
    reporting: LiveService, page: Page, assert_accessible: Callable[[Page], None]
) -> None:
    page.context.set_extra_http_headers(reporting.headers("viewer"))

    answer = page.goto(f"{reporting.url}/v1/reports/sessions/{SESSION_ID}/print")

    assert answer is not None and answer.ok
    assert page.locator("h1").inner_text() == "Laporan Sesi Botram Kecamatan"
    assert "Dilayani" in page.locator("main").inner_text()
    assert_accessible(page)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(PDF_PAGE.findall(pdf)) == 1, "the session report must print on one page"


JULY = {"from": "2024-07-01", "to": "2024-07-31"}
SHOWN = ("check_ins", "tickets_issued", "served", "no_shows", "expired", "follow_ups")


def test_a_viewer_sees_the_summary_downloads_it_and_prints_a_session_from_the_screen(
    reporting: LiveService,
    page: Page,
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[..., object],
) -> None:
    link = reporting.link("/reports", "viewer")
    token = link.split("#access_token=")[1]
    viewer = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{reporting.url}/v1/reports/summary", params=JULY, headers=viewer)
    totals = answer.json()["totals"]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(link)
    expect(page.locator("[data-actor-roles]")).to_have_text("pemantau")
    page.get_by_label("Dari tanggal").fill(JULY["from"])
    page.get_by_label("Sampai tanggal").fill(JULY["to"])
    page.get_by_role("button", name="Tampilkan").click()

    figures = page.locator("#summary-table")
    for name in SHOWN:
        expect(figures.locator(f'[data-figure="{name}"]')).to_have_text(str(totals[name]))
    expect(page.locator("#summary-period")).to_contain_text("1 Juli 2024 s.d. 31 Juli 2024")
    row = page.locator(f'tr[data-session="{SESSION_ID}"]')
    expect(row).to_contain_text(f"{DAY.day} Juli {DAY.year}")
    expect(row).to_contain_text("Kecamatan Sukatani")
    expect(row).to_contain_text("selesai")
    assert_accessible(page)
    screenshot(page, "reports")

    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Unduh ringkasan (CSV)").click()
    saved = downloaded.value
    assert saved.suggested_filename == "botram-summary.csv"
    with open(saved.path(), newline="", encoding="utf-8") as file:
        total, *_ = csv.DictReader(file)
    assert total["group"] == "total"
    assert {name: int(total[name]) for name in SHOWN} == {name: totals[name] for name in SHOWN}

    with page.context.expect_page() as opened:
        row.get_by_role("button", name=re.compile("^Cetak laporan sesi")).click()
    printed = opened.value
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    printed.on("console", on_console)
    expect(printed.locator("h1")).to_have_text("Laporan Sesi Botram Kecamatan")
    served = printed.locator(".fact", has_text="Dilayani").locator("strong")
    expect(served).to_have_text(str(totals["served"]))
    assert printed.url.startswith("blob:")
    # Its one inline stylesheet applies (the screen's policy allows it by hash).
    assert printed.evaluate("getComputedStyle(document.querySelector('.facts')).display") == "grid"
    assert refused == []
    expect(page.locator("#report-message")).to_contain_text("dibuka di jendela baru")
    assert [url for url in requested if token in url or "access_token" in url] == []
    assert page.context.cookies() == []
