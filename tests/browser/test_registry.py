"""The registry's screens in a real browser: the front desk, two desks, the public display
and a citizen's ticket, through a small fair (issue 12, "How we will check it")."""

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import SessionOpenedV1, SessionScheduledV1
from botram_registry.main import create_app
from botram_registry.screens_api import LIVE_PING_SECONDS
from botram_runtime.clock import local_today, system_clock
from helpers import LiveService, publish_event

SERVICES = ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]
# Made-up citizens (valid NIKs of Kabupaten Bekasi; nobody's).
SITI = {"nik": "3216050101900001", "name": "Siti Aminah", "phone": "081234567890"}
RINA = {"nik": "3216054101900002", "name": "Rina Marlina", "phone": "081298765432"}
BAD_NIK = "3216050113900003"  # born in month 13
PERSONAL = [SITI["nik"], SITI["name"], SITI["phone"], RINA["nik"], RINA["name"], RINA["phone"]]
PERSONAL += [BAD_NIK]
WITHIN_MS = 1000  # the issue: a call reaches every display within 1 s
TICKET_PAGE_BUDGET = 50_000


def announce_session(
    nats_url: str,
    services: list[str] = SERVICES,
    hours: tuple[clock_time, clock_time] = (clock_time(8), clock_time(14)),
) -> str:
    """Publish an opened session at Sukatani today, as the scheduler would; its id."""
    session_id = str(uuid.uuid4())
    common: dict[str, Any] = {
        "session_id": session_id,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": local_today(system_clock),
    }

    async def publish() -> None:
        client = await nats.connect(nats_url)
        try:
            scheduled = SessionScheduledV1(
                **common, start=hours[0], end=hours[1], services=services, quotas={}
            )
            await publish_event(client, scheduled, "scheduler")
            opened = SessionOpenedV1(**common, opened_at=system_clock())
            await publish_event(client, opened, "scheduler")
        finally:
            await client.drain()

    # Playwright's sync API holds this thread's event loop: publish from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish()).result(timeout=10)
    return session_id


