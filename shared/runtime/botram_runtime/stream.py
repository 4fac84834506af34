"""The JetStream streams: `BOTRAM` holds every public event, `BOTRAM_PRIVATE` the private ones.

`BOTRAM`: a regency's volume (a busy Saturday is ~10^4 events) with room for replay: events
are kept for a year or 10 GiB, whichever comes first. `discard: new` makes a full stream
refuse publishes - the outbox keeps them and retries - instead of silently deleting the
oldest events that a rebuild would need. The duplicate window drops an event re-published
with the same `Nats-Msg-Id` (the outbox relay retrying after a lost ack). Its subjects are
the public event families and the dead letters, never `botram.private.>`: streams cannot
overlap, and a phone number must not stay a year.

`BOTRAM_PRIVATE`: the private events (phone numbers for the notifier) and their dead letters,
kept 48 hours at most; the notifier purges a session's private events when it closes.
"""

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from botram_contracts.subjects import (
    DLQ_EVENTS,
    PRIVATE_EVENTS,
    PUBLIC_EVENT_FAMILIES,
    is_private,
    private_session_subjects,
)

STREAM_NAME = "BOTRAM"
PRIVATE_STREAM_NAME = "BOTRAM_PRIVATE"
STREAM_NAMES = (STREAM_NAME, PRIVATE_STREAM_NAME)
DUPLICATE_WINDOW_SECONDS = 5 * 60
MAX_AGE_SECONDS = 366 * 24 * 3600
MAX_BYTES = 10 * 1024**3
MAX_MSG_SIZE = 1024**2
# Long enough for a session day and a notifier that was down over night; short enough that a
# session never closed (or purged) does not keep its phones.
PRIVATE_MAX_AGE_SECONDS = 48 * 3600
PRIVATE_MAX_BYTES = 256 * 1024**2  # ~250,000 contact events: far more than two days bring


def stream_config() -> StreamConfig:
    """The public `BOTRAM` stream definition every service declares identically."""
    return StreamConfig(
        name=STREAM_NAME,
        subjects=[*PUBLIC_EVENT_FAMILIES, DLQ_EVENTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_age=MAX_AGE_SECONDS,
        max_bytes=MAX_BYTES,
        max_msg_size=MAX_MSG_SIZE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=1,
    )


def private_stream_config() -> StreamConfig:
    """The `BOTRAM_PRIVATE` stream, declared by the services that publish or read it."""
    return StreamConfig(
        name=PRIVATE_STREAM_NAME,
        subjects=[PRIVATE_EVENTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_age=PRIVATE_MAX_AGE_SECONDS,
        max_bytes=PRIVATE_MAX_BYTES,
        max_msg_size=MAX_MSG_SIZE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=1,
    )


CONFIGS = {STREAM_NAME: stream_config, PRIVATE_STREAM_NAME: private_stream_config}


def stream_for(subject: str) -> str:
    """The stream that holds a subject (or a filter)."""
    return PRIVATE_STREAM_NAME if is_private(subject) else STREAM_NAME


async def ensure_stream(js: JetStreamContext, name: str = STREAM_NAME) -> None:
    """Create one stream, or bring an existing one to the current definition.

    An existing `BOTRAM` of an older version (subjects `botram.>`) gets the public subjects:
    private messages it already holds stay until the notifier purges them
    (`purge_legacy_private_events`); docs/operations.md.
    """
    config = CONFIGS[name]()
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


async def ensure_streams(js: JetStreamContext, names: tuple[str, ...] = STREAM_NAMES) -> None:
    """Ensure streams in order: `BOTRAM` first, as the private one must not overlap it."""
    for name in sorted(names, key=STREAM_NAMES.index):
        await ensure_stream(js, name)


async def purge_private_session(js: JetStreamContext, session_id: str) -> None:
    """Delete every private event of one session from the private stream."""
    await js.purge_stream(PRIVATE_STREAM_NAME, subject=private_session_subjects(session_id))


async def purge_legacy_private_events(js: JetStreamContext) -> None:
    """Delete private events that `BOTRAM` stored before they had a stream of their own."""
    await js.purge_stream(STREAM_NAME, subject=PRIVATE_EVENTS)
