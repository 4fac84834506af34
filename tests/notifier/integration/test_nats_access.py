"""Agencies' direct NATS access, on a real nats-server running the shipped deploy/nats config.

The operator issues credentials as docs/agencies.md says: the shipped command, connected as
the `ops` user, creates the agency's durable consumers and rewrites the config; the server
reloads it. The agency may then only fetch from and ack its own consumers and subscribe to
its own subjects.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerConfig

from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    ServiceCompletedV1,
    SessionOpenedV1,
    TicketCalledV1,
    TicketRef,
    decode_event,
)
from botram_runtime.stream import STREAM_NAME, ensure_streams
from helpers import (
    SealedNats,
    agency_credentials,
    issue_credentials,
    permission_violations,
    publish_event,
)

AGENCY = "bpjs-kesehatan"
OWN_SERVICE = "bpjs-kesehatan-pendaftaran"
PSEUDONYM = "a" * 64
OWN_CONSUMERS = {
    f"{AGENCY}-tickets": f"botram.ticket.*.*.{AGENCY}.>",
    f"{AGENCY}-services": f"botram.service.*.*.{AGENCY}.>",
    f"{AGENCY}-sessions": "botram.session.>",
}

Completed = Callable[..., ServiceCompletedV1]
Called = Callable[..., TicketCalledV1]


@pytest.fixture(scope="module")
def agency_seeds(sealed_nats: SealedNats) -> Iterator[dict[str, str]]:
    """Credentials for two agencies, issued on the running server, then the config reloaded."""

    async def declare() -> None:
        registry = await sealed_nats.connect("registry")
        await ensure_streams(registry.jetstream(timeout=5))
        await registry.close()

    asyncio.run(declare())
    seeds = {agency: issue_credentials(agency, sealed_nats) for agency in (AGENCY, "baznas")}
    sealed_nats.reload()
    yield seeds


@pytest.fixture
async def producers(
    sealed_nats: SealedNats, agency_seeds: dict[str, str]
) -> AsyncIterator[dict[str, NatsClient]]:
    """The scheduler's and the registry's connections, publishing as their outboxes do."""
    clients = {s: await sealed_nats.connect(s) for s in ("scheduler", "registry")}
    yield clients
    for client in clients.values():
        await client.drain()


class Agency:
    def __init__(self, client: NatsClient, errors: list[str]) -> None:
        self.client = client
        self.errors = errors

    async def violations(self, count: int) -> list[str]:
        return await permission_violations(self.errors, count)


@pytest.fixture
async def agency(sealed_nats: SealedNats, agency_seeds: dict[str, str]) -> AsyncIterator[Agency]:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    client = await nats.connect(
        sealed_nats.url,
        nkeys_seed_str=agency_seeds[AGENCY],
        inbox_prefix=f"_INBOX_{AGENCY}",
        error_cb=on_error,
        allow_reconnect=False,
    )
    yield Agency(client, errors)
    await client.close()


async def publish_mixed_events(
    producers: dict[str, NatsClient], called: Called, completed: Completed
) -> None:
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
        await publish_event(producers[data.producer], data, data.producer)


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


async def test_botram_creates_the_agencys_three_consumers_when_it_issues_credentials(
    sealed_nats: SealedNats, agency_seeds: dict[str, str]
) -> None:
    ops = await sealed_nats.connect("ops")
    try:
        consumers = {c.name: c.config for c in await ops.jetstream().consumers_info(STREAM_NAME)}
    finally:
        await ops.close()

    for name, subject in OWN_CONSUMERS.items():
        assert consumers[name].filter_subject == subject
        assert consumers[name].deliver_subject is None  # pull: nothing is pushed anywhere
    assert {"baznas-tickets", "baznas-services", "baznas-sessions"} <= set(consumers)


async def test_an_agency_fetches_and_acks_its_own_ticket_service_and_session_events(
    producers: dict[str, NatsClient], agency: Agency, called: Called, completed: Completed
) -> None:
    await publish_mixed_events(producers, called, completed)
    js = agency.client.jetstream(timeout=2)

    received = []
    for durable, subject in OWN_CONSUMERS.items():
        # As clients do: look the consumer up (it exists: nothing is created), then fetch.
        subscription = await js.pull_subscribe(subject, durable=durable, stream=STREAM_NAME)
        received += await fetch_all(subscription, 1)
        await subscription.unsubscribe()

    assert sorted(e.type for e in received) == [
        "botram.service.completed.v1",
        "botram.session.opened.v1",
        "botram.ticket.called.v1",
    ]
    assert all(getattr(e.data, "agency", AGENCY) == AGENCY for e in received)
    assert await agency.violations(0) == []


async def test_an_agency_receives_its_live_events_on_a_plain_subscription(
    producers: dict[str, NatsClient], agency: Agency, called: Called, completed: Completed
) -> None:
    subscription = await agency.client.subscribe(f"botram.ticket.*.*.{AGENCY}.>")
    await agency.client.flush()
    message = None
    # Bounded: publish again if the first round raced the subscription's interest (seen
    # once in a loaded full-suite run); each round is a fresh set of events.
    for _ in range(3):
        await publish_mixed_events(producers, called, completed)
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
        "_INBOX_botram_notifier.>",
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
    ("durable", "config"),
    [
        # Its own names and filters: creating (or changing) consumers is Botram's job.
        (f"{AGENCY}-tickets", ConsumerConfig(filter_subject=f"botram.ticket.*.*.{AGENCY}.>")),
        (f"{AGENCY}-extra", ConsumerConfig(filter_subject=f"botram.ticket.*.*.{AGENCY}.>")),
        # A push consumer delivering into a service's inbox or onto an event subject.
        (
            f"{AGENCY}-push",
            ConsumerConfig(
                filter_subject="botram.session.>", deliver_subject="_INBOX_botram_registry.x"
            ),
        ),
        (
            f"{AGENCY}-loop",
            ConsumerConfig(
                filter_subject="botram.session.>",
                deliver_subject="botram.session.cancelled.v1.kecamatan.sukatani",
            ),
        ),
        ("any", ConsumerConfig(filter_subject="botram.citizen.>")),
    ],
)
async def test_the_server_refuses_any_consumer_an_agency_asks_for(
    sealed_nats: SealedNats, agency: Agency, durable: str, config: ConsumerConfig
) -> None:
    js = agency.client.jetstream(timeout=1)

    # The server drops the request (and says why on the error callback): nats-py times out.
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer(STREAM_NAME, config, durable_name=durable, name=durable)

    assert await agency.violations(1)
    ops = await sealed_nats.connect("ops")
    try:
        consumers = {c.name: c.config for c in await ops.jetstream().consumers_info(STREAM_NAME)}
    finally:
        await ops.close()
    assert durable not in consumers or consumers[durable].deliver_subject is None
    assert f"{AGENCY}-push" not in consumers and f"{AGENCY}-loop" not in consumers


@pytest.mark.parametrize(
    "request_subject",
    [
        "$JS.API.INFO",
        f"$JS.API.STREAM.INFO.{STREAM_NAME}",
        f"$JS.API.CONSUMER.INFO.{STREAM_NAME}.baznas-tickets",
        f"$JS.API.CONSUMER.DELETE.{STREAM_NAME}.{AGENCY}-tickets",
        f"$JS.API.CONSUMER.MSG.NEXT.{STREAM_NAME}.baznas-tickets",
        f"$JS.API.CONSUMER.MSG.NEXT.{STREAM_NAME}.notifier-tickets",
        "$JS.API.CONSUMER.MSG.NEXT.BOTRAM_PRIVATE.notifier-private",
        "botram.session.cancelled.v1.kecamatan.sukatani",
        "botram.ticket.called.v1.bpjs-kesehatan.bpjs-kesehatan-pendaftaran",
    ],
)
async def test_an_agency_may_only_read_fetch_from_and_ack_its_own_consumers(
    sealed_nats: SealedNats, agency: Agency, request_subject: str
) -> None:
    with pytest.raises(nats.errors.TimeoutError):
        await agency.client.request(request_subject, b"{}", timeout=1)

    violations = await agency.violations(1)

    assert any(request_subject.lower() in v.lower() for v in violations), agency.errors


async def test_a_forged_session_cancellation_from_an_agency_never_reaches_the_stream(
    sealed_nats: SealedNats, agency: Agency
) -> None:
    await agency.client.publish("botram.session.cancelled.v1.kecamatan.forged", b"{}")
    await agency.client.flush()

    assert await agency.violations(1)
    ops = await sealed_nats.connect("ops")
    try:
        info = await ops.jetstream().stream_info(
            STREAM_NAME, subjects_filter="botram.session.*.*.*.forged"
        )
    finally:
        await ops.close()
    assert not info.state.subjects


async def test_revoking_an_agency_removes_its_key_and_its_consumers(
    sealed_nats: SealedNats, agency_seeds: dict[str, str]
) -> None:
    revoked = await asyncio.to_thread(agency_credentials, sealed_nats, "baznas", "--revoke")
    assert revoked.returncode == 0, revoked.stderr
    sealed_nats.reload()

    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            sealed_nats.url,
            nkeys_seed_str=agency_seeds["baznas"],
            allow_reconnect=False,
            connect_timeout=3,
        )
    ops = await sealed_nats.connect("ops")
    try:
        names = {c.name for c in await ops.jetstream().consumers_info(STREAM_NAME)}
    finally:
        await ops.close()
    assert not {name for name in names if name.startswith("baznas-")}
    assert set(OWN_CONSUMERS) <= names
