"""`promtool check metrics` accepts the /metrics page of every service."""

import importlib

import pytest

from botram_cli.nats_server import EmbeddedNatsServer
from helpers import promtool, running

SERVICES = ["scheduler", "registry", "notifier", "reporting"]


@pytest.mark.parametrize("service", SERVICES)
async def test_promtool_accepts_the_metrics_page(
    service: str, nats_server: EmbeddedNatsServer, tmp_path: object
) -> None:
    main = importlib.import_module(f"botram_{service}.main")
    settings_module = importlib.import_module(f"botram_{service}.settings")
    settings = settings_module.Settings(
        nats_url=nats_server.url, database_url=f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
    )
    async with running(main.create_app(settings)) as client:
        await client.get("/healthz")
        page = (await client.get("/metrics")).text

    result = promtool("check", "metrics", stdin=page)

    assert "botram_" in page
    assert result.returncode == 0, result.stdout + result.stderr
