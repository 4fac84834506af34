"""Retention in the notifier's database (SQLite and PostgreSQL): a session that never closed
loses its phones after `contact_retention_hours`, old finished deliveries go with their
payload and attempts, and opted-out phones that an older version kept in clear are hashed by
the migration (so they stay opted out)."""

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from botram_notifier.domain.deliveries import DeliveryStatus
from botram_notifier.domain.messages import MessageKind, phone_hash
from botram_notifier.main import MIGRATIONS
from botram_notifier.pre_registration_store import PreRegistrationContactRow
from botram_notifier.settings import Settings
from botram_notifier.store import (
    AttemptRow,
    CitizenMessageRow,
    ContactRow,
    DeliveryRow,
    OptOutRow,
    SubscriptionRow,
)
from botram_notifier.usecases.retention import sweep
from botram_runtime.db import Database

NOW = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class PurgedSessions:
    def __init__(self) -> None:
        self.sessions: list[str] = []

    async def purge_session(self, session_id: str) -> None:
        self.sessions.append(session_id)


async def test_the_sweep_erases_old_phones_and_old_finished_deliveries(database_url: str) -> None:
    db = Database(database_url, service="notifier")
    await db.migrate(MIGRATIONS, opt_out_key=KEY)
    old, recent = NOW - timedelta(hours=49), NOW - timedelta(hours=1)
    async with db.transaction() as tx:
        tx.add(ContactRow(check_in_id="c-old", session_id="s-old", phone="0811", received_at=old))
        tx.add(
            ContactRow(check_in_id="c-new", session_id="s-new", phone="0812", received_at=recent)
        )
        tx.add(
            CitizenMessageRow(
                dedupe_key="k-old",
                session_id="s-old",
                check_in_id="c-old",
                kind=MessageKind.TICKET_ISSUED,
                body="…",
                phone="0811",
                created_at=old,
                status="sent",
            )
        )
        tx.add(
            SubscriptionRow(
                id="sub-1",
                agency="dukcapil",
                url="https://x.example/",
                event_types=["botram.ticket.called.v1"],
                secret="whsec_x",
            )
        )
    async with db.transaction() as tx:
        for name, finished in (("d-old", NOW - timedelta(days=31)), ("d-new", NOW)):
            tx.add(
                DeliveryRow(
                    id=name,
                    subscription_id="sub-1",
                    event_id=name,
                    event_type="botram.ticket.called.v1",
                    agency="dukcapil",
                    payload=b"{}",
                    status=DeliveryStatus.DELIVERED,
                    finished_at=finished,
                )
            )
    async with db.transaction() as tx:
        tx.add(AttemptRow(delivery_id="d-old", number=1, outcome="delivered"))
    purged = PurgedSessions()
    deps: Any = SimpleNamespace(
        db=db, clock=lambda: NOW, settings=Settings(), private_events=purged
    )
    try:
        swept = await sweep(deps)
        async with db.session() as tx:
            contacts = (await tx.exec(select(ContactRow.check_in_id))).all()
            phones = (await tx.exec(select(CitizenMessageRow.phone))).all()
            deliveries = (await tx.exec(select(DeliveryRow.id))).all()
            attempts = (await tx.exec(select(AttemptRow.id))).all()
    finally:
        await db.dispose()

    assert (swept.sessions, swept.deliveries) == (1, 1)
    assert (list(contacts), list(phones)) == (["c-new"], [None])
    assert (list(deliveries), list(attempts), purged.sessions) == (["d-new"], [], ["s-old"])


async def test_the_migration_hashes_opt_outs_kept_in_clear(database_url: str) -> None:
    db = Database(database_url, service="notifier")
    try:
        async with db.engine.begin() as connection:  # the schema before this version
            await connection.run_sync(_upgrade_to, "a1d17c0f3e23")
            await connection.execute(
                sa.text("INSERT INTO opt_outs (phone, at) VALUES ('081234567890', :at)"),
                {"at": NOW},
            )
        await db.migrate(MIGRATIONS, opt_out_key=KEY)
        async with db.session() as tx:
            kept = (await tx.exec(select(OptOutRow.phone_hash))).all()
    finally:
        await db.dispose()

    assert list(kept) == [phone_hash("+6281234567890", KEY.encode())]
    assert "081234567890" not in str(kept)


def _upgrade_to(connection: Any, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_the_sweep_erases_a_pre_registration_phone_once_its_slot_ended(
    database_url: str,
) -> None:
    """A pre-registration made days ahead keeps its phone until its slot ends (not 48 hours
    after it arrived); then the sweep erases it, released or checked in."""
    db = Database(database_url, service="notifier")
    await db.migrate(MIGRATIONS, opt_out_key=KEY)
    days_ago = NOW - timedelta(days=5)
    async with db.transaction() as tx:
        for name, ends in (
            ("p-ended", NOW - timedelta(minutes=1)),
            ("p-ahead", NOW + timedelta(days=2)),
        ):
            tx.add(
                PreRegistrationContactRow(
                    pre_registration_id=name,
                    session_id=f"s-{name}",
                    phone="0812",
                    services=["dukcapil-kk"],
                    date=ends.date(),
                    slot_start=time(9),
                    slot_end=time(9, 30),
                    releases_at=ends,
                    received_at=days_ago,
                )
            )
    deps: Any = SimpleNamespace(
        db=db, clock=lambda: NOW, settings=Settings(), private_events=PurgedSessions()
    )
    try:
        await sweep(deps)
        async with db.session() as tx:
            left = (await tx.exec(select(PreRegistrationContactRow.pre_registration_id))).all()
    finally:
        await db.dispose()

    assert list(left) == ["p-ahead"]
