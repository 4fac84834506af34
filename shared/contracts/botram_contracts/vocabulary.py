"""The words of Botram's contract that name states and kinds: one definition each.

Events, JSON Schemas, the services' domains and their stores all use these, so a status or a
level is never a free string that can drift between a producer and a consumer. They are
`StrEnum`s: each member equals its wire value (`Level.DESA == "desa"`).
"""

from enum import StrEnum


class Level(StrEnum):
    """The two levels of a Botram session."""

    KECAMATAN = "kecamatan"
    DESA = "desa"


class Outcome(StrEnum):
    """How a desk finished a called ticket."""

    SERVED = "served"
    REFERRED = "referred"
    REJECTED = "rejected"


class SessionStatus(StrEnum):
    """A session's lifecycle: scheduled -> opened -> closed, or cancelled."""

    SCHEDULED = "scheduled"
    OPENED = "opened"
    CLOSED = "closed"
    CANCELLED = "cancelled"
