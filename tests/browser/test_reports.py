"""The printable session report in a real headless Chromium: printed to PDF, it is one A4
page (issue 18, "How we will check it"), in Bahasa Indonesia, accessible, with no script."""

import asyncio
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import nats
import pytest
from playwright.sync_api import Page

from botram_cli.nats_server import EmbeddedNatsServer
from helpers import LiveService, publish_event
from report_events import SESSION_ID, report_day

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
