"""Where a citizen whose session was cancelled can go next: a pure choice among the
sessions the notifier knows from the scheduler's events.

The rule, as citizens would put it: "another Botram in my kecamatan soon, else the first
one anywhere". Among the sessions after the cancelled one's day that are still to happen
(scheduled, or already open) and offer every service the citizen came for (or, when none
offers them all, any of them): the earliest in the same kecamatan within `NEARBY_DAYS`;
else the earliest anywhere in the regency (the same kecamatan first on the same day, then
the earlier start).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

# A session in the same kecamatan this many days after the cancelled one is "nearby": a
# citizen may wait that long for one they can walk to rather than travel sooner.
NEARBY_DAYS = 14
STILL_AHEAD = frozenset({"scheduled", "opened"})


@dataclass(frozen=True, slots=True)
class Candidate:
    session_id: str
    kecamatan: str
    desa: str | None
    date: date
    start: time
    venue: str | None
    services: tuple[str, ...]
    status: str


def next_session(
    candidates: Iterable[Candidate], kecamatan: str, day: date, services: Sequence[str]
) -> Candidate | None:
    """The session to point the citizen to, or None when the notifier knows none."""
    ahead = [c for c in candidates if c.status in STILL_AHEAD and c.date > day]
    wanted = set(services)
    offering = [c for c in ahead if wanted <= set(c.services)] or [
        c for c in ahead if wanted & set(c.services)
    ]
    nearby = [
        c
        for c in offering
        if c.kecamatan == kecamatan and c.date <= day + timedelta(days=NEARBY_DAYS)
    ]
    pool = nearby or offering
    if not pool:
        return None
    return min(pool, key=lambda c: (c.date, c.kecamatan != kecamatan, c.start, c.session_id))
