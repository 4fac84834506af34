"""The private stream's copies of phone numbers: gone when their session closes.

The notifier is the only reader of `BOTRAM_PRIVATE` and the one that forgets a session's
phones, so it also purges them from the stream (its NATS user may purge that stream and no
other service's may).
"""

from collections.abc import Callable
from contextlib import suppress
from typing import Protocol

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from botram_runtime.bus_access import LEGACY_CONSUMERS
from botram_runtime.stream import purge_legacy_private_events, purge_private_session

log = structlog.get_logger(__name__)


class PrivateEvents(Protocol):
    async def purge_session(self, session_id: str) -> None: ...


class PrivateStream:
    """Purges through the service's JetStream connection (taken when needed: it reconnects)."""

    def __init__(self, jetstream: Callable[[], JetStreamContext]) -> None:
        self._jetstream = jetstream

    async def purge_session(self, session_id: str) -> None:
        """Every private event of the session leaves the stream (idempotent)."""
        await purge_private_session(self._jetstream(), session_id)
        log.info("session_private_events_purged", session_id=session_id)

    async def clear_legacy_copies(self) -> None:
        """Once per start: private events and the private consumer an older BOTRAM held.

        Before private events had a stream of their own, `BOTRAM` (subjects `botram.>`,
        kept a year) stored them; `ensure_stream` narrowed its subjects, this deletes what
        it still holds. Cheap when there is nothing left: a purge by subject and a lookup.
        """
        js = self._jetstream()
        try:
            await purge_legacy_private_events(js)
            for stream, consumer in LEGACY_CONSUMERS["notifier"]:
                with suppress(NotFoundError):
                    await js.delete_consumer(stream, consumer)
        except Exception as error:  # the next start tries again; the stream's events stay
            log.warning("legacy_private_events_not_cleared", error=repr(error))
