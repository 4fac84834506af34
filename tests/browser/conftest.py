"""Browser tests: the pages in a real headless Chromium (Debian's), driven by Playwright.

- `browser` (session): Debian's `/usr/bin/chromium` through Playwright's `executable_path`
  (Playwright's own browser download is not used; `.ci/run` installs the package).
- `page`: a fresh context (Indonesian locale, Jakarta time) and page; fails the test on a
  script error or a Content-Security-Policy violation in the page.
- `serve`: any of the four services' apps on a free 127.0.0.1 port, over real HTTP (uvicorn
  in a thread of this process, with its own event loop), with the settings a test gives;
  bounded start (ready when the bus is up) and stop.
- `assert_accessible`: axe-core (vendored, `vendor/`) in the page; no serious or critical
  violation of WCAG 2.x A/AA.
- `screenshot`: a PNG of the page under `test-output/screens/` (git-ignored), or the folder
  `BOTRAM_SCREENSHOTS_DIR` names (`make screenshots` writes `docs/screens/`).

The tests are plain (sync) functions: Playwright's sync API drives the browser while the
service runs in its own thread, so no event loop is shared between them.
"""

import asyncio
import importlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from botram_cli.nats_server import EmbeddedNatsServer
from botram_cli.tokens import sign_in_link
from helpers import session_issuer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BOTRAM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 15.0
PAGE_TIMEOUT_MS = 5000
SCREENSHOTS = Path(os.environ.get("BOTRAM_SCREENSHOTS_DIR", ROOT / "test-output" / "screens"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveService:
    """One service app served over HTTP by uvicorn in a background thread."""

    name: str
    app: FastAPI
    port: int
    server: uvicorn.Server = field(init=False)
    thread: threading.Thread = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve()), name=f"live-{self.name}", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not (self.server.started and self.app.state.runtime.bus_started):
            if not self.thread.is_alive():
                raise RuntimeError(f"{self.name} stopped while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STOP_TIMEOUT_SECONDS)
        if self.thread.is_alive():
            raise RuntimeError(f"{self.name} did not stop within {STOP_TIMEOUT_SECONDS}s")

    def link(self, path: str, *roles: str, **claims: Any) -> str:
        """A sign-in link to a page of this service (as `botram token --link` prints)."""
        return sign_in_link(self.url + path, session_issuer().token(*roles, **claims))

    def headers(self, *roles: str, **claims: Any) -> dict[str, str]:
        return session_issuer().headers(*roles, **claims)


@pytest.fixture
def serve(nats_server: EmbeddedNatsServer, tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """`serve("scheduler", auto_lifecycle=False, clock=…)`: that service, running, over HTTP.

    Settings default to the test's nats-server and a SQLite file in the test's folder; any
    keyword (besides `clock`) is a setting of the service. Stopped at the end of the test.
    """
    started: list[LiveService] = []

    def start(service: str, *, clock: Any = None, **settings: Any) -> LiveService:
        main = importlib.import_module(f"botram_{service}.main")
        settings_module = importlib.import_module(f"botram_{service}.settings")
        port = free_port()
        settings.setdefault("nats_url", nats_server.url)
        settings.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / service}.db")
        built = settings_module.Settings(http_port=port, **settings)
        app = main.create_app(built) if clock is None else main.create_app(built, clock)
        live = LiveService(service, app, port)
        live.start()
        started.append(live)
        return live

    yield start
    for live in reversed(started):
        live.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context; a script error or a CSP violation fails the test."""
    context = browser.new_context(
        locale="id-ID", timezone_id="Asia/Jakarta", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP: {message.text}")

    tab.on("console", on_console)
    yield tab
    context.close()
    assert problems == [], problems


@pytest.fixture
def assert_accessible() -> Callable[[Page], None]:
    """Run axe-core in the page: no serious or critical WCAG 2.x A/AA violation."""
    source = AXE.read_text()

    def check(tab: Page) -> None:
        # evaluate() is not subject to the page's CSP, which refuses inline scripts.
        if not tab.evaluate("() => typeof window.axe !== 'undefined'"):
            tab.evaluate(source)
        result = tab.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], serious

    return check


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a PNG of the page (full height) as `<name>.png`."""

    def save(tab: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return save
