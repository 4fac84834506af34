"""Pre-registration in a real browser: the citizen's public page `/p/{code}` (the QR code and
the slot, no personal data), then the front desk's "Daftarkan dengan kode", which checks the
citizen in by that code and prints the tickets."""

from collections.abc import Callable

import httpx
import pytest
from browser.test_registry import SERVICES, SITI, announce_session, printed_numbers, wait_until_open
from playwright.sync_api import Page, expect

from botram_cli.nats_server import EmbeddedNatsServer
from botram_cli.simulate.plan import session_hours
from botram_runtime.clock import JAKARTA, system_clock
from helpers import LiveService


@pytest.fixture
def registry(serve: Callable[..., LiveService]) -> LiveService:
    return serve("registry", outbox_poll_seconds=0.1)


@pytest.fixture
def session_id(registry: LiveService, nats_server: EmbeddedNatsServer) -> str:
    """An opened session whose hours run from now: its first arrival slot is still open,
    whatever the time of day the test runs."""
    hours = session_hours(system_clock().astimezone(JAKARTA))
    opened = announce_session(nats_server.url, hours=hours)
    wait_until_open(registry, opened)
    return opened


def test_a_pre_registered_citizen_shows_the_qr_and_is_checked_in_by_code(
    registry: LiveService,
    session_id: str,
    page: Page,
    assert_accessible: Callable[[Page], None],
) -> None:
    slots = httpx.get(f"{registry.url}/v1/sessions/{session_id}/slots", timeout=5).json()
    first = slots[0]
    registered = httpx.post(
        f"{registry.url}/v1/sessions/{session_id}/pre-registrations",
        json={**SITI, "services": SERVICES, "slot": first["start"]},
        headers=registry.headers("front-desk"),
        timeout=5,
    )
    assert registered.status_code == 201, registered.text
    code = registered.json()["code"]

    # The citizen's page: the slot and the QR code of the code, never who holds it.
    page.goto(f"{registry.url}/p/{code}")
    expect(page.locator("[data-pre-registration-code]")).to_have_text(code)
    expect(page.locator(".slip-qr svg")).to_be_visible()
    expect(page.locator(".ticket-number")).to_have_text(
        f"{first['start'][:5]}–{first['end'][:5]} WIB"
    )
    expect(page.get_by_text("Kartu Keluarga (KK)")).to_be_visible()
    html = page.content()
    assert not [value for value in SITI.values() if value in html]
    assert_accessible(page)

    # The front desk: the code checks the citizen in at once and prints the tickets.
    page.goto(registry.link("/front-desk", "front-desk"))
    page.get_by_label("Sesi hari ini").select_option(session_id)
    page.get_by_label("Kode pendaftaran awal").fill(code.lower())  # as a scanner may type it
    page.get_by_role("button", name="Daftarkan dengan kode").click()
    expect(page.locator("#slips-message")).to_contain_text("Pendaftaran berhasil")
    kk, jkn = printed_numbers(page, 2)
    assert kk.startswith("KK-") and jkn.startswith("JKN-")
    expect(page.locator("#slips svg").first).to_be_visible()
    assert_accessible(page)

    # Used: the page says so, and the code checks nobody in again.
    page.goto(f"{registry.url}/p/{code}")
    expect(page.get_by_role("status")).to_have_text("Sudah mendaftar ulang di lokasi.")
    again = httpx.post(
        f"{registry.url}/v1/sessions/{session_id}/pre-registrations/{code}/check-in",
        headers=registry.headers("front-desk"),
        timeout=5,
    )
    assert again.status_code == 409, again.text
