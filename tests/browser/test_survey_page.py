"""The satisfaction survey on a citizen's ticket page, in a real browser: offered once the
ticket is served (the open page reloads itself), nine questions with the regulation's
labels, every answer required, sent once, then thanked; accessible on a phone."""

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time as clock_time
from typing import Any

import httpx
import nats
import pytest
from playwright.sync_api import Page, expect

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import SessionOpenedV1, SessionScheduledV1
from botram_runtime.clock import local_today, system_clock
from helpers import LiveService, publish_event

CITIZEN = {"nik": "3216050101900001", "name": "Siti Aminah", "services": ["dukcapil-kk"]}


def opened_session(nats_url: str, registry: LiveService) -> str:
    """An opened session at Sukatani today, as the scheduler announces it; its id."""
    session_id = str(uuid.uuid4())
    where: dict[str, Any] = {
        "session_id": session_id,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": local_today(system_clock),
    }

    async def publish() -> None:
        client = await nats.connect(nats_url)
        try:
            await publish_event(
                client,
                SessionScheduledV1(
                    **where, start=clock_time(8), end=clock_time(14), services=["dukcapil-kk"]
                ),
                "scheduler",
            )
            opened = SessionOpenedV1(**where, opened_at=system_clock())
            await publish_event(client, opened, "scheduler")
        finally:
            await client.drain()

    # Playwright's sync API holds this thread's event loop: publish from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sessions = httpx.get(f"{registry.url}/v1/open-sessions", timeout=5).json()
        if any(s["session_id"] == session_id for s in sessions):
            return session_id
        time.sleep(0.05)
    pytest.fail(f"the registry did not learn session {session_id} within 10 s")


def test_a_served_citizen_answers_the_survey_on_the_ticket_page_once(
    serve: Callable[..., LiveService],
    nats_server: EmbeddedNatsServer,
    page: Page,
    assert_accessible: Callable[[Page], None],
) -> None:
    registry = serve("registry", ticket_page_refresh_seconds=0.3, outbox_poll_seconds=0.1)
    session_id = opened_session(nats_server.url, registry)
    with httpx.Client(base_url=registry.url, timeout=10) as http:
        front = registry.headers("front-desk")
        answer = http.post(f"/v1/sessions/{session_id}/check-ins", json=CITIZEN, headers=front)
        assert answer.status_code == 201, answer.text
        (ticket,) = answer.json()["tickets"]
        page.set_viewport_size({"width": 390, "height": 800})  # a phone
        page.goto(ticket["status_url"])
        expect(page.locator("#ticket-status")).to_have_text("menunggu")
        expect(page.locator("#survey-form")).to_have_count(0)

        desk = registry.headers("desk", agency="dukcapil")
        called = http.post(
            f"/v1/sessions/{session_id}/services/dukcapil-kk/call-next",
            json={"desk": "Loket 1"},
            headers=desk,
        )
        assert called.status_code == 200, called.text
        done = http.post(
            f"/v1/tickets/{ticket['ticket_id']}/complete",
            json={"outcome": "served"},
            headers=desk,
        )
        assert done.status_code == 200, done.text

    # The open page notices the service is done and reloads with the survey.
    form = page.locator("#survey-form")
    expect(form).to_be_visible()
    expect(form.locator("fieldset")).to_have_count(9)
    expect(form).to_contain_text("Persyaratan")
    expect(form).to_contain_text("Sangat sopan dan ramah")
    assert_accessible(page)

    # Every question must be answered before anything is sent.
    form.get_by_label("Sangat sesuai").first.check()
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.locator("#survey-error")).to_contain_text("8 belum dijawab")
    for fieldset in form.locator("fieldset").all()[1:]:
        fieldset.locator("input[value='3']").check()
    page.get_by_role("button", name="Kirim jawaban").click()
    expect(page.locator("#survey-thanks")).to_be_visible()
    expect(form).to_be_hidden()

    # Once: the page now thanks instead of asking again.
    page.reload()
    expect(page.locator("#survey-form")).to_have_count(0)
    expect(page.locator("#survey-thanks")).to_be_visible()
