"""Agencies' direct NATS access, on a real nats-server running the shipped deploy/nats config."""

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import free_port, nats_server_binary
from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    ServiceCompletedV1,
    SessionOpenedV1,
    TicketCalledV1,
    TicketRef,
    decode_event,
)
from botram_runtime.stream import ensure_stream
from helpers import publish_event

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "deploy" / "nats" / "nats.conf"
AGENCY = "bpjs-kesehatan"
OWN_SERVICE = "bpjs-kesehatan-pendaftaran"
PSEUDONYM = "a" * 64

Completed = Callable[..., ServiceCompletedV1]
Called = Callable[..., TicketCalledV1]


class AgencyNats:
    def __init__(self, url: str, seeds: dict[str, str]) -> None:
        self.url = url
        self.seeds = seeds


def shipped_config_on(directory: Path, port: int, monitor_port: int) -> Path:
    """The shipped nats.conf with only its listen addresses and store moved for the test."""
    text = SHIPPED.read_text()
    for old, new in (
        ("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{port}"),
        ("http: 0.0.0.0:8222", f"http: 127.0.0.1:{monitor_port}"),
        ('store_dir: "/data/jetstream"', f'store_dir: "{directory / "jetstream"}"'),
    ):
        assert old in text, f"the shipped config no longer has {old!r}"
        text = text.replace(old, new)
    config = directory / "nats.conf"
    config.write_text(text)
    shutil.copy(SHIPPED.parent / "agencies.json", directory / "agencies.json")
    return config


def create_credentials(agency: str, directory: Path) -> str:
    """Run the shipped command, as an operator would; it prints the seed on stdout."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "botram_notifier",
            "agency-credentials",
            agency,
            "--dir",
            str(directory),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seed = result.stdout.strip()
    assert seed.startswith("SU"), result.stderr
    return seed


@pytest.fixture(scope="module")
def agency_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgencyNats]:
    directory = tmp_path_factory.mktemp("agency-nats")
    port, monitor_port = free_port(), free_port()
    config = shipped_config_on(directory, port, monitor_port)
    seeds = {agency: create_credentials(agency, directory) for agency in (AGENCY, "baznas")}
    process = subprocess.Popen(
        [nats_server_binary(), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = 15.0
        while deadline > 0:
            assert process.poll() is None, "nats-server refused the shipped config"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                deadline -= 0.1
                time.sleep(0.1)
        yield AgencyNats(f"nats://127.0.0.1:{port}", seeds)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def service_bus(agency_nats: AgencyNats) -> AsyncIterator[NatsClient]:
    """The services' connection: no credentials (no_auth_user), full access."""
    client = await nats.connect(agency_nats.url)
    js = client.jetstream()
    await ensure_stream(js)
    await js.purge_stream("BOTRAM")
    yield client
    await client.drain()


class Agency:
    def __init__(self, client: NatsClient, errors: list[str]) -> None:
        self.client = client
        self.errors = errors

    async def violations(self, count: int) -> list[str]:
        for _ in range(100):
            found = [e for e in self.errors if "permissions violation" in e.lower()]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        return [e for e in self.errors if "permissions violation" in e.lower()]


@pytest.fixture
async def agency(agency_nats: AgencyNats) -> AsyncIterator[Agency]:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    client = await nats.connect(
        agency_nats.url,
        nkeys_seed_str=agency_nats.seeds[AGENCY],
        inbox_prefix=f"_INBOX_{AGENCY}",
        error_cb=on_error,
        allow_reconnect=False,
    )
    yield Agency(client, errors)
    await client.close()


async def publish_mixed_events(bus: NatsClient, called: Called, completed: Completed) -> None:
    ticket = TicketRef(
        ticket_id="t-9", service=OWN_SERVICE, agency=AGENCY, number="BPJ-009", position=9
    )
    for data in (
        called("t-1", "BPJ-001", service=OWN_SERVICE, agency=AGENCY),
        called("t-2", "KK-001", service="dukcapil-kk", agency="dukcapil"),
        completed(ticket_id="t-1"),
        completed(ticket_id="t-3", service="baznas-zakat-infak-sedekah", agency="baznas"),
        SessionOpenedV1(
            session_id="s-1",
            level="kecamatan",
            kecamatan="sukatani",
            date=date(2026, 12, 5),
            opened_at=datetime.now(UTC),
        ),
        CitizenCheckedInV1(
            check_in_id="c-9",
            session_id="s-1",
            level="kecamatan",
            kecamatan="sukatani",
            citizen=PSEUDONYM,
            sex="F",
            age_band="30-44",
            resident=True,
            priority=False,
            tickets=[ticket],
            checked_in_at=datetime.now(UTC),
        ),
        CitizenContactSharedV1(
            check_in_id="c-9", session_id="s-1", phone="081234567890", tickets=[ticket]
        ),
    ):
        await publish_event(
            bus, data, "registry" if "session" not in data.event_type else "scheduler"
        )


