"""Browser tests: the pages in a real headless Chromium (Debian's), driven by Playwright.

- `browser` (per module): Debian's `/usr/bin/chromium` through Playwright's `executable_path`
  (Playwright's own browser download is not used; `.ci/run` installs the package).
- `page`: a fresh context (Indonesian locale, Jakarta time) and page; fails the test on a
  script error or a Content-Security-Policy violation in the page.
- `serve` (tests/conftest.py): any of the four services' apps on a free 127.0.0.1 port, over
  real HTTP (uvicorn in a thread of this process, with its own event loop).
- `assert_accessible`: axe-core (vendored, `vendor/`) in the page; no serious or critical
  violation of WCAG 2.x A/AA.
- `screenshot`: a PNG of the page under `test-output/screens/` (git-ignored), or the folder
  `BOTRAM_SCREENSHOTS_DIR` names (`make screenshots` writes `docs/screens/`).

The tests are plain (sync) functions: Playwright's sync API drives the browser while the
service runs in its own thread, so no event loop is shared between them.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

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
# How long a page action or an `expect` waits: generous, because `make test` runs two test
# processes on two cores beside Chromium and the services, and a request can wait seconds
# for a core there. Where the issue sets a bound (a call on the display within 1 s), the
# test passes its own timeout.
PAGE_TIMEOUT_MS = 15_000
expect.set_options(timeout=PAGE_TIMEOUT_MS)
SCREENSHOTS = Path(os.environ.get("BOTRAM_SCREENSHOTS_DIR", ROOT / "test-output" / "screens"))


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread
# while it is started, and the async tests that run after the browser tests need the thread's
# loop free. Starting Chromium once per module costs about a second.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
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
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, name, full_page=True)`: save a PNG of the page as `<name>.png`."""

    def save(tab: Page, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=full_page)
        return path

    return save
