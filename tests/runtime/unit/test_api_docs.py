"""`/docs` and `/asyncapi` load nothing from another host: they render on an intranet without
internet, from the pinned assets in the page kit's static/vendor/ (their README lists sums)."""

import hashlib
import importlib
import re
from pathlib import Path

import httpx
import pytest

from botram_runtime.bus_access import SERVICES

VENDOR = Path(__file__).resolve().parents[3] / ("shared/runtime/botram_runtime/pages/static/vendor")
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
# Swagger UI reads these from its inline configuration.
CONFIGURED = re.compile(r"""(?:url|oauth2RedirectUrl|validatorUrl)\s*:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("page", ["/docs", "/asyncapi"])
async def test_every_asset_of_the_documentation_pages_is_local(
    service: str, page: str, tmp_path: Path
) -> None:
    settings = importlib.import_module(f"botram_{service}.settings").Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    )
    app = importlib.import_module(f"botram_{service}.main").create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        html = (await client.get(page)).text
        urls = ASSET.findall(html) + CONFIGURED.findall(html)

        assert any("vendor/" in url for url in urls), html
        assert "//" not in "".join(u for u in urls if not u.startswith("data:")), urls
        for url in urls:
            assert url.startswith(("/", "data:")), url
            if url.startswith("/static/"):
                assert (await client.get(url)).status_code == 200, url


def test_the_vendored_files_are_the_ones_the_readme_pins() -> None:
    readme = (VENDOR / "README.md").read_text()
    pinned = dict(re.findall(r"\| `([^`]+)` \|[^\n]*\| `([0-9a-f]{64})` \|", readme))

    files = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*.js")}
    files |= {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*.css")}
    assert set(pinned) == files
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
