"""A service survives the broker dying: not ready meanwhile, nothing lost, ready again after."""

import asyncio

import httpx
import nats

from botram_cli.nats_server import EmbeddedNatsServer
from botram_runtime.clock import local_today
from botram_scheduler.main import create_app
from botram_scheduler.settings import Settings
from helpers import FakeClock, eventually, fetch_events, running


async def test_events_made_while_nats_is_down_are_published_once_it_returns(
    own_nats_server: EmbeddedNatsServer, database_url: str, clock: FakeClock
) -> None:
    settings = Settings(
        nats_url=own_nats_server.url,
        database_url=database_url,
        outbox_poll_seconds=0.1,
        auto_lifecycle=False,  # exactly one event: the clock must not open today's session
    )
    async with running(create_app(settings, clock=clock)) as scheduler:
        own_nats_server.kill()
        await eventually(lambda: _is(scheduler, "/readyz", 503))

        created = await scheduler.post(
            "/v1/sessions",
            json={
                "level": "kecamatan",
                "kecamatan": "Setu",
                "date": local_today(clock).isoformat(),
            },
        )
        assert created.status_code == 201  # accepted: the event waits in the outbox
        assert (await scheduler.get("/healthz")).status_code == 200

        own_nats_server.restart()
        await eventually(lambda: _is(scheduler, "/readyz", 200), within=30)

        nc = await nats.connect(own_nats_server.url)
        try:
            [event] = await fetch_events(nc, "botram.session.>", 1, within=30)
            assert event.data.session_id == created.json()["id"]
            await asyncio.sleep(0.5)  # a duplicate publish would have landed by now
            info = await nc.jetstream().stream_info("BOTRAM")
            assert info.state.messages == 1
        finally:
            await nc.close()


async def test_a_service_started_before_nats_becomes_ready_when_nats_arrives(
    own_nats_server: EmbeddedNatsServer, database_url: str, clock: FakeClock
) -> None:
    own_nats_server.stop()
    settings = Settings(nats_url=own_nats_server.url, database_url=database_url)
    app = create_app(settings, clock=clock)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            assert (await client.get("/readyz")).status_code == 503
            own_nats_server.start()
            await eventually(lambda: _is(client, "/readyz", 200), within=30)
            nc = await nats.connect(own_nats_server.url)
            try:  # the service declared the stream once connected
                assert (await nc.jetstream().stream_info("BOTRAM")).config.name == "BOTRAM"
            finally:
                await nc.close()


async def _is(client: httpx.AsyncClient, path: str, status: int) -> bool:
    return (await client.get(path)).status_code == status
