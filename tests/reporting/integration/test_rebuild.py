"""rebuild on a real database from a replay held in memory: emptied tables, counts, once each."""

import json
from collections.abc import AsyncGenerator
from dataclasses import replace
from datetime import UTC, datetime

from botram_contracts.events import (
    CitizenCheckedInV1,
    TicketRef,
    decode_event,
    encode_event,
    make_event,
)
from botram_reporting.deps import Deps
from botram_reporting.metrics import Aggregates
from botram_reporting.usecases.ingest import apply_events, load_mirror
from botram_reporting.usecases.rebuild import rebuild


class ListReplay:
    def __init__(self, *batches: list[bytes]) -> None:
        self._batches = batches
        self.total = sum(len(b) for b in batches)

    async def batches(self) -> AsyncGenerator[list[bytes], None]:
        for batch in self._batches:
            yield batch


def check_in(n: int, kecamatan: str = "sukatani") -> bytes:
    ticket = TicketRef(
        ticket_id=f"c{n}-t0", service="dukcapil-kk", agency="dukcapil", number="X", position=1
    )
    data = CitizenCheckedInV1(
        check_in_id=f"c{n}",
        session_id="s-1",
        level="kecamatan",
        kecamatan=kecamatan,
        citizen=f"{n:064x}",
        sex="M",
        age_band="18-29",
        resident=True,
        priority=False,
        tickets=[ticket],
        checked_in_at=datetime(2024, 7, 6, 2, 0, tzinfo=UTC),
    )
    return encode_event(make_event(data, "registry"))


async def test_a_rebuild_empties_the_tables_then_counts_each_replayed_event_once(
    deps: Deps,
) -> None:
    # Counted before the rebuild: gone afterwards.
    await apply_events(deps, [decode_event(check_in(99, "tarumajaya"))])
    first, second = check_in(1), check_in(2)
    future = json.loads(first)
    future.update(id="00000000-0000-4000-8000-000000000000", type="botram.session.renamed.v9")
    progress: list[tuple[int, int]] = []

    counts = await rebuild(
        deps,
        ListReplay([first, b"{not json", second], [first, json.dumps(future).encode()]),
        lambda done, total: progress.append((done, total)),
    )

    assert (counts.read, counts.applied, counts.duplicates) == (5, 2, 1)
    assert (counts.unknown, counts.malformed) == (1, 1)
    assert progress == [(3, 5), (5, 5)]
    stored = Aggregates()
    await load_mirror(replace(deps, aggregates=stored))
    assert stored.get("checkins", level="kecamatan", kecamatan="sukatani") == 2
    assert stored.get("checkins", level="kecamatan", kecamatan="tarumajaya") == 0
