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

Replicas, limits and placement are the operator's (`StreamOptions`, from the settings
`BOTRAM_STREAM_*`): start-up creates a missing stream with them, and on an existing stream
only raises what is below them (more replicas, more room); whatever the operator set higher
or differently (with `nats stream edit`) is kept, and the difference is logged.
"""

from dataclasses import dataclass, replace
from typing import TypeVar

import structlog
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, Placement, RetentionPolicy, StorageType, StreamConfig
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


log = structlog.get_logger(__name__)
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """What the operator decides about the streams (settings `BOTRAM_STREAM_*`).

    `replicas`: 1 for one nats-server, 3 on a 3-node cluster (R3: any one node may fail).
    `max_bytes`: the public stream's room (the private one keeps its own small limit).
    `placement_tags`: server tags a stream's replicas must run on (new streams only).
    """

    replicas: int = 1
    max_bytes: int = MAX_BYTES
    placement_tags: tuple[str, ...] = ()


def stream_config(options: StreamOptions = StreamOptions()) -> StreamConfig:
    """The public `BOTRAM` stream definition every service declares identically."""
    return StreamConfig(
        name=STREAM_NAME,
        subjects=[*PUBLIC_EVENT_FAMILIES, DLQ_EVENTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_age=MAX_AGE_SECONDS,
        max_bytes=options.max_bytes,
        max_msg_size=MAX_MSG_SIZE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=options.replicas,
        placement=_placement(options),
    )


def private_stream_config(options: StreamOptions = StreamOptions()) -> StreamConfig:
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
        num_replicas=options.replicas,
        placement=_placement(options),
    )


def _placement(options: StreamOptions) -> Placement | None:
    return Placement(tags=list(options.placement_tags)) if options.placement_tags else None


CONFIGS = {STREAM_NAME: stream_config, PRIVATE_STREAM_NAME: private_stream_config}


def stream_for(subject: str) -> str:
    """The stream that holds a subject (or a filter)."""
    return PRIVATE_STREAM_NAME if is_private(subject) else STREAM_NAME


async def ensure_stream(
    js: JetStreamContext, name: str = STREAM_NAME, options: StreamOptions = StreamOptions()
) -> None:
    """Create one stream, or bring an existing one up to the current definition.

    What the code defines (subjects, retention, the duplicate window) is applied: an
    existing `BOTRAM` of an older version (subjects `botram.>`) gets the public subjects;
    private messages it already holds stay until the notifier purges them
    (`purge_legacy_private_events`); docs/operations.md. What the operator decides
    (replicas, limits, placement) is only ever raised, never lowered: see `merge_config`.
    """
    wanted = CONFIGS[name](options)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(wanted)
        log.info("stream_created", stream=name, replicas=wanted.num_replicas)
        return
    merged, kept = merge_config(info.config, wanted)
    if kept:
        log.warning("stream_settings_differ", stream=name, kept=kept)
    if merged != info.config:
        await js.update_stream(merged)


def merge_config(
    current: StreamConfig, wanted: StreamConfig
) -> tuple[StreamConfig, dict[str, str]]:
    """The existing stream's config with the code's definition applied (subjects, retention,
    discard, message size, duplicate window) and the operator's choices kept: replicas and
    limits become the larger of the two, placement and every other field stay as they are.
    Also what was kept that differs from the settings (field: "stream's (settings')")."""
    merged = replace(
        current,
        subjects=wanted.subjects,
        retention=wanted.retention,
        discard=wanted.discard,
        max_msg_size=wanted.max_msg_size,
        duplicate_window=wanted.duplicate_window,
        num_replicas=max(current.num_replicas or 1, wanted.num_replicas or 1),
        max_bytes=_roomier(current.max_bytes, wanted.max_bytes),
        max_age=_roomier(current.max_age, wanted.max_age),
    )
    kept: dict[str, str] = {}
    for field in ("num_replicas", "max_bytes", "max_age"):
        if getattr(merged, field) != getattr(wanted, field):
            kept[field] = f"{getattr(merged, field)} ({getattr(wanted, field)})"
    wanted_tags = wanted.placement.tags if wanted.placement else None
    current_tags = current.placement.tags if current.placement else None
    if wanted_tags and wanted_tags != current_tags:
        kept["placement_tags"] = f"{current_tags} ({wanted_tags})"
    return merged, kept


def _roomier(current: N | None, wanted: N | None) -> N | None:
    """The larger limit, where 0, -1 and None mean no limit at all."""
    if current is None or current <= 0:
        return current
    if wanted is None or wanted <= 0:
        return wanted
    return max(current, wanted)


async def ensure_streams(
    js: JetStreamContext,
    names: tuple[str, ...] = STREAM_NAMES,
    options: StreamOptions = StreamOptions(),
) -> None:
    """Ensure streams in order: `BOTRAM` first, as the private one must not overlap it."""
    for name in sorted(names, key=STREAM_NAMES.index):
        await ensure_stream(js, name, options)


async def purge_private_session(js: JetStreamContext, session_id: str) -> None:
    """Delete every private event of one session from the private stream."""
    await js.purge_stream(PRIVATE_STREAM_NAME, subject=private_session_subjects(session_id))


async def purge_legacy_private_events(js: JetStreamContext) -> None:
    """Delete private events that `BOTRAM` stored before they had a stream of their own."""
    await js.purge_stream(STREAM_NAME, subject=PRIVATE_EVENTS)
