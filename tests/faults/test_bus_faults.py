"""Nothing lost, nothing duplicated: check-ins through the registry (a real process) reach
the stream once each and are counted once by reporting (a real process), whatever happens to
NATS or to the services meanwhile (issue 14). Small sizes here; benchmarks/faults/ runs the
large ones (docs/BENCHMARKS.md).
"""

import asyncio
import random
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import nats
import pytest

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import CitizenCheckedInV1
from botram_contracts.subjects import subject_template
from botram_runtime.stream import STREAM_NAME, ensure_stream
from helpers import (
    FAULTS_SERVICES,
    FAULTS_SESSION,
    ServiceProcess,
    bounded,
    free_port,
    nik,
    open_session,
    staff,
)

# Each test starts two service processes: on a busy machine that alone takes a while.
pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]
CHECKED_IN = subject_template(CitizenCheckedInV1, token=lambda _: "*")
Launch = Callable[..., ServiceProcess]
Fault = Callable[[int], Awaitable[None]]


class Desk:
    """The front desk: check-ins one after another; one the registry did not answer (it is
    down) is sent again until it is (a check-in is idempotent per NIK)."""

    def __init__(self, registry: ServiceProcess) -> None:
        self.registry = registry
        self.answered = 0
        self.retried = 0

    async def check_in(self, client: httpx.AsyncClient, index: int) -> None:
        body = {"nik": nik(index), "name": "Warga Uji", "services": FAULTS_SERVICES[:1]}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = await client.post(
                    f"{self.registry.url}/v1/sessions/{FAULTS_SESSION}/check-ins", json=body
                )
            except httpx.HTTPError:
                self.retried += 1
                await asyncio.sleep(0.2)
                continue
            assert response.status_code in (200, 201), response.text
            self.answered += 1
            return
        raise AssertionError(f"check-in {index} unanswered for 60 s")

    async def run(self, count: int, fault: Fault, rate: float = 100.0) -> None:
        async with httpx.AsyncClient(headers=staff(), timeout=10) as client:
            for index in range(count):
                await fault(index)
                await self.check_in(client, index)
                await asyncio.sleep(1 / rate)


