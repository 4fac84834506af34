"""Sessions from the scheduler's events, applied on a fake transaction (no database, no bus)."""

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from botram_contracts.events import (
    BotramEvent,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    SessionUpdatedV1,
    make_event,
)
from botram_contracts.vocabulary import SessionStatus
from botram_registry import followups_store, pre_registration_store, store
from botram_registry.deps import Deps
from botram_registry.store import SessionRow
from botram_registry.usecases.sessions import apply_session_event
from botram_runtime.bus import RetryLater

DAY = date(2024, 7, 6)
COMMON: dict[str, Any] = {
    "session_id": "s-1",
    "level": "kecamatan",
    "kecamatan": "sukatani",
    "date": DAY,
}
SCHEDULED = SessionScheduledV1(
    **COMMON,
    start=time(8),
    end=time(14),
    services=["dukcapil-kk"],
    quotas={"dukcapil-kk": 40},
)


async def apply(deps: Deps, tx: Any, data: BotramEvent) -> SessionRow:
    await apply_session_event(deps, tx, make_event(data))
    [row] = [r for r in tx.added if isinstance(r, SessionRow)][-1:]
    tx.put(row, row.id)
    return row


async def test_an_announced_session_is_kept_as_scheduled(deps: Deps, tx: Any) -> None:
    row = await apply(deps, tx, SCHEDULED)

    assert (row.id, row.status, row.level, row.kecamatan) == (
        "s-1",
        SessionStatus.SCHEDULED,
        "kecamatan",
        "sukatani",
    )
    assert (row.services, row.quotas) == (["dukcapil-kk"], {"dukcapil-kk": 40})
    assert row.updated_at == deps.clock()


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (SessionOpenedV1(**COMMON, opened_at=datetime(2024, 7, 6, 1, tzinfo=UTC)), "opened"),
        (SessionClosedV1(**COMMON, closed_at=datetime(2024, 7, 6, 7, tzinfo=UTC)), "closed"),
        (SessionCancelledV1(**COMMON, reason="banjir"), "cancelled"),
    ],
)
async def test_lifecycle_events_set_the_status(
    deps: Deps, tx: Any, event: BotramEvent, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    erased: list[str] = []

    async def erase_phones(_tx: Any, session_id: str) -> None:
        erased.append(session_id)

    async def no_tickets(_tx: Any, _session_id: str) -> list[Any]:
        return []

    async def erase_pre_registrations(_tx: Any, session_id: str) -> None:
        erased.append(f"pre-registrations of {session_id}")

    kept: list[str] = []

    async def keep_for_follow_ups(_tx: Any, session_id: str, _until: datetime) -> int:
        kept.append(session_id)
        return 0

    monkeypatch.setattr(followups_store, "keep_contacts_for_follow_ups", keep_for_follow_ups)
    monkeypatch.setattr(store, "erase_phones_of_session", erase_phones)
    monkeypatch.setattr(store, "tickets_of_session", no_tickets)
    monkeypatch.setattr(
        pre_registration_store, "erase_personal_data_of_session", erase_pre_registrations
    )
    await apply(deps, tx, SCHEDULED)

    row = await apply(deps, tx, event)

    assert row.status == status
    # The contract: a phone is deleted after the session (closed or cancelled), and the
    # personal data of its pre-registrations with it.
    ended = ["s-1", "pre-registrations of s-1"]
    assert erased == ([] if status == "opened" else ended)
    # Except, for a while, the phones a follow-up may need (served or referred tickets).
    assert kept == ([] if status == "opened" else ["s-1"])


async def test_a_repeated_announcement_updates_the_session_but_keeps_its_status(
    deps: Deps, tx: Any
) -> None:
    await apply(deps, tx, SCHEDULED)
    await apply(deps, tx, SessionOpenedV1(**COMMON, opened_at=datetime(2024, 7, 6, tzinfo=UTC)))

    row = await apply(deps, tx, SCHEDULED.model_copy(update={"services": ["dukcapil-akta"]}))

    assert (row.status, row.services) == (SessionStatus.OPENED, ["dukcapil-akta"])


async def test_a_reschedule_moves_the_date_and_keeps_times_not_given(deps: Deps, tx: Any) -> None:
    await apply(deps, tx, SCHEDULED)
    moved = SessionRescheduledV1(
        **(COMMON | {"date": date(2024, 7, 9)}), previous_date=DAY, end=time(12), reason="hujan"
    )

    row = await apply(deps, tx, moved)

    assert (row.date, row.start, row.end) == (date(2024, 7, 9), time(8), time(12))


async def test_a_session_moved_while_open_is_scheduled_again_on_its_new_date(
    deps: Deps, tx: Any
) -> None:
    await apply(deps, tx, SCHEDULED)
    await apply(deps, tx, SessionOpenedV1(**COMMON, opened_at=datetime(2024, 7, 6, tzinfo=UTC)))
    moved = SessionRescheduledV1(
        **(COMMON | {"date": date(2024, 7, 13)}), previous_date=DAY, reason="listrik padam"
    )

    row = await apply(deps, tx, moved)

    assert (row.status, row.date) == (SessionStatus.SCHEDULED, date(2024, 7, 13))


async def test_an_update_of_an_opened_session_takes_its_new_services_quotas_and_hours(
    deps: Deps, tx: Any
) -> None:
    await apply(deps, tx, SCHEDULED)
    await apply(deps, tx, SessionOpenedV1(**COMMON, opened_at=datetime(2024, 7, 6, tzinfo=UTC)))
    updated = SessionUpdatedV1(
        **COMMON,
        start=time(8),
        end=time(15),
        services=["dukcapil-kk", "dukcapil-kia"],
        quotas={"dukcapil-kk": 60, "dukcapil-kia": 100},
        changed=["services", "quotas", "end"],
    )

    row = await apply(deps, tx, updated)

    assert row.status == SessionStatus.OPENED
    assert (row.services, row.quotas, row.end) == (
        ["dukcapil-kk", "dukcapil-kia"],
        {"dukcapil-kk": 60, "dukcapil-kia": 100},
        time(15),
    )


async def test_an_update_before_the_announcement_is_retried_later(deps: Deps, tx: Any) -> None:
    updated = SessionUpdatedV1(
        **COMMON, start=time(8), end=time(14), services=["dukcapil-kk"], changed=["quotas"]
    )

    with pytest.raises(RetryLater):
        await apply_session_event(deps, tx, make_event(updated))


async def test_a_lifecycle_event_before_the_announcement_is_retried_later(
    deps: Deps, tx: Any
) -> None:
    opened = SessionOpenedV1(**COMMON, opened_at=datetime(2024, 7, 6, tzinfo=UTC))

    with pytest.raises(RetryLater):
        await apply_session_event(deps, tx, make_event(opened))

    assert tx.added == []
