"""A delivery's verdict after one attempt; manual retries and replays of dead letters."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from botram_notifier.domain.deliveries import (
    FAILING_REASON,
    GONE_REASON,
    TRANSITIONS,
    AttemptOutcome,
    DeliveryStatus,
    RetryPolicy,
    Verdict,
    check_replay,
    check_retry,
    judge_attempt,
)
from botram_runtime.errors import Conflict

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    schedule=(5.0, 300.0),
    jitter=0.0,
    max_retry_after_seconds=600.0,
    auto_disable_after_seconds=3600.0,
)


def judge(
    outcome: AttemptOutcome,
    *,
    retries_done: int = 0,
    failing_since: datetime | None = None,
    enabled: bool = True,
    retry_after: str | None = None,
) -> Verdict:
    return judge_attempt(
        outcome,
        retries_done=retries_done,
        failing_since=failing_since,
        subscription_enabled=enabled,
        retry_after=retry_after,
        now=NOW,
        policy=POLICY,
        rng=random.Random(1),
    )


def test_a_success_delivers_and_stops_the_failing_clock() -> None:
    verdict = judge(AttemptOutcome.DELIVERED, failing_since=NOW - timedelta(hours=2))

    assert verdict.status is DeliveryStatus.DELIVERED and verdict.finished
    assert verdict.outcome is AttemptOutcome.DELIVERED
    assert verdict.failing_since is None
    assert verdict.next_attempt_at is None and verdict.disable is None


def test_a_retryable_answer_schedules_the_next_attempt_and_starts_the_failing_clock() -> None:
    verdict = judge(AttemptOutcome.RETRY, retries_done=1)

    assert verdict.status is DeliveryStatus.PENDING and not verdict.finished
    assert verdict.outcome is AttemptOutcome.RETRY
    assert verdict.retries_done == 2
    assert verdict.next_attempt_at == NOW + timedelta(seconds=300)
    assert verdict.failing_since == NOW
    assert verdict.disable is None


def test_a_retry_after_the_schedule_is_exhausted_dead_letters_the_delivery() -> None:
    verdict = judge(AttemptOutcome.RETRY, retries_done=2, failing_since=NOW - timedelta(minutes=5))

    assert verdict.status is DeliveryStatus.FAILED and verdict.finished
    assert verdict.outcome is AttemptOutcome.FAILED
    assert verdict.retries_done == 2 and verdict.next_attempt_at is None
    assert verdict.failing_since == NOW - timedelta(minutes=5)


def test_a_refusal_dead_letters_at_once_but_keeps_the_subscription() -> None:
    verdict = judge(AttemptOutcome.FAILED)

    assert verdict.status is DeliveryStatus.FAILED and verdict.outcome is AttemptOutcome.FAILED
    assert verdict.retries_done == 0 and verdict.next_attempt_at is None
    assert verdict.disable is None


def test_gone_disables_an_enabled_subscription_only() -> None:
    disable = judge(AttemptOutcome.GONE).disable

    assert disable is not None and (disable.reason, disable.label) == (GONE_REASON, "gone")
    assert judge(AttemptOutcome.GONE).status is DeliveryStatus.FAILED
    assert judge(AttemptOutcome.GONE, enabled=False).disable is None


def test_failing_longer_than_the_policy_allows_disables_the_subscription() -> None:
    almost = judge(AttemptOutcome.RETRY, failing_since=NOW - timedelta(minutes=59))
    too_long = judge(AttemptOutcome.RETRY, failing_since=NOW - timedelta(hours=1))

    assert almost.disable is None
    assert too_long.disable is not None
    assert (too_long.disable.reason, too_long.disable.label) == (FAILING_REASON, "failing")
    # The attempt itself is still retried: the worker finds the subscription disabled next.
    assert too_long.status is DeliveryStatus.PENDING


def test_a_retry_after_header_postpones_the_next_attempt_up_to_the_cap() -> None:
    def next_at(header: str) -> datetime | None:
        return judge(AttemptOutcome.RETRY, retry_after=header).next_attempt_at

    assert next_at("120") == NOW + timedelta(seconds=120)
    assert next_at("1") == NOW + timedelta(seconds=5)
    assert next_at("86400") == NOW + timedelta(seconds=600)


def test_only_a_dead_letter_is_requeued_by_hand() -> None:
    assert check_retry(DeliveryStatus.FAILED, subscription_enabled=True) is True
    assert check_retry(DeliveryStatus.PENDING, subscription_enabled=True) is False
    # A status read back from the database is a plain string.
    assert check_retry("failed", subscription_enabled=True) is True  # type: ignore[arg-type]
    assert check_retry("pending", subscription_enabled=True) is False  # type: ignore[arg-type]
    with pytest.raises(Conflict) as delivered:
        check_retry("delivered", subscription_enabled=True)  # type: ignore[arg-type]
    assert (delivered.value.status, delivered.value.code) == (409, "already-delivered")


@pytest.mark.parametrize("status", list(DeliveryStatus))
def test_nothing_is_retried_or_replayed_while_the_subscription_is_disabled(
    status: DeliveryStatus,
) -> None:
    with pytest.raises(Conflict) as retry:
        check_retry(status, subscription_enabled=False)
    with pytest.raises(Conflict) as replay:
        check_replay(subscription_enabled=False)

    assert (retry.value.status, retry.value.code) == (409, "subscription-disabled")
    assert (replay.value.status, replay.value.code) == (409, "subscription-disabled")
    check_replay(subscription_enabled=True)


def test_a_delivered_delivery_is_final() -> None:
    assert TRANSITIONS[DeliveryStatus.DELIVERED] == frozenset()
    assert DeliveryStatus.PENDING in TRANSITIONS[DeliveryStatus.FAILED]
