"""The scheduler for another regency: Kabupaten Karawang's settings pick its shipped rules
(rules/karawang.toml) and its kecamatans; the calendar and the planner's page name it."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.reference import load_catalogue, load_regions
from botram_scheduler.domain.rotation import RulesError
from botram_scheduler.main import create_app
from botram_scheduler.rules_file import load_rules
from botram_scheduler.settings import Settings
from helpers import FakeClock, assert_problem, running

Generate = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def karawang(
    nats_server: EmbeddedNatsServer,
    nc: NatsClient,
    database_url: str,
    jakarta: Callable[..., datetime],
) -> AsyncIterator[httpx.AsyncClient]:
    """The scheduler of Kabupaten Karawang on Friday 2 January 2026, its shipped rules."""
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        regency="Kabupaten Karawang",
        regency_code="32.15",
        auto_lifecycle=False,
    )
    async with running(create_app(settings, clock=FakeClock(jakarta(date(2026, 1, 2))))) as client:
        yield client


async def test_karawangs_rules_rotate_through_its_kecamatans_and_desas(
    karawang: httpx.AsyncClient, generate: Generate
) -> None:
    await generate(karawang, "2026-01-03", "2026-01-10")
    listed = (await karawang.get("/v1/sessions")).json()["items"]

    places = [(s["date"], s["kecamatan"], s["desa"]) for s in listed]
    assert places == [
        ("2026-01-03", "karawang-barat", None),
        ("2026-01-06", "tirtamulya", "tirtasari"),
        ("2026-01-08", "tirtamulya", "parakanmulya"),
        ("2026-01-10", "karawang-timur", None),
    ]
    assert listed[0]["venue"] == "Kantor Kecamatan Karawang Barat"


async def test_karawangs_calendar_and_planner_name_karawang_never_bekasi(
    karawang: httpx.AsyncClient, generate: Generate
) -> None:
    await generate(karawang, "2026-01-03", "2026-01-03")
    session = (await karawang.get("/v1/sessions")).json()["items"][0]

    feed = await karawang.get("/v1/calendar.ics")
    planner = await karawang.get("/planner")

    event = Calendar.from_ical(feed.content).walk("VEVENT")[0]
    assert str(event["uid"]) == f"{session['id']}@botram.karawangkab.go.id"
    assert str(event["summary"]) == "Botram Kecamatan Karawang Barat"
    assert "X-WR-CALNAME:Botram Kabupaten Karawang" in feed.text
    assert "<title>Kalender Botram · Botram Kab. Karawang</title>" in planner.text
    assert '<option value="Telukjambe Timur">' in planner.text
    for text in (feed.text, planner.text):
        assert "bekasi" not in text.lower()


async def test_a_bekasi_kecamatan_is_unknown_in_karawang(karawang: httpx.AsyncClient) -> None:
    response = await karawang.post(
        "/v1/sessions", json={"level": "kecamatan", "kecamatan": "Sukatani", "date": "2026-01-05"}
    )

    assert_problem(response, 422)
    assert "Kabupaten Karawang" in response.json()["detail"]


def test_a_regency_without_shipped_rules_is_told_to_bring_its_own() -> None:
    subang = load_regions("Jawa Barat", "Kabupaten Subang")

    with pytest.raises(RulesError, match="no rules file ships for Kabupaten Subang: set BOTRAM_"):
        load_rules(None, subang, load_catalogue(regency=subang.name))
