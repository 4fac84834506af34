"""A ticket's life: the transition table, transfers, quotas and numbers."""

from datetime import UTC, datetime, timedelta

import pytest

from botram_contracts.vocabulary import SessionStatus
from botram_registry.domain.tickets import (
    TRANSITIONS,
    DeskAction,
    TicketStatus,
    advance,
    check_not_queued,
    check_quota,
    check_transfer,
    end_of_wait,
    seconds_between,
    ticket_number,
)
from botram_runtime.errors import DomainError

CALLED_ONLY = [DeskAction.RECALL, DeskAction.COMPLETE, DeskAction.NO_SHOW, DeskAction.TRANSFER]


def test_ticket_numbers_carry_the_service_prefix() -> None:
    assert ticket_number("DUK", 7) == "DUK-007"


def test_a_ticket_goes_from_waiting_to_called_to_an_end() -> None:
    assert advance(TicketStatus.WAITING, DeskAction.CALL, "KK-001") == TicketStatus.CALLED
    assert advance(TicketStatus.CALLED, DeskAction.RECALL, "KK-001") == TicketStatus.CALLED
    assert advance(TicketStatus.CALLED, DeskAction.COMPLETE, "KK-001") == TicketStatus.COMPLETED
    assert advance(TicketStatus.CALLED, DeskAction.NO_SHOW, "KK-001") == TicketStatus.NO_SHOW
    assert advance(TicketStatus.CALLED, DeskAction.TRANSFER, "KK-001") == TicketStatus.TRANSFERRED


@pytest.mark.parametrize("action", CALLED_ONLY)
def test_only_a_called_ticket_can_be_recalled_completed_missed_or_transferred(
    action: DeskAction,
) -> None:
    for status in TicketStatus:
        if status == TicketStatus.CALLED:
            continue
        with pytest.raises(DomainError) as error:
            advance(status, action, "KK-001")
        assert (error.value.status, error.value.code) == (409, "ticket-state")


def test_only_a_waiting_ticket_can_be_called() -> None:
    others = [s for s in TicketStatus if s != TicketStatus.WAITING]
    for status in others:
        with pytest.raises(DomainError):
            advance(status, DeskAction.CALL, "KK-001")


def test_a_refusal_says_what_the_ticket_is_and_what_it_should_be() -> None:
    with pytest.raises(DomainError) as error:
        advance(TicketStatus.WAITING, DeskAction.NO_SHOW, "KK-001")

    assert error.value.detail == "cannot mark as no-show ticket KK-001: it is waiting, not called"


def test_finished_tickets_allow_no_action_at_all() -> None:
    finished = {TicketStatus.COMPLETED, TicketStatus.NO_SHOW, TicketStatus.TRANSFERRED}

    assert not [a for a, step in TRANSITIONS.items() if step.source in finished]
    assert {step.target for step in TRANSITIONS.values()} >= finished


def test_a_transfer_goes_to_another_service() -> None:
    check_transfer("KK-001", "dukcapil-kk", "bpjs-kesehatan-pendaftaran")
    with pytest.raises(DomainError) as error:
        check_transfer("KK-001", "dukcapil-kk", "dukcapil-kk")

    assert (error.value.status, error.value.code) == (422, "transfer-same-service")


def test_a_transfer_never_gives_a_citizen_a_second_open_ticket_for_a_service() -> None:
    check_not_queued("bpjs-kesehatan-pendaftaran", None)
    with pytest.raises(DomainError) as error:
        check_not_queued("bpjs-kesehatan-pendaftaran", "JKN-004")

    assert (error.value.status, error.value.code) == (409, "already-queued")
    assert "JKN-004" in error.value.detail


def test_the_quota_caps_the_tickets_issued() -> None:
    check_quota("Kartu Keluarga", issued=40, quota=40)
    check_quota("Kartu Keluarga", issued=400, quota=None)  # no quota: no cap
    with pytest.raises(DomainError) as error:
        check_quota("Kartu Keluarga", issued=41, quota=40)

    assert (error.value.status, error.value.code) == (409, "quota-full")
    assert error.value.detail.startswith("kuota habis: Kartu Keluarga")


def test_durations_read_naive_stored_times_as_utc_and_are_never_negative() -> None:
    start = datetime(2024, 7, 6, 1, 0, tzinfo=UTC)

    assert seconds_between(start, start.replace(tzinfo=None) + timedelta(minutes=2)) == 120
    assert seconds_between(start, start - timedelta(seconds=5)) == 0.0


@pytest.mark.parametrize(
    ("session", "ticket", "ends_as"),
    [
        (SessionStatus.CLOSED, TicketStatus.WAITING, TicketStatus.EXPIRED),
        (SessionStatus.CANCELLED, TicketStatus.WAITING, TicketStatus.CANCELLED),
        (SessionStatus.CLOSED, TicketStatus.CALLED, None),
        (SessionStatus.CANCELLED, TicketStatus.COMPLETED, None),
        (SessionStatus.CLOSED, TicketStatus.EXPIRED, None),
        (SessionStatus.OPENED, TicketStatus.WAITING, None),
    ],
)
def test_only_waiting_tickets_end_with_their_session(
    session: SessionStatus, ticket: TicketStatus, ends_as: TicketStatus | None
) -> None:
    assert end_of_wait(ticket, session) == ends_as
