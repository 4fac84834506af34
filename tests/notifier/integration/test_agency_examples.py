"""The agency clients docs/agencies.md ships (examples/agency/) against the real system.

A real nats-server runs the shipped configuration; the scheduler and the notifier run as
their own NATS users; the operator issues BPJS Kesehatan's credentials with the shipped
command. The NATS consumer and the webhook receiver run as separate processes, exactly as an
agency runs them, receive their events, idle for a minute without crashing (a fetch that
finds nothing raises a timeout) and still receive what comes after.
"""

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from botram_contracts.events import ServiceCompletedV1
from botram_runtime.clock import local_today, system_clock
from botram_runtime.stream import ensure_streams
from helpers import SealedNats, free_port, issue_credentials, publish_event, running, session_issuer

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "agency"
AGENCY = "bpjs-kesehatan"
IDLE_SECONDS = 60
LINE_TIMEOUT_SECONDS = 30


class Example:
    """One example script as a child process; its JSON lines read by a thread."""

    def __init__(self, script: str, env: dict[str, str]) -> None:
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    async def next_line(self) -> dict[str, Any]:
        """The next JSON line, waiting without blocking the services' event loop (bounded)."""
        deadline = time.monotonic() + LINE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                return self.lines.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.05)
        pytest.fail("no line from the example:\n" + "".join(self.output))

    async def event_ids(self, count: int) -> set[str]:
        return {(await self.next_line())["id"] for _ in range(count)}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SealedNats]:
    directory = tmp_path / "nats"
    directory.mkdir()
    server = SealedNats(directory).start()
    yield server
    server.stop()


@pytest.fixture
async def services(bus: SealedNats, tmp_path: Path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The scheduler and the notifier, each as its own NATS user."""
    registry = await bus.connect("registry")
    await ensure_streams(registry.jetstream(timeout=5))
    await registry.close()
    async with AsyncExitStack() as stack:
        clients = {}
        for service in ("scheduler", "notifier"):
            module = __import__(f"botram_{service}.main", fromlist=["create_app"])
            settings = __import__(f"botram_{service}.settings", fromlist=["Settings"]).Settings
            extra = {"auto_lifecycle": False} if service == "scheduler" else {}
            app = module.create_app(
                settings(
                    nats_url=bus.url,
                    nats_nkey_seed=bus.seeds[service],
                    database_url=f"sqlite+aiosqlite:///{tmp_path / service}.db",
                    outbox_poll_seconds=0.1,
                    **extra,
                )
            )
            clients[service] = await stack.enter_async_context(running(app))
        yield clients


def completed(ticket_id: str) -> ServiceCompletedV1:
    return ServiceCompletedV1(
        ticket_id=ticket_id,
        session_id="s-1",
        service="bpjs-kesehatan-pendaftaran",
        agency=AGENCY,
        check_in_id="c-1",
        citizen="a" * 64,
        outcome="served",
        waited_seconds=60,
        service_seconds=300,
    )


async def test_the_documented_clients_receive_events_idle_a_minute_and_keep_receiving(
    bus: SealedNats, services: dict[str, httpx.AsyncClient]
) -> None:
    seed = issue_credentials(AGENCY, bus)
    bus.reload()
    port = free_port()
    agency_headers = session_issuer().headers("agency", agency=AGENCY)
    subscribed = await services["notifier"].post(
        "/v1/subscriptions",
        headers=agency_headers,
        json={
            "url": f"http://127.0.0.1:{port}/botram",
            "event_types": ["botram.service.completed.v1", "botram.session.scheduled.v1"],
        },
    )
    assert subscribed.status_code == 201, subscribed.text
    examples = [
        Example(
            "nats_consumer.py",
            {"BOTRAM_NATS_URL": bus.url, "BOTRAM_AGENCY_SEED": seed, "BOTRAM_AGENCY": AGENCY},
        ),
        Example(
            "webhook_receiver.py",
            {"BOTRAM_WEBHOOK_SECRET": subscribed.json()["secret"], "PORT": str(port)},
        ),
    ]
    try:
        consumer, receiver = examples
        assert "ready" in await consumer.next_line()
        assert "ready" in await receiver.next_line()
        registry = await bus.connect("registry")
        try:
            today = local_today(system_clock).isoformat()
            session = {"level": "kecamatan", "kecamatan": "Sukatani", "date": today}
            created = await services["scheduler"].post("/v1/sessions", json=session)
            assert created.status_code == 201, created.text
            first = await publish_event(registry, completed("t-1"), "registry")

            # The session event reaches both; the service outcome too.
            assert str(first.id) in await consumer.event_ids(2)
            assert str(first.id) in await receiver.event_ids(2)

            idle_until = time.monotonic() + IDLE_SECONDS
            while time.monotonic() < idle_until:
                assert consumer.process.poll() is None, "".join(consumer.output)
                assert receiver.process.poll() is None, "".join(receiver.output)
                await asyncio.sleep(1)

            after = await publish_event(registry, completed("t-2"), "registry")
            assert await consumer.event_ids(1) == {str(after.id)}
            assert await receiver.event_ids(1) == {str(after.id)}
            assert not any("error" in line for line in consumer.output), consumer.output
        finally:
            await registry.close()
    finally:
        for example in examples:
            example.stop()
