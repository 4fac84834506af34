"""The transactional outbox and its relay, on a real nats-server and real databases."""

import asyncio

import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import MSG_ID_HEADER, SessionOpenedV1, decode_event
from botram_contracts.events.envelope import utc_now
from botram_runtime.db import Database
from botram_runtime.outbox import ForeignEventError, OutboxEvent, OutboxRelay, stage_event
from botram_runtime.stream import STREAM_NAME, ensure_stream
from db_tables import create_tables
from helpers import eventually


def opened(n: int) -> SessionOpenedV1:
    return SessionOpenedV1(
        session_id=f"s-{n}",
        level="kecamatan",
        kecamatan="sukatani",
        date=utc_now().date(),
        opened_at=utc_now(),
    )


@pytest.fixture
async def database(database_url: str):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    await create_tables(db, OutboxEvent)
    yield db
    await db.dispose()


async def stream_messages(nc: NatsClient) -> int:
    info = await nc.jetstream().stream_info(STREAM_NAME)
    return int(info.state.messages)


async def test_an_event_is_stored_only_when_its_transaction_commits(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            stage_event(session, opened(1))
            raise RuntimeError("the state change failed")

    async with database.session() as session:
        assert (await session.exec(select(OutboxEvent))).all() == []


async def test_an_event_takes_its_source_from_its_producer(database: Database) -> None:
    async with database.transaction() as session:
        event = stage_event(session, opened(1))

    assert event.source == "/botram/scheduler"


async def test_a_service_may_not_stage_another_services_event(database_url: str) -> None:
    registry_db = Database(database_url, service="registry")
    try:
        with pytest.raises(ForeignEventError, match="registry may not publish"):
            async with registry_db.transaction() as session:
                stage_event(session, opened(1))
    finally:
        await registry_db.dispose()


async def test_the_relay_publishes_in_order_with_the_event_id_as_msg_id(
    database: Database, nc: NatsClient
) -> None:
    async with database.transaction() as session:
        staged = [stage_event(session, opened(n)) for n in range(5)]
    relay = OutboxRelay(database, nc.jetstream)

    assert await relay.publish_pending() == 5

    sub = await nc.jetstream().pull_subscribe("botram.session.>", durable="outbox-test")
    messages = await sub.fetch(5, timeout=5)
    assert [m.headers[MSG_ID_HEADER] for m in messages] == [str(e.id) for e in staged]
    assert [decode_event(m.data).id for m in messages] == [e.id for e in staged]
    assert await relay.pending_count() == 0


async def test_publishing_the_same_rows_again_adds_nothing_to_the_stream(
    database: Database, nc: NatsClient
) -> None:
    async with database.transaction() as session:
        stage_event(session, opened(1))
    relay = OutboxRelay(database, nc.jetstream)
    await relay.publish_pending()
    # As if the process died after the publish but before marking the row published.
    async with database.transaction() as session:
        for row in (await session.exec(select(OutboxEvent))).all():
            row.published_at = None
            session.add(row)

    assert await relay.publish_pending() == 1
    assert await stream_messages(nc) == 1


async def test_events_wait_in_the_outbox_while_nats_is_down_then_are_published(
    database: Database, own_nats_server: EmbeddedNatsServer
) -> None:
    import nats

    client = await nats.connect(
        own_nats_server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    await ensure_stream(client.jetstream())
    relay = OutboxRelay(database, client.jetstream, poll_seconds=0.1)
    database.on_events_committed(relay.notify)
    relay.start()
    try:
        own_nats_server.kill()
        async with database.transaction() as session:
            for n in range(3):
                stage_event(session, opened(n))
        await asyncio.sleep(0.5)
        assert await relay.pending_count() == 3

        own_nats_server.restart()

        await eventually(lambda: _is_zero(relay.pending_count()), within=20)
        info = await client.jetstream().stream_info(STREAM_NAME)
        assert info.state.messages == 3
    finally:
        await relay.stop()
        await client.close()


class GatedJetStream:
    """Stands in for JetStream: its first publish waits until the test opens the gate."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.first_in_flight = asyncio.Event()
        self.gate = asyncio.Event()

    async def publish(self, subject: str, payload: bytes, **options: object) -> None:
        if not self.published:
            self.first_in_flight.set()
            await asyncio.wait_for(self.gate.wait(), 10)
        headers = options["headers"]
        assert isinstance(headers, dict)
        self.published.append(headers[MSG_ID_HEADER])


async def test_an_event_committed_while_a_batch_is_published_goes_out_without_the_poll(
    database: Database,
) -> None:
    jetstream = GatedJetStream()
    # A poll far longer than the test: only the commit's own wake-up can publish the event.
    relay = OutboxRelay(database, lambda: jetstream, poll_seconds=60)  # type: ignore[arg-type,return-value]
    database.on_events_committed(relay.notify)
    relay.start()
    try:
        async with database.transaction() as session:
            stage_event(session, opened(1))
        await asyncio.wait_for(jetstream.first_in_flight.wait(), 10)
        async with database.transaction() as session:  # committed during that publish
            second = stage_event(session, opened(2))
        jetstream.gate.set()

        await eventually(lambda: str(second.id) in jetstream.published, within=5)
    finally:
        assert await relay.stop(grace=5)


async def _is_zero(count: "asyncio.Future[int] | object") -> bool:
    return await count == 0  # type: ignore[misc]


class RecordingJetStream:
    """Stands in for JetStream: records every publish (the stream's duplicate window would
    hide a second one) and takes a moment per publish, as a network round trip does."""

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, subject: str, payload: bytes, **options: object) -> None:
        await asyncio.sleep(0.001)
        headers = options["headers"]
        assert isinstance(headers, dict)
        self.published.append(headers[MSG_ID_HEADER])


async def test_two_relays_on_one_postgresql_publish_each_row_once_in_order(
    postgres_url: str,
) -> None:
    databases = [Database(postgres_url), Database(postgres_url)]
    await create_tables(databases[0], OutboxEvent)
    try:
        staged = []
        for batch in range(10):
            async with databases[0].transaction() as session:
                staged += [stage_event(session, opened(batch * 20 + n)) for n in range(20)]
        stream = RecordingJetStream()
        relays = [
            OutboxRelay(db, lambda: stream, batch_size=15)  # type: ignore[arg-type, return-value]
            for db in databases
        ]

        async def drain(relay: OutboxRelay) -> None:
            for _ in range(200):
                await relay.publish_pending()
                if await relay.pending_count() == 0:
                    return

        await asyncio.gather(*(drain(relay) for relay in relays))

        assert stream.published == [str(event.id) for event in staged]
    finally:
        for db in databases:
            await db.dispose()
