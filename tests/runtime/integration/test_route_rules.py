"""A service refuses to start while any of its routes declares no access rule."""

from pathlib import Path

import pytest

from botram_registry.main import create_app
from botram_registry.settings import Settings
from botram_runtime.access import routes_without_a_rule
from botram_runtime.service import RouteWithoutRule


def registry_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = tmp_path / "registry.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{database}", nats_url="nats://127.0.0.1:1"
    )
    return create_app(settings), database


def test_the_shipped_registry_declares_a_rule_on_every_route(tmp_path: Path) -> None:
    app, _ = registry_app(tmp_path)

    assert routes_without_a_rule(app) == []


async def test_a_route_without_a_rule_stops_the_start_before_anything_runs(
    tmp_path: Path,
) -> None:
    app, database = registry_app(tmp_path)

    @app.post("/v1/forgotten")
    async def forgotten() -> None:
        return None

    with pytest.raises(RouteWithoutRule, match="POST /v1/forgotten"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover - never reached
    assert not database.exists()  # refused before migrating, connecting or serving
