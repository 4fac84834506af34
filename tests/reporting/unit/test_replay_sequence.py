"""The rebuild reads each delivery's consumer sequence off its reply subject itself: it must
answer what nats-py's full metadata answers, in both reply-subject formats."""

import pytest
from nats.aio.msg import Msg

from botram_reporting.replay import consumer_sequence


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.BOTRAM.reporting-rebuild.1.4321.17.1733140000000000000.99",
        "$JS.ACK._.ACCHASH.BOTRAM.reporting-rebuild.1.4321.17.1733140000000000000.99.tok",
        "$JS.ACK.hub.ACCHASH.BOTRAM.reporting-rebuild.2.88.3.1733140000000000000.0.tok.more",
    ],
)
def test_the_consumer_sequence_is_the_one_nats_py_reads(reply: str) -> None:
    expected = Msg.Metadata._from_reply(reply).sequence.consumer

    assert consumer_sequence(reply) == expected
    assert consumer_sequence(reply) != Msg.Metadata._from_reply(reply).sequence.stream