async def fetch_all(subscription: Any, expected: int) -> list[Any]:
    messages: list[Any] = []
    for _ in range(20):
        if len(messages) >= expected:
            break
        try:
            batch = await subscription.fetch(10, timeout=0.5)
        except TimeoutError:
            continue
        for message in batch:
            await message.ack()
        messages += batch
    return [decode_event(m.data) for m in messages]


async def test_an_agency_durably_consumes_its_own_ticket_service_and_session_events(
    service_bus: NatsClient, agency: Agency, called: Called, completed: Completed
) -> None:
    await publish_mixed_events(service_bus, called, completed)
    js = agency.client.jetstream(timeout=2)
    consumers = {
        f"botram.ticket.*.*.{AGENCY}.>": f"{AGENCY}-tickets",
        f"botram.service.*.*.{AGENCY}.>": f"{AGENCY}-services",
        "botram.session.>": f"{AGENCY}-sessions",
    }

    received = []
    for subject, durable in consumers.items():
        subscription = await js.pull_subscribe(subject, durable=durable, stream="BOTRAM")
        received += await fetch_all(subscription, 1)
        await subscription.unsubscribe()
        await js.delete_consumer("BOTRAM", durable)

    assert sorted(e.type for e in received) == [
        "botram.service.completed.v1",
        "botram.session.opened.v1",
        "botram.ticket.called.v1",
    ]
    assert all(getattr(e.data, "agency", AGENCY) == AGENCY for e in received)
    assert await agency.violations(0) == []


async def test_an_agency_receives_its_live_events_on_a_plain_subscription(
    service_bus: NatsClient, agency: Agency, called: Called, completed: Completed
) -> None:
    subscription = await agency.client.subscribe(f"botram.ticket.*.*.{AGENCY}.>")
    await agency.client.flush()
    message = None
    # Bounded: publish again if the first round raced the subscription's interest (seen
    # once in a loaded full-suite run); each round is a fresh set of events.
    for _ in range(3):
        await publish_mixed_events(service_bus, called, completed)
        try:
            message = await subscription.next_msg(timeout=5)
            break
        except nats.errors.TimeoutError:
            continue

    assert message is not None, "the agency never received its own ticket event"
    assert decode_event(message.data).data.agency == AGENCY


@pytest.mark.parametrize(
    "subject",
    [
        "botram.ticket.*.*.dukcapil.>",
        "botram.service.*.*.baznas.>",
        "botram.ticket.>",
        "botram.citizen.>",
        "botram.private.>",
        "botram.>",
        ">",
        "_INBOX.>",
        "$JS.API.>",
    ],
)
async def test_the_server_refuses_an_agency_subscription_outside_its_own_subjects(
    agency: Agency, subject: str
) -> None:
    await agency.client.subscribe(subject)
    await agency.client.flush()

    violations = await agency.violations(1)

    assert len(violations) == 1 and subject.lower() in violations[0].lower(), agency.errors


@pytest.mark.parametrize(
    ("subject", "durable"),
    [
        ("botram.citizen.>", f"{AGENCY}-tickets"),
        ("botram.private.>", f"{AGENCY}-sessions"),
        ("botram.ticket.*.*.dukcapil.>", f"{AGENCY}-tickets"),
        ("botram.ticket.*.*.bpjs-kesehatan.>", "notifier-tickets"),
        ("botram.ticket.*.*.baznas.>", "baznas-tickets"),
    ],
)
async def test_the_server_refuses_an_agency_consumer_outside_its_own_subjects(
    service_bus: NatsClient, agency: Agency, subject: str, durable: str
) -> None:
    js = agency.client.jetstream(timeout=1)

    # The server drops the request (and says why on the error callback): nats-py times out.
    with pytest.raises(nats.errors.TimeoutError):
        await js.pull_subscribe(subject, durable=durable, stream="BOTRAM")

    assert await agency.violations(1)
    names = [c.name for c in await service_bus.jetstream().consumers_info("BOTRAM")]
    assert durable not in names
