"""A pre-registered citizen is texted the slot, the code and the QR link once (real bus,
a test SMS gateway on 127.0.0.1)."""

from collections.abc import AsyncIterator
from datetime import date, time
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import CitizenPreRegisteredV1
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from helpers import consumed, eventually, publish_event, running

PHONE = "081234567890"


@pytest.fixture
async def notifier(
    nats_server: EmbeddedNatsServer, nc: NatsClient, database_url: str, gateway: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        sms_poll_seconds=0.1,
        sms_provider="http",
        sms_gateway_url=gateway.url + "/send",
    )
    async with running(create_app(settings)) as client:
        yield client


async def test_a_pre_registered_citizen_is_texted_the_slot_and_the_qr_link_once(
    notifier: httpx.AsyncClient, nc: NatsClient, gateway: Any
) -> None:
    event = CitizenPreRegisteredV1(
        pre_registration_id="p-1",
        session_id="s-1",
        phone=PHONE,
        date=date(2026, 12, 8),
        slot_start=time(9),
        slot_end=time(9, 30),
        place="Desa Ciantra",
        services=["dukcapil-kk"],
        code="ABCDE-23456",
        qr_link="https://botram.example/p/ABCDE-23456",
    )
    await publish_event(nc, event, "registry")
    await publish_event(nc, event, "registry")  # published again: texts nothing new

    await consumed(nc, "notifier", "notifier-private")
    await eventually(lambda: gateway.count() >= 1)
    [request] = gateway.requests
    text = request.json()["text"]
    assert request.json()["to"] == PHONE
    assert "Desa Ciantra pada 8 Desember 2026" in text and "09.00-09.30 WIB" in text
    assert "Kartu Keluarga (KK)" in text and "https://botram.example/p/ABCDE-23456" in text
