"""Offline desks' rules without I/O: the upload window after a close, the session's day, who
may upload what, and the first-recorded-wins rule for desk actions."""

from datetime import UTC, date, datetime, timedelta

import pytest

from botram_contracts.events import TicketCalledV1, TicketRecalledV1
from botram_contracts.vocabulary import SessionStatus
from botram_registry.domain.offline_actions import (
    ActionKind,
    OfflineConflict,
    check_may_record,
    check_recorded_day,
    check_upload_window,
    resolve,
)
from botram_registry.domain.tickets import TicketStatus
from botram_registry.usecases.display import is_announced
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Conflict, DomainError, Forbidden, Invalid
from botram_runtime.live import LiveEvent

CLOSED_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 13:00 WIB
GRACE = timedelta(hours=72)
# 09:30 WIB on the session's day, and a ticket issued at 09:00 WIB.
RECORDED = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
ISSUED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_an_open_session_and_a_closed_one_within_the_grace_accept_uploads() -> None:
    check_upload_window("s-1", SessionStatus.OPENED, CLOSED_AT, CLOSED_AT, GRACE)
    check_upload_window(
        "s-1", SessionStatus.CLOSED, CLOSED_AT, CLOSED_AT + timedelta(hours=30), GRACE
    )
    check_upload_window("s-1", SessionStatus.CLOSED, CLOSED_AT, CLOSED_AT + GRACE, GRACE)


def test_after_the_grace_the_whole_upload_is_refused_saying_until_when() -> None:
    with pytest.raises(Conflict) as refused:
        check_upload_window(
            "s-1", SessionStatus.CLOSED, CLOSED_AT, CLOSED_AT + GRACE + timedelta(seconds=1), GRACE
        )

    assert (refused.value.status, refused.value.code) == (409, "offline-grace-over")
    assert "72 hours" in refused.value.detail and "2026-12-04T13:00+07:00" in refused.value.detail


@pytest.mark.parametrize("status", [SessionStatus.SCHEDULED, SessionStatus.CANCELLED])
def test_a_session_never_opened_or_cancelled_takes_no_upload(status: SessionStatus) -> None:
    with pytest.raises(Conflict) as refused:
        check_upload_window("s-1", status, CLOSED_AT, CLOSED_AT, GRACE)

    assert refused.value.code == "session-not-open"


def test_an_item_is_recorded_on_the_session_day_in_local_time() -> None:
    # 23:30 WIB on the session's day is 16:30 UTC; 00:30 WIB the next day is still 17:30 UTC.
    check_recorded_day(datetime(2026, 12, 1, 16, 30, tzinfo=UTC), date(2026, 12, 1))

    with pytest.raises(Invalid) as refused:
        check_recorded_day(datetime(2026, 12, 1, 17, 30, tzinfo=UTC), date(2026, 12, 1))

    assert refused.value.code == "recorded-outside-session-day"
    assert "2026-12-02" in refused.value.detail


def actor(*roles: Role) -> Actor:
    return Actor(sub="tablet-1", roles=frozenset(roles), agency="dukcapil")


def test_check_ins_need_the_front_desk_and_desk_actions_a_desk() -> None:
    check_may_record(actor(Role.FRONT_DESK), None)
    check_may_record(actor(Role.DESK), ActionKind.CALL)
    check_may_record(actor(Role.OPERATOR), None)
    check_may_record(actor(Role.OPERATOR), ActionKind.OUTCOME)

    with pytest.raises(Forbidden):
        check_may_record(actor(Role.DESK), None)
    with pytest.raises(Forbidden):
        check_may_record(actor(Role.FRONT_DESK), ActionKind.NO_SHOW)


@pytest.mark.parametrize(
    ("kind", "status", "after"),
    [
        (ActionKind.CALL, TicketStatus.WAITING, TicketStatus.CALLED),
        (ActionKind.OUTCOME, TicketStatus.CALLED, TicketStatus.COMPLETED),
        (ActionKind.NO_SHOW, TicketStatus.CALLED, TicketStatus.NO_SHOW),
    ],
)
def test_an_action_the_ticket_allows_applies(
    kind: ActionKind, status: TicketStatus, after: TicketStatus
) -> None:
    assert resolve(kind, status, "KK-001", RECORDED, ISSUED, None) == after


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ActionKind.OUTCOME, TicketStatus.COMPLETED),  # completed online, then offline
        (ActionKind.NO_SHOW, TicketStatus.COMPLETED),
        (ActionKind.OUTCOME, TicketStatus.NO_SHOW),
        (ActionKind.CALL, TicketStatus.CALLED),  # called online, then offline
        (ActionKind.OUTCOME, TicketStatus.WAITING),  # never called anywhere
        (ActionKind.CALL, TicketStatus.CANCELLED),
    ],
)
def test_the_first_ending_recorded_wins_and_a_later_one_is_a_conflict(
    kind: ActionKind, status: TicketStatus
) -> None:
    with pytest.raises(OfflineConflict) as conflict:
        resolve(kind, status, "KK-001", RECORDED, ISSUED, CLOSED_AT)

    assert (conflict.value.status, conflict.value.code) == (409, "offline-conflict")
    assert "KK-001" in conflict.value.detail and "first recorded wins" in conflict.value.detail


def test_an_action_recorded_before_the_ticket_last_changed_is_a_conflict() -> None:
    called_online = RECORDED + timedelta(minutes=5)

    with pytest.raises(OfflineConflict) as conflict:
        resolve(ActionKind.NO_SHOW, TicketStatus.CALLED, "KK-001", RECORDED, called_online, None)

    assert "changed after this was recorded" in conflict.value.detail


def test_a_ticket_the_close_expired_may_still_be_called_offline_before_the_close() -> None:
    before_close = CLOSED_AT - timedelta(minutes=30)

    assert (
        resolve(ActionKind.CALL, TicketStatus.EXPIRED, "KK-001", before_close, ISSUED, CLOSED_AT)
        == TicketStatus.CALLED
    )
    with pytest.raises(DomainError):
        resolve(
            ActionKind.CALL,
            TicketStatus.EXPIRED,
            "KK-001",
            CLOSED_AT + timedelta(minutes=1),
            ISSUED,
            CLOSED_AT,
        )
    with pytest.raises(DomainError):  # only a call brings it back, never an outcome alone
        resolve(ActionKind.OUTCOME, TicketStatus.EXPIRED, "KK-001", before_close, ISSUED, CLOSED_AT)


def test_the_display_announces_live_calls_never_an_offline_desk_s_late_upload() -> None:
    call = {"session_id": "s-1", "number": "KK-001", "service": "dukcapil-kk"}

    assert is_announced(LiveEvent(TicketCalledV1.event_type, call))
    assert is_announced(LiveEvent(TicketRecalledV1.event_type, call))
    assert not is_announced(LiveEvent(TicketCalledV1.event_type, call | {"recorded_offline": True}))
    assert not is_announced(LiveEvent("botram.service.completed.v1", call))
