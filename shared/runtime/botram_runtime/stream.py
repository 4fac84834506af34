"""The JetStream stream `BOTRAM` that holds every event.

Limits, chosen for a regency's volume (a busy Saturday is ~10^4 events) with room for
replay: events are kept for a year or 10 GiB, whichever comes first. `discard: new` makes a
full stream refuse publishes - the outbox keeps them and retries - instead of silently
deleting the oldest events that a rebuild would need. The duplicate window drops an event
re-published with the same `Nats-Msg-Id` (the outbox relay retrying after a lost ack).
"""

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from botram_contracts.subjects import ALL_EVENTS

STREAM_NAME = "BOTRAM"
DUPLICATE_WINDOW_SECONDS = 5 * 60
MAX_AGE_SECONDS = 366 * 24 * 3600
MAX_BYTES = 10 * 1024**3
MAX_MSG_SIZE = 1024**2


def stream_config() -> StreamConfig:
    """The `BOTRAM` stream definition every service declares identically."""
    return StreamConfig(
        name=STREAM_NAME,
        subjects=[ALL_EVENTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_age=MAX_AGE_SECONDS,
        max_bytes=MAX_BYTES,
        max_msg_size=MAX_MSG_SIZE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=1,
    )


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the stream, or bring an existing one to the current definition."""
    config = stream_config()
    try:
        await js.stream_info(STREAM_NAME)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
