"""Acks per batch: a batch applied in one transaction is acknowledged in one write
(`consumers.ack_all`), on a real nats-server, with the same effect as one `ack()` each."""

import nats.errors
import pytest
from nats.aio.client import Client as NatsClient

from botram_runtime.consumers import ack_all, consumer_config
from botram_runtime.stream import STREAM_NAME
from helpers import eventually

SUBJECT = "botram.session.opened.v1.kecamatan.sukatani"


async def test_a_batchs_acks_leave_together_and_settle_every_message(nc: NatsClient) -> None:
    js = nc.jetstream()
    for index in range(30):
        await js.publish(SUBJECT, f'{{"n": {index}}}'.encode())
    await js.add_consumer(
        STREAM_NAME, config=consumer_config("acks-test", ("botram.session.>",), max_deliver=5)
    )
    subscription = await js.pull_subscribe_bind("acks-test", STREAM_NAME)
    messages = await subscription.fetch(30, timeout=2)
    assert len(messages) == 30

    await ack_all(messages[:20])  # the batch that committed; the rest is still held

    async def settled() -> tuple[int, int]:
        info = await js.consumer_info(STREAM_NAME, "acks-test")
        return info.ack_floor.consumer_seq, info.num_ack_pending or 0

    async def floor_is(expected: tuple[int, int]) -> bool:
        return await settled() == expected

    await eventually(lambda: floor_is((20, 10)))
    with pytest.raises(nats.errors.MsgAlreadyAckdError):
        await messages[0].ack()  # marked acked, as Msg.ack() would have

    await ack_all(messages[20:])
    await ack_all([])

    await eventually(lambda: floor_is((30, 0)))
    with pytest.raises(nats.errors.TimeoutError):
        await subscription.fetch(1, timeout=0.5)  # nothing redelivered
    await subscription.unsubscribe()
