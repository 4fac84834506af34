"""The check-in use cases on fakes: the single path and the group commit apply the same rules.

A group never stores what the single path would refuse (it leaves it to the single path,
which answers with the problem), and what a group stores is what the single path would have
stored: the same priority, services, tickets and events.
"""

from typing import Any

import pytest

from botram_contracts.events import CitizenCheckedInV1
from botram_contracts.vocabulary import SessionStatus
from botram_registry.deps import Deps
from botram_registry.domain.check_in import Arrival, CheckIn, PendingCheckIn
from botram_registry.usecases.check_in import check_in_group, check_in_within, identify_citizen
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import DomainError

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"
FRONT_DESK = Actor(sub="front-desk-1", roles=frozenset({Role.FRONT_DESK}))
LANSIA_NIK = "3216050101500001"  # born 1 January 1950


def command(nik: str = "3216054507900001", *services: str, **overrides: Any) -> CheckIn:
    values: dict[str, Any] = {
        "session_id": "s-1",
        "nik": nik,
        "name": "Siti Aminah",
        "services": services or (KK, JKN),
        "actor": FRONT_DESK,
    }
    return CheckIn(**(values | overrides))


REFUSED = [
    pytest.param(None, command(), "session-not-found", id="unknown session"),
    pytest.param(SessionStatus.SCHEDULED, command(), "session-not-open", id="not open yet"),
    pytest.param(SessionStatus.CLOSED, command(), "session-not-open", id="closed"),
    pytest.param(
        SessionStatus.OPENED,
        command("3216054507900001", KK, "no-such-service"),
        "unknown-service",
        id="unknown service",
    ),
    pytest.param(
        SessionStatus.OPENED,
        command("3216054507900001", "pmi-donor-darah"),
        "service-not-offered",
        id="not offered",
    ),
]


@pytest.mark.parametrize(("status", "asked", "code"), REFUSED)
async def test_the_group_leaves_to_the_single_path_exactly_what_it_refuses(
    status: SessionStatus | None,
    asked: CheckIn,
    code: str,
    deps: Deps,
    tx: Any,
    fake_issuing: Any,
    make_session: Any,
) -> None:
    if status is not None:
        tx.put(make_session(status), "s-1")
    identity = identify_citizen(deps, asked.nik)

    with pytest.raises(DomainError) as refused:
        await check_in_within(tx, deps, asked, identity, Arrival())
    grouped = await check_in_group(deps, [PendingCheckIn(asked, identity)])

    assert refused.value.code == code
    assert grouped == [None]  # the single path answers it
    # The group refused it by rule, before storing anything (not by failing).
    assert (fake_issuing.check_ins, tx.statements, tx.staged()) == ([], 0, [])


async def test_a_group_stores_what_the_single_path_would_have_stored(
    deps: Deps, tx: Any, fake_issuing: Any, make_session: Any
) -> None:
    tx.put(make_session(), "s-1")
    asked = [
        command("3216050101900001", KK),
        command(LANSIA_NIK, JKN, KK, JKN),  # lansia; JKN asked twice
        command("3216050101900002", KK, priority_reasons=("ibu-hamil",)),
        command("3216050101900003", JKN, priority=True),
    ]
    items = [PendingCheckIn(c, identify_citizen(deps, c.nik)) for c in asked]

    singly = [await check_in_within(tx, deps, i.command, i.identity, Arrival()) for i in items]
    single_rows, single_events = list(fake_issuing.check_ins), tx.take_staged()
    fake_issuing.check_ins.clear()
    fake_issuing.issued.clear()
    fake_issuing.priority_issued.clear()
    grouped = await check_in_group(deps, items)

    assert [r.priority for r in singly] == [False, True, True, True]
    assert all(r is not None for r in grouped)
    assert [r.priority for r in grouped if r] == [r.priority for r in singly]
    assert [[t.number for t in r.tickets] for r in grouped if r] == [
        [t.number for t in r.tickets] for r in singly
    ]
    assert [(c.services, c.priority, c.priority_reasons) for c in fake_issuing.check_ins] == [
        (c.services, c.priority, c.priority_reasons) for c in single_rows
    ]
    assert single_rows[1].services == [JKN, KK]
    # Priority tickets are told the place they will be called at, not their number's.
    positions = [[(t.service, t.position) for t in r.tickets] for r in grouped if r]
    assert positions == [[(t.service, t.position) for t in r.tickets] for r in singly]
    assert positions == [[(KK, 1)], [(JKN, 1), (KK, 1)], [(KK, 2)], [(JKN, 2)]]
    announced = [e.data for e in tx.take_staged()]
    assert all(isinstance(e, CitizenCheckedInV1) for e in announced)
    assert [(e.age_band, e.priority, len(e.tickets)) for e in announced] == [
        (e.data.age_band, e.data.priority, len(e.data.tickets)) for e in single_events
    ]
    assert [e.age_band for e in announced] == ["30-44", "60+", "30-44", "30-44"]
