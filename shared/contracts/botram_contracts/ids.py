"""New ids for events and for the rows keyed by them: time-ordered UUIDs (version 7).

Version 7 (RFC 9562) puts the creation time in milliseconds first, then 74 random bits: as
unguessable as needed for an id that is not a secret (a ticket's public page uses a code of
its own), and, unlike version 4, close to the previous id. Every consumer records each
event id it applied (`processed_events`), and reporting keys its facts by ticket and
check-in ids: with random ids each insert lands on its own B-tree page, which SQLite's
write-ahead log then writes whole at the commit (20 µs of CPU per event at 500 events per
transaction here, against 2 µs for ids in order; docs/BENCHMARKS.md).
"""

from uuid import UUID

from uuid6 import uuid7


def new_id() -> UUID:
    """A new time-ordered id (UUID version 7)."""
    return uuid7()


def new_id_text() -> str:
    """`new_id()` in its canonical text form (the form stored and sent)."""
    return str(uuid7())
