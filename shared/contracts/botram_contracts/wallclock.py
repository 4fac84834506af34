"""Times of day: a session's start and end, on the wall clock at the venue, in WIB.

Everywhere Botram shows one (events, their JSON Schemas, the API) it is `HH:MM:SS` in WIB
(Asia/Jakarta, UTC+07:00, no daylight saving) **without** an offset: RFC 3339's
`partial-time`, stated by a `pattern`. The API also accepts a time with an offset
(`08:00:00+07:00`, `01:00:00Z`) and turns it into WIB's wall clock, so an offset is never
dropped silently nor compared with a naive time.
"""

from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

WIB_OFFSET = timedelta(hours=7)
PARTIAL_TIME = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$"
TIME_WITH_OPTIONAL_OFFSET = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$"
_DESCRIPTION = "Wall-clock time in WIB (Asia/Jakarta, UTC+07:00), HH:MM:SS without an offset"


def in_wib(moment: time) -> time:
    """The WIB wall-clock time of a time of day (naive times are WIB already)."""
    offset = moment.utcoffset()
    if offset is None:
        return moment
    naive = datetime.combine(date(2000, 1, 2), moment.replace(tzinfo=None))
    return (naive - offset + WIB_OFFSET).time()


_SCHEMA = {
    "type": "string",
    "format": "partial-time",
    "pattern": PARTIAL_TIME,
    "description": _DESCRIPTION,
}
_INPUT_SCHEMA = {
    "type": "string",
    "format": "partial-time",
    "pattern": TIME_WITH_OPTIONAL_OFFSET,
    "description": _DESCRIPTION + "; a time with an offset is converted to WIB",
}

# In events and answers: always WIB, never an offset.
WallClock = Annotated[time, AfterValidator(in_wib), WithJsonSchema(_SCHEMA)]
# In requests: WIB, or any offset (converted to WIB).
WallClockInput = Annotated[
    time,
    AfterValidator(in_wib),
    WithJsonSchema(_INPUT_SCHEMA, mode="validation"),
    WithJsonSchema(_SCHEMA, mode="serialization"),
]