async def checked_in_stored(nats_url: str) -> int:
    """Check-in events the stream holds."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(STREAM_NAME, subjects_filter=CHECKED_IN)
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


async def counted_by_reporting(reporting: ServiceProcess) -> int:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{reporting.url}/metrics")).text
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("botram_checkins_total{")
        )
    )


async def assert_exactly_once(count: int, nats_url: str, reporting: ServiceProcess) -> None:
    """Every check-in in the stream once and counted once (waits for the stragglers)."""
    deadline = time.monotonic() + 90
    stored = counted = -1
    while time.monotonic() < deadline:
        stored = await checked_in_stored(nats_url)
        counted = await counted_by_reporting(reporting)
        if stored >= count and counted >= count:
            break
        await asyncio.sleep(0.5)
    assert stored == count, f"{stored} check-ins in the stream of {count}"
    assert counted == count, f"{counted} check-ins counted by reporting of {count}"
    print(f"{count} events, 0 lost, 0 duplicated")


async def readiness(service: ServiceProcess) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{service.url}/readyz")).status_code


async def test_nats_killed_during_check_ins_then_restarted_loses_and_duplicates_nothing(
    own_nats_server: EmbeddedNatsServer, launch: Launch
) -> None:
    # Faults 1 and 3: kill -9 of nats-server while check-ins go on; HTTP keeps answering,
    # /readyz says 503, the outbox holds the events and drains once NATS is back.
    count, kill_at, outage = 120, 40, 2.0
    url = own_nats_server.url
    registry, reporting = launch("registry", url), launch("reporting", url)
    await open_session(url, registry)
    killed_at = 0.0
    during_outage: list[int] = []

    async def fault(index: int) -> None:
        nonlocal killed_at
        if index == kill_at:
            own_nats_server.kill()
            killed_at = time.monotonic()
        elif killed_at and not during_outage and time.monotonic() - killed_at > 1.0:
            during_outage.append(await readiness(registry))
        elif killed_at and time.monotonic() - killed_at > outage:
            own_nats_server.restart()
            killed_at = 0.0

    desk = Desk(registry)
    await bounded(desk.run(count, fault, rate=25), 120, "check-ins")
    assert not killed_at, "NATS came back while check-ins went on"
    assert during_outage == [503]
    assert desk.retried == 0, "the registry answered every check-in while NATS was down"
    await bounded(assert_exactly_once(count, url, reporting), 120, "the count")
    assert await readiness(registry) == 200


async def test_services_killed_at_random_moments_agree_with_the_desk(
    own_nats_server: EmbeddedNatsServer, launch: Launch
) -> None:
    # Fault 2: kill -9 of the registry (between commit and publish, or mid-request) and of
    # reporting (between apply and ack) at random moments; each restarted at once.
    count = 100
    url = own_nats_server.url
    registry, reporting = launch("registry", url), launch("reporting", url)
    await open_session(url, registry)
    chance = random.Random(14)
    kills = {chance.randrange(10, count - 10): service for service in (registry, reporting)}

    async def fault(index: int) -> None:
        victim = kills.get(index)
        if victim is not None:
            victim.kill()
            victim.start()
            await asyncio.to_thread(victim.wait_ready)

    await bounded(Desk(registry).run(count, fault), 240, "check-ins")
    await bounded(assert_exactly_once(count, url, reporting), 120, "the count")


async def test_a_consumer_paused_past_ack_wait_then_resumed_applies_nothing_twice(
    own_nats_server: EmbeddedNatsServer, launch: Launch
) -> None:
    # Fault 4: SIGSTOP of reporting while it holds messages, past AckWait (2 s here):
    # JetStream delivers them again; once resumed, its claims skip what it already applied.
    count, pause_at, paused_for = 100, 30, 4.0
    url = own_nats_server.url
    registry = launch("registry", url)
    reporting = launch("reporting", url, ack_wait="2")
    await open_session(url, registry)
    paused: list[float] = []

    async def fault(index: int) -> None:
        assert reporting.popen is not None
        if index == pause_at:
            reporting.popen.send_signal(signal.SIGSTOP)
            paused.append(time.monotonic())
        elif paused and len(paused) == 1 and time.monotonic() - paused[0] > paused_for:
            reporting.popen.send_signal(signal.SIGCONT)
            paused.append(time.monotonic())

    await bounded(Desk(registry).run(count, fault, rate=15), 120, "check-ins")
    if len(paused) == 1:
        assert reporting.popen is not None
        reporting.popen.send_signal(signal.SIGCONT)
        paused.append(time.monotonic())
    assert paused[1] - paused[0] > paused_for
    # Whatever it held when it stopped came back after AckWait and was skipped (how much it
    # held depends on the moment: the count is what must not move).
    await bounded(assert_exactly_once(count, url, reporting), 120, "the count")


async def test_a_full_stream_holds_events_in_the_outboxes_until_space_returns(
    own_nats_server: EmbeddedNatsServer, launch: Launch
) -> None:
    # Fault 6: publishes refused (discard new), the outbox keeps them, nothing is acked
    # without being applied, everything flows once the stream has room again.
    count, full_at = 80, 30
    url = own_nats_server.url
    registry, reporting = launch("registry", url), launch("reporting", url)
    await open_session(url, registry)
    nc = await nats.connect(url)
    js = nc.jetstream()
    stored_when_full: list[int] = []

    async def fault(index: int) -> None:
        if index == full_at:
            await asyncio.sleep(1)  # the first ones are in the stream
            info = await js.stream_info(STREAM_NAME)
            config = info.config
            config.max_bytes = info.state.bytes + 512  # one more event at most
            await js.update_stream(config)
            stored_when_full.append(await checked_in_stored(url))

    try:
        await bounded(Desk(registry).run(count, fault), 120, "check-ins")
        await asyncio.sleep(2)
        assert await checked_in_stored(url) <= stored_when_full[0] + 1
        assert await counted_by_reporting(reporting) <= stored_when_full[0] + 1
        assert await pending_in_outbox(registry) > 0

        await ensure_stream(js)  # room again: the shipped limits

        await bounded(assert_exactly_once(count, url, reporting), 120, "the count")
    finally:
        await nc.close()


async def pending_in_outbox(service: ServiceProcess) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{service.url}/metrics")).text
    line = next(line for line in text.splitlines() if line.startswith("botram_outbox_pending "))
    return float(line.split()[1])


class FlakyProxy:
    """A TCP proxy that delays what it forwards and now and then drops every connection."""

    def __init__(self, upstream_port: int, seed: int = 7) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.chance = random.Random(seed)
        self.flaky = False
        self.drops = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await bounded(self._server.wait_closed(), 10, "the proxy's close")

    def drop_all(self) -> None:
        self.drops += 1
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                if self.flaky:
                    await asyncio.sleep(self.chance.uniform(0, 0.05))
                writer.write(chunk)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


async def test_a_proxy_dropping_and_delaying_the_bus_loses_and_duplicates_nothing(
    own_nats_server: EmbeddedNatsServer, launch: Launch, tmp_path: Path
) -> None:
    # Fault 7: every service talks to NATS through a proxy that delays packets and drops
    # all connections every second or so for a while.
    count = 100
    proxy = FlakyProxy(int(own_nats_server.url.rsplit(":", 1)[1]))
    await proxy.start()
    url = f"nats://127.0.0.1:{proxy.port}"
    try:
        # Started from a thread: the proxy runs on this event loop.
        registry = await asyncio.to_thread(launch, "registry", url)
        reporting = await asyncio.to_thread(launch, "reporting", url)
        await open_session(url, registry)

        async def fault(index: int) -> None:
            proxy.flaky = 10 <= index < 90
            if proxy.flaky and index % 20 == 0:
                proxy.drop_all()

        await bounded(Desk(registry).run(count, fault), 180, "check-ins")
        assert proxy.drops >= 4
        await bounded(assert_exactly_once(count, url, reporting), 120, "the count")
    finally:
        await proxy.stop()