def wait_until_open(registry: LiveService, session_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sessions = httpx.get(f"{registry.url}/v1/open-sessions", timeout=5).json()
        if any(s["session_id"] == session_id for s in sessions):
            return
        time.sleep(0.05)
    pytest.fail(f"the registry did not learn session {session_id} within 10 s")


@pytest.fixture
def registry(serve: Callable[..., LiveService]) -> LiveService:
    return serve("registry", ticket_page_refresh_seconds=0.3, outbox_poll_seconds=0.1)


@pytest.fixture
def session_id(registry: LiveService, nats_server: EmbeddedNatsServer) -> str:
    opened = announce_session(nats_server.url)
    wait_until_open(registry, opened)
    return opened


@contextmanager
def live_messages(url: str) -> Iterator[list[str]]:
    """Everything a display stream sends while the block runs (read in a thread)."""
    lines: list[str] = []
    stop = threading.Event()

    # The read timeout outlasts the server's keep-alive comment, so an idle stretch on a
    # slow machine never drops the stream (a reconnect would miss a `call` sent meanwhile).
    timeout = httpx.Timeout(5, read=LIVE_PING_SECONDS + 10)

    def read() -> None:
        while not stop.is_set():
            try:
                with httpx.stream("GET", url, timeout=timeout) as stream:
                    for line in stream.iter_lines():
                        lines.append(line)
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                continue

    reader = threading.Thread(target=read, name="display-stream", daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:  # the first board: the stream is live
        time.sleep(0.05)
    try:
        yield lines
    finally:
        stop.set()
        reader.join(timeout=5)


def tab(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    return page


def check_in(front: Page, citizen: dict[str, str], services: list[str], **options: Any) -> None:
    front.get_by_label("NIK", exact=True).fill(citizen["nik"])
    front.get_by_label("Nama lengkap").fill(citizen["name"])
    front.get_by_label("Nomor HP (tidak wajib)").fill(citizen["phone"])
    front.get_by_label("Warga setuju menerima SMS tentang antreannya").check()
    for code in services:
        front.locator(f'input[name="services"][value="{code}"]').check()
    for reason in options.get("priority", []):
        front.locator(f'input[name="priority_reasons"][value="{reason}"]').check()
    front.get_by_role("button", name="Daftarkan", exact=True).click()


def printed_numbers(front: Page, count: int) -> list[str]:
    expect(front.locator("#slips .slip")).to_have_count(count)
    return front.locator("#slips [data-ticket-number]").all_inner_texts()


def test_a_small_fair_through_the_pages(
    registry: LiveService,
    session_id: str,
    page: Page,
    assert_accessible: Callable[[Page], None],
    screenshot: Callable[..., Path],
) -> None:
    context = page.context
    received: list[Response] = []
    context.on("response", lambda response: received.append(response))
    display_url = f"{registry.url}/v1/sessions/{session_id}/display"

    with live_messages(display_url) as live:
        # The front desk: a bad NIK is refused with its reason, before anything is stored.
        front = page
        front.goto(registry.link("/front-desk", "front-desk"))
        expect(front.get_by_label("Sesi hari ini")).to_contain_text("Botram Kecamatan Sukatani")
        front.get_by_label("Sesi hari ini").select_option(session_id)
        front.get_by_label("NIK", exact=True).fill(BAD_NIK)
        expect(front.locator("#field-nik-error")).to_have_text(
            "Angka ke-7 sampai ke-12 NIK bukan tanggal lahir yang benar."
        )
        front.get_by_label("Nama lengkap").fill("Warga Keliru")
        front.locator('input[name="services"][value="dukcapil-kk"]').check()
        front.get_by_role("button", name="Daftarkan", exact=True).click()
        expect(front.get_by_label("NIK", exact=True)).to_be_focused()
        assert not [r for r in received if "/check-ins" in r.url]
        assert_accessible(front)

        # Two citizens: Siti for both services, Rina with priority (ibu hamil).
        front.get_by_label("NIK", exact=True).fill("")
        check_in(front, SITI, SERVICES)
        expect(front.locator("#slips-message")).to_contain_text("Pendaftaran berhasil")
        siti_kk, siti_jkn = printed_numbers(front, 2)
        assert siti_kk.startswith("KK-") and siti_jkn.startswith("JKN-")
        siti_link = front.locator("#slips [data-status-link]").first.get_attribute("href")
        assert siti_link and re.fullmatch(rf"{registry.url}/t/[A-Za-z0-9_-]{{22}}", siti_link)
        expect(front.locator("#slips svg").first).to_be_visible()  # the QR code, inline
        front.emulate_media(media="print")
        expect(front.locator("#check-in-form")).to_be_hidden()
        expect(front.locator("#slips .slip").first).to_be_visible()
        front.emulate_media(media="screen")
        screenshot(front, "front-desk")
        front.get_by_role("button", name="Warga berikutnya").click()
        check_in(front, RINA, ["dukcapil-kk"], priority=["ibu-hamil"])
        [rina_kk] = printed_numbers(front, 1)

        # A repeat NIK shows the citizen's tickets instead of failing.
        front.get_by_role("button", name="Warga berikutnya").click()
        check_in(front, SITI, ["dukcapil-kk"])
        expect(front.locator("#slips-message")).to_have_text(
            "NIK ini sudah terdaftar di sesi ini. Nomor antrean yang sudah dimiliki warga: "
            f"{siti_kk}, {siti_jkn}."
        )
        assert printed_numbers(front, 0) == []  # no second slip: its link stays the holder's

        # The display and Siti's ticket page.
        display = tab(context, f"{registry.url}/display/{session_id}")
        expect(display.locator("#display-connection")).to_have_text("Terhubung")
        expect(display.locator("#latest-call")).to_have_text("Belum ada panggilan.")
        expect(display.locator("#agency-waiting")).to_contain_text("Dukcapil2")
        ticket = tab(context, siti_link)
        expect(ticket.locator("#ticket-status")).to_have_text("menunggu")
        expect(ticket.locator("#ticket-position")).to_have_text("2")  # Rina (priority) first

        # Two desks of Dukcapil call at once: two tickets, never the same one.
        desks = []
        for label in ("Loket 1", "Loket 2"):
            desk = tab(context, registry.link("/desk", "desk", agency="dukcapil"))
            desk.get_by_label("Sesi hari ini").select_option(session_id)
            expect(desk.locator('#desk-services input[value="dukcapil-kk"]')).to_be_checked()
            desk.get_by_label("Nama loket").fill(label)
            expect(desk.locator("#waiting")).to_contain_text("2")
            desks.append(desk)
        for desk in desks:
            desk.locator("#call-next").dispatch_event("click")
        called = []
        for desk in desks:
            expect(desk.locator("#serving-number")).to_have_text(re.compile(r"KK-\d+"))
            called.append(desk.locator("#serving-number").inner_text())
        assert sorted(called) == sorted([siti_kk, rina_kk])

        # Every call on the display within 1 s; Siti's page says where to go.
        for number in called:
            expect(display.locator(".display")).to_contain_text(number, timeout=WITHIN_MS)
        siti_desk = "Loket 1" if called[0] == siti_kk else "Loket 2"
        expect(ticket.locator("#ticket-status")).to_have_text(f"dipanggil ke {siti_desk}")
        ticket.set_viewport_size({"width": 390, "height": 700})  # a phone
        assert_accessible(ticket)
        screenshot(ticket, "ticket")
        assert_accessible(desks[0])
        screenshot(desks[0], "desk")

        # Completing and marking a no-show update the counts everywhere.
        desks[0].get_by_role("button", name="Selesai").click()
        expect(desks[0].locator("#desk-message")).to_contain_text("selesai dilayani")
        desks[1].get_by_role("button", name="Tidak hadir").click()
        expect(desks[1].locator("#desk-message")).to_contain_text("ditandai tidak hadir")
        desks[1].locator("#call-next").click()
        expect(desks[1].locator("#desk-message")).to_have_text(
            "Belum ada warga yang menunggu di layanan loket ini."
        )
        expect(display.locator("#agency-waiting")).to_contain_text("BPJS Kesehatan1")
        expect(display.locator("#agency-waiting")).to_contain_text("Dukcapil0")

        assert_accessible(display)
        screenshot(display, "display")

    # What the browser received and every live message: ticket numbers, never a person.
    sent = [r.url for r in received] + live
    for response in received:
        if "event-stream" not in (response.headers.get("content-type") or ""):
            sent.append(response.text())
    leaks = [(value, text[:200]) for value in PERSONAL for text in sent if value in text]
    assert leaks == []
    assert any("event: call" in line for line in live)
    assert any(siti_kk in line for line in live)

    # The citizen's page stays small for a slow phone.
    loaded = [r for r in received if r.frame.page == ticket and "/v1/" not in r.url]
    assert sum(len(r.body()) for r in loaded) < TICKET_PAGE_BUDGET


def test_the_display_follows_every_instance_and_reconnects_after_a_restart(
    registry: LiveService,
    session_id: str,
    serve: Callable[..., LiveService],
    page: Page,
) -> None:
    # A second instance on the same database: calls made there reach this display too.
    other = serve("registry", database_url=registry.app.state.deps.settings.database_url)
    for citizen in (SITI, RINA):
        response = httpx.post(
            f"{other.url}/v1/sessions/{session_id}/check-ins",
            json={"nik": citizen["nik"], "name": citizen["name"], "services": ["dukcapil-kk"]},
            headers=other.headers("front-desk"),
            timeout=10,
        )
        assert response.status_code == 201, response.text
    page.goto(f"{registry.url}/display/{session_id}")
    expect(page.locator("#display-connection")).to_have_text("Terhubung")

    def call(on: LiveService, desk: str) -> str:
        response = httpx.post(
            f"{on.url}/v1/sessions/{session_id}/services/dukcapil-kk/call-next",
            json={"desk": desk},
            headers=on.headers("desk", agency="dukcapil"),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["number"])

    # What the display says aloud (Bahasa Indonesia, the example).
    spoken = page.evaluate(
        """() => window.botramDisplay.sentence(
                   {number: "KTP-012", desk: "Loket 3", agency_label: "Dukcapil"})"""
    )
    assert spoken == "Nomor antrean K T P dua belas, silakan ke loket tiga"

    first = call(other, "Loket 1")
    expect(page.locator("#latest-call")).to_contain_text(first, timeout=WITHIN_MS)

    registry.stop()
    expect(page.locator("#display-connection")).to_have_text("Menyambung ulang…")
    # The same instance again: same settings, same port.
    restarted = LiveService("registry", create_app(registry.app.state.deps.settings), registry.port)
    restarted.start()
    try:
        expect(page.locator("#display-connection")).to_have_text("Terhubung", timeout=10_000)
        second = call(other, "Loket 2")
        expect(page.locator("#latest-call")).to_contain_text(second, timeout=WITHIN_MS)
        expect(page.locator("#previous-calls")).to_contain_text(first)
    finally:
        restarted.stop()


def test_staff_pages_are_refused_without_the_right_sign_in(
    registry: LiveService, session_id: str, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path, needs in (
        ("/front-desk", "petugas pendaftaran atau operator"),
        ("/desk", "petugas loket atau operator"),
    ):
        page.goto(f"{registry.url}{path}")
        expect(page.get_by_role("heading", name="Silakan masuk")).to_be_visible()
        expect(page.locator("#page-content")).to_be_hidden()
        expect(page.get_by_text(f"Halaman ini untuk {needs}.")).to_be_visible()
    assert [url for url in requested if "/v1/" in url] == []

    page.goto(registry.link("/front-desk", "desk", agency="dukcapil"))
    expect(page.locator("#signin-message")).to_have_text(
        "Anda masuk sebagai petugas loket. Halaman ini memerlukan peran "
        "petugas pendaftaran atau operator."
    )
    expect(page.locator("#page-content")).to_be_hidden()

    # A desk of PMI sees only its agency's services: none at this session.
    page.goto(registry.link("/desk", "desk", agency="pmi"))
    page.get_by_label("Sesi hari ini").select_option(session_id)
    expect(page.locator("#desk-services")).to_have_text(
        "Sesi ini tidak memiliki layanan instansi Anda."
    )
    # Nor can it call one from its page (a page left over, or tampered with): refused in words.
    page.get_by_label("Nama loket").fill("Loket 9")
    page.evaluate(
        """() => window.screens.checkbox(document.getElementById("desk-services"),
                   "services", "dukcapil-kk", "Kartu Keluarga (KK)", {checked: true})"""
    )
    page.get_by_role("button", name="Panggil berikutnya").click()
    expect(page.locator("#desk-message")).to_have_text(
        "Antrean atau tiket ini milik instansi lain: loket Anda tidak dapat menanganinya."
    )
    expect(page.locator("#serving")).to_be_hidden()

    # F2 calls; a ticket another desk finished meanwhile is refused in words.
    checked_in = httpx.post(
        f"{registry.url}/v1/sessions/{session_id}/check-ins",
        json={"nik": SITI["nik"], "name": SITI["name"], "services": ["dukcapil-kk"]},
        headers=registry.headers("front-desk"),
        timeout=10,
    )
    assert checked_in.status_code == 201, checked_in.text
    page.goto(registry.link("/desk", "desk", agency="dukcapil"))
    page.get_by_label("Sesi hari ini").select_option(session_id)
    page.get_by_label("Nama loket").fill("Loket 5")
    expect(page.locator("#waiting")).to_contain_text("1")
    page.locator("body").press("F2")
    expect(page.locator("#serving-number")).to_have_text(checked_in.json()["tickets"][0]["number"])
    ticket_id = checked_in.json()["tickets"][0]["ticket_id"]
    finished = httpx.post(
        f"{registry.url}/v1/tickets/{ticket_id}/complete",
        json={"outcome": "served", "desk": "Loket 6"},
        headers=registry.headers("desk", agency="dukcapil"),
        timeout=10,
    )
    assert finished.status_code == 200, finished.text
    page.get_by_role("button", name="Selesai").click()
    expect(page.locator("#desk-message")).to_have_text(
        "Tiket ini sudah ditangani loket lain atau sudah selesai."
    )
