"""The rebuild's ordered replay on the shipped, sealed NATS configuration, as reporting's own
user: every public event once, in stream order, through flow control, nothing acked."""

import asyncio
import json

import pytest
from nats.aio.msg import Msg

from botram_contracts.events import CitizenCheckedInV1, TicketRef, encode_event, make_event
from botram_contracts.events.envelope import utc_now
from botram_reporting.replay import REBUILD_CONSUMER, ReplayGap, StreamReplay, replay_stream
from botram_reporting.settings import Settings
from botram_runtime.stream import STREAM_NAME, ensure_streams
from helpers import SealedNats

EVENTS = 1500
# Consumers ignore fields they do not know: padding makes the stream big enough (~4 MB) for
# the server to ask for flow control several times.
PADDING = "x" * 2500


def check_in(n: int) -> tuple[str, bytes]:
    ticket = TicketRef(
        ticket_id=f"t-{n}", service="dukcapil-kk", agency="dukcapil", number="KK-1", position=1
    )
    data = CitizenCheckedInV1(
        check_in_id=f"c-{n}",
        session_id="s-replay",
        level="kecamatan",
        kecamatan="sukatani",
        citizen=f"{n:064x}",
        sex="F",
        age_band="30-44",
        resident=True,
        priority=False,
        tickets=[ticket],
        checked_in_at=utc_now(),
    )
    event = make_event(data, "registry")
    body = json.loads(encode_event(event))
    body["data"]["padding"] = PADDING
    return event.subject, json.dumps(body).encode()


async def test_the_replay_reads_every_event_in_order_as_reportings_user(
    sealed_nats: SealedNats,
) -> None:
    registry = await sealed_nats.connect("registry")
    js = registry.jetstream(timeout=5)
    await ensure_streams(js)
    for start in range(0, EVENTS, 500):  # pipelined, as the outbox relay publishes
        await asyncio.gather(*(js.publish(*check_in(n)) for n in range(start, start + 500)))
    await registry.close()
    settings = Settings(
        nats_url=sealed_nats.url,
        nats_nkey_seed=sealed_nats.seeds["reporting"],
        database_url="sqlite+aiosqlite:///unused.db",
    )

    read: list[str] = []
    batch_sizes: list[int] = []
    async with replay_stream(settings, batch_size=200) as replay:
        assert replay.total == EVENTS
        async for batch in replay.batches():
            batch_sizes.append(len(batch))
            read += [json.loads(payload)["data"]["check_in_id"] for payload in batch]
            await asyncio.sleep(0.01)  # applying takes time: the server must wait for us
        flow_requests = replay.flow_requests

    assert read == [f"c-{n}" for n in range(EVENTS)]
    assert min(batch_sizes[:-1]) >= 200
    assert flow_requests > 0
    ops = await sealed_nats.connect("ops")
    names = [c.name for c in await ops.jetstream(timeout=5).consumers_info(STREAM_NAME)]
    await ops.close()
    assert REBUILD_CONSUMER not in names  # deleted once read


async def test_a_delivery_out_of_sequence_refuses_the_replay() -> None:
    replay = StreamReplay(None, total=3, batch_size=10)  # type: ignore[arg-type]  # no publish
    for consumer_sequence in (1, 2, 4):  # the third was dropped (a slow consumer)
        reply = f"$JS.ACK.BOTRAM.reporting-rebuild.1.{consumer_sequence}.{consumer_sequence}.0.0"
        await replay.on_message(Msg(None, subject="s", reply=reply, data=b"{}"))  # type: ignore[arg-type]

    with pytest.raises(ReplayGap):
        async for _ in replay.batches():
            pass
