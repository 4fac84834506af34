"""Two reporting replicas on one PostgreSQL database: batches applied at once lose no field
of a fact row, and each replica's /metrics counts what the other committed."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import (
    MSG_ID_HEADER,
    CitizenCheckedInV1,
    ServiceCompletedV1,
    TicketRef,
    encode_event,
    make_event,
)
from botram_reporting import store
from botram_reporting.main import MIGRATIONS, build_deps, create_app
from botram_reporting.settings import Settings
from botram_reporting.usecases.ingest import apply_events
from botram_runtime.clock import JAKARTA
from botram_runtime.db import Database
from helpers import eventually, running

WHERE = {"session_id": "s-r", "level": "kecamatan", "kecamatan": "sukatani", "desa": None}
AT = datetime(2024, 7, 6, 9, 30, tzinfo=JAKARTA)
CITIZENS = 60

pytestmark = pytest.mark.timeout(120)


def check_in(n: int) -> Any:
    ref = TicketRef(
        ticket_id=f"c{n}-t0", service="dukcapil-kk", agency="dukcapil", number=f"X-{n:03d}",
        position=n + 1,
    )  # fmt: skip
    data = CitizenCheckedInV1(
        **WHERE, check_in_id=f"c{n}", citizen=f"{n:064x}", sex="F", age_band="30-44",
        resident=True, priority=False, tickets=[ref],
        checked_in_at=(AT + timedelta(minutes=n)).astimezone(UTC),
    )  # fmt: skip
    return make_event(data, "registry")


def completed(n: int) -> Any:
    data = ServiceCompletedV1(
        ticket_id=f"c{n}-t0", session_id="s-r", service="dukcapil-kk", agency="dukcapil",
        level="kecamatan", kecamatan="sukatani", check_in_id=f"c{n}", citizen=f"{n:064x}",
        outcome="served", waited_seconds=60.0, service_seconds=120.0,
    )  # fmt: skip
    return make_event(data, "registry")


async def test_two_replicas_applying_batches_at_once_lose_no_field_of_a_ticket(
    postgres_url: str,
) -> None:
    databases = [Database(postgres_url), Database(postgres_url)]
    await databases[0].migrate(MIGRATIONS)
    settings = Settings(database_url=postgres_url)
    one, two = (build_deps(settings, db, publish_rankings=False) for db in databases)
    try:
        # One replica got the check-ins, the other the completions of the same tickets.
        for start in range(0, CITIZENS, 10):
            part = range(start, start + 10)
            await asyncio.gather(
                apply_events(one, [check_in(n) for n in part]),
                apply_events(two, [completed(n) for n in part]),
            )
        async with databases[0].session() as session:
            _, tickets = await store.report_facts(session)
    finally:
        for db in databases:
            await db.dispose()

    assert len(tickets) == CITIZENS
    assert all(t.issued and t.called and t.outcome == "served" for t in tickets)


async def test_each_replicas_metrics_count_every_replicas_events(
    nats_server: EmbeddedNatsServer, nc: NatsClient, postgres_url: str
) -> None:
    settings = Settings(
        nats_url=nats_server.url, database_url=postgres_url, reporting_batch_size=5,
        reporting_batch_timeout_seconds=0.02, metrics_refresh_seconds=0.2,
    )  # fmt: skip
    wanted = f'botram_checkins_total{{kecamatan="sukatani",level="kecamatan"}} {CITIZENS}.0'
    async with running(create_app(settings)) as a, running(create_app(settings)) as b:
        for n in range(CITIZENS):
            event = check_in(n)
            await nc.jetstream().publish(
                event.subject, encode_event(event), headers={MSG_ID_HEADER: str(event.id)}
            )

        async def both_count_all() -> bool:
            pages = [(await replica.get("/metrics")).text for replica in (a, b)]
            return all(wanted in page for page in pages)

        await eventually(both_count_all, within=20)
