"""The two streams: public events kept a year in BOTRAM, private ones 48 hours in BOTRAM_PRIVATE.

On a real nats-server: the streams' definitions, where each subject lands, and the upgrade of
a deployment whose BOTRAM still captures `botram.>` (private events included).
"""

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, StorageType

from botram_cli.nats_server import EmbeddedNatsServer
from botram_contracts.events import CitizenContactSharedV1, SessionOpenedV1, TicketRef
from botram_notifier.main import create_app
from botram_notifier.settings import Settings
from botram_runtime.stream import (
    MAX_AGE_SECONDS,
    PRIVATE_MAX_AGE_SECONDS,
    PRIVATE_STREAM_NAME,
    STREAM_NAME,
    StreamOptions,
    ensure_streams,
    merge_config,
    stream_config,
)
from helpers import eventually, publish_event, running

PHONE = "081234567890"


def contact(session_id: str) -> CitizenContactSharedV1:
    ticket = TicketRef(
        ticket_id="t-1", service="dukcapil-kk", agency="dukcapil", number="KK-001", position=1
    )
    return CitizenContactSharedV1(
        check_in_id="c-1", session_id=session_id, phone=PHONE, tickets=[ticket]
    )


def opened(session_id: str) -> SessionOpenedV1:
    return SessionOpenedV1(
        session_id=session_id,
        level="kecamatan",
        kecamatan="sukatani",
        date=date(2026, 12, 5),
        opened_at=datetime.now(UTC),
    )


async def test_private_events_land_in_their_own_short_lived_stream_and_public_ones_in_botram(
    own_nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(own_nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js)
        await publish_event(nc, contact("s-1"), "registry")
        await publish_event(nc, opened("s-1"), "scheduler")

        public, private = (
            await js.stream_info(STREAM_NAME),
            await js.stream_info(PRIVATE_STREAM_NAME),
        )
    finally:
        await nc.close()

    assert public.state.messages == 1 and private.state.messages == 1
    assert not [s for s in public.config.subjects or [] if "private" in s or s == "botram.>"]
    assert "botram.dlq.>" in (public.config.subjects or [])
    assert private.config.subjects == ["botram.private.>"]
    assert private.config.max_age == PRIVATE_MAX_AGE_SECONDS == 48 * 3600
    assert private.config.storage == StorageType.FILE


async def test_an_older_botram_stream_is_narrowed_and_its_private_events_purged_on_upgrade(
    own_nats_server: EmbeddedNatsServer, tmp_path: Path
) -> None:
    nc = await nats.connect(own_nats_server.url)
    js = nc.jetstream()
    # BOTRAM and the notifier's private consumer as an older version declared them.
    await js.add_stream(replace(stream_config(), subjects=["botram.>"]))
    await js.add_consumer(
        STREAM_NAME,
        ConsumerConfig(
            name="notifier-private",
            durable_name="notifier-private",
            filter_subject="botram.private.>",
        ),
    )
    await publish_event(nc, contact("s-old"), "registry")
    await publish_event(nc, opened("s-old"), "scheduler")
    assert (await js.stream_info(STREAM_NAME)).state.messages == 2

    settings = Settings(
        nats_url=own_nats_server.url, database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db"
    )
    try:
        async with running(create_app(settings)):

            async def cleared() -> bool:
                info = await js.stream_info(STREAM_NAME, subjects_filter="botram.>")
                names = {c.name for c in await js.consumers_info(STREAM_NAME)}
                return (
                    info.state.subjects is not None
                    and "notifier-private" not in names
                    and (
                        set(info.state.subjects) == {"botram.session.opened.v1.kecamatan.sukatani"}
                    )
                )

            await eventually(cleared)
            info = await js.stream_info(STREAM_NAME)
            assert "botram.>" not in (info.config.subjects or [])
            # From now on a private event lands in the private stream only.
            await publish_event(nc, contact("s-new"), "registry")
            assert (await js.stream_info(PRIVATE_STREAM_NAME)).state.messages == 1
            assert (await js.stream_info(STREAM_NAME)).state.messages == 1
    finally:
        await nc.close()


async def test_start_up_creates_a_missing_stream_from_the_settings(
    own_nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(own_nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, options=StreamOptions(max_bytes=2 * 1024**3))
        info = await js.stream_info(STREAM_NAME)
    finally:
        await nc.close()

    assert info.config.max_bytes == 2 * 1024**3
    assert info.config.num_replicas == 1


async def test_start_up_never_undoes_what_an_operator_raised_and_raises_what_settings_ask(
    own_nats_server: EmbeddedNatsServer,
) -> None:
    nc = await nats.connect(own_nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, options=StreamOptions(max_bytes=1024**3))
        # The operator gives the stream two years and a per-subject cap (`nats stream edit`).
        edited = replace(
            (await js.stream_info(STREAM_NAME)).config,
            max_age=2 * MAX_AGE_SECONDS,
            max_msgs_per_subject=1_000_000,
        )
        await js.update_stream(edited)

        await ensure_streams(js, options=StreamOptions(max_bytes=2 * 1024**3))
        info = await js.stream_info(STREAM_NAME)
    finally:
        await nc.close()

    assert info.config.max_age == 2 * MAX_AGE_SECONDS  # kept
    assert info.config.max_msgs_per_subject == 1_000_000  # kept
    assert info.config.max_bytes == 2 * 1024**3  # raised by the settings
    assert info.config.duplicate_window == stream_config().duplicate_window


def test_replicas_are_raised_by_the_settings_and_never_lowered() -> None:
    r1, r3 = stream_config(StreamOptions(replicas=1)), stream_config(StreamOptions(replicas=3))

    raised, kept_nothing = merge_config(r1, r3)
    kept_r3, kept = merge_config(r3, r1)

    assert (raised.num_replicas, kept_nothing) == (3, {})
    assert kept_r3.num_replicas == 3 and kept == {"num_replicas": "3 (1)"}
    assert merge_config(r1, replace(r1, max_bytes=-1))[0].max_bytes == -1  # no limit is roomier
