"""Webhook deliveries: their states, what an endpoint's answer means, retries, auto-disable.

A delivery is one event for one subscription. It is `pending` until an attempt delivers it
(`delivered`) or it is given up (`failed`: the dead letter, listed and replayable). An event
for a disabled subscription is kept as `held` and becomes `pending` when the subscription is
enabled again, so nothing is lost while an endpoint is away. Retries
follow a schedule (like Svix: first attempt at once, then growing delays, with jitter), a
`Retry-After` can only postpone them, and a subscription that keeps failing is disabled.
"""

import base64
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

from botram_runtime.actors import Actor
from botram_runtime.errors import Conflict, Invalid


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the dead letter: listed and replayable
    HELD = "held"  # its subscription is disabled: sent once it is enabled again


# The moves a delivery may make: an attempt settles it, an operator replays a dead letter.
TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.FAILED}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.DELIVERED: frozenset(),
    DeliveryStatus.HELD: frozenset({DeliveryStatus.PENDING}),
}


def initial_status(subscription_enabled: bool) -> DeliveryStatus:
    """A new delivery is attempted at once, or held while its subscription is disabled."""
    return DeliveryStatus.PENDING if subscription_enabled else DeliveryStatus.HELD


def sent_on_enable(status: DeliveryStatus, last_error: str | None) -> bool:
    """Enabling a subscription sends what was kept for it: the held deliveries and those
    given up only because the subscription was disabled when their attempt came."""
    return status == DeliveryStatus.HELD or (
        status == DeliveryStatus.FAILED and last_error == SUBSCRIPTION_DISABLED
    )


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"  # no retry: the endpoint refused the event
    GONE = "gone"  # 410: the endpoint asks us to stop


GONE_REASON = "the endpoint answered 410 Gone"
FAILING_REASON = "failing continuously"
# An attempt of a delivery whose subscription was disabled meanwhile: nothing is sent.
SUBSCRIPTION_DISABLED = "subscription disabled"


@dataclass(frozen=True, slots=True)
class FindDeliveries:
    """A page of a subscription's deliveries (of one status when given), newest first;
    `cursor` (from the previous page) continues after that page's last delivery."""

    actor: Actor
    subscription_id: str
    status: DeliveryStatus | None = None
    limit: int = 100
    cursor: str | None = None


def encode_cursor(created_at: datetime, delivery_id: str) -> str:
    """An opaque position in a newest-first listing: after this delivery."""
    raw = json.dumps([created_at.isoformat(), delivery_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The delivery a cursor points after; a cursor Botram did not make is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, delivery_id = json.loads(raw)
        return datetime.fromisoformat(created_at), str(delivery_id)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise Invalid(
            "The cursor is not one a listing returned; start again without it.",
            code="invalid-cursor",
        ) from error


@dataclass(frozen=True, slots=True)
class GetDelivery:
    actor: Actor
    delivery_id: str


@dataclass(frozen=True, slots=True)
class RetryDelivery:
    """Put one dead-lettered delivery back in the queue, with a fresh retry schedule."""

    actor: Actor
    delivery_id: str


@dataclass(frozen=True, slots=True)
class ReplayFailed:
    """Re-queue every dead-lettered delivery of a subscription created since a moment."""

    actor: Actor
    subscription_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failing delivery is retried, and when its subscription is given up."""

    schedule: tuple[float, ...]
    jitter: float
    max_retry_after_seconds: float
    auto_disable_after_seconds: float


@dataclass(frozen=True, slots=True)
class Disable:
    """The subscription is disabled: `reason` for people, `label` for the metric."""

    reason: str
    label: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one attempt decides for its delivery and subscription."""

    outcome: AttemptOutcome  # as recorded: RETRY with the schedule exhausted becomes FAILED
    status: DeliveryStatus
    retries_done: int
    next_attempt_at: datetime | None  # set when the delivery is retried later
    failing_since: datetime | None  # the subscription's first failure since its last success
    disable: Disable | None  # the subscription is disabled by this attempt

    @property
    def finished(self) -> bool:
        return self.status != DeliveryStatus.PENDING


def classify(status: int | None) -> AttemptOutcome:
    """What an endpoint's answer means (None: network error or timeout)."""
    if status is None or status == 429 or status >= 500:
        return AttemptOutcome.RETRY
    if 200 <= status < 300:
        return AttemptOutcome.DELIVERED
    if status == 410:
        return AttemptOutcome.GONE
    return AttemptOutcome.FAILED


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a `Retry-After` header (delta-seconds or HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 0.0)


def next_attempt_delay(
    schedule: tuple[float, ...],
    retries_done: int,
    *,
    jitter: float,
    retry_after: float | None,
    max_retry_after: float,
    rng: random.Random | None = None,
) -> float | None:
    """Delay before the next attempt, or None when the schedule is exhausted."""
    if retries_done >= len(schedule):
        return None
    delay = schedule[retries_done]
    delay *= 1 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return max(delay, 0.0)


def should_auto_disable(
    failing_since: datetime | None, now: datetime, after_seconds: float
) -> bool:
    return failing_since is not None and now - failing_since >= timedelta(seconds=after_seconds)


def judge_attempt(
    outcome: AttemptOutcome,
    *,
    retries_done: int,
    failing_since: datetime | None,
    subscription_enabled: bool,
    retry_after: str | None,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> Verdict:
    """Settle a delivery after one attempt, and say whether its subscription is given up.

    A success clears the subscription's failing clock. A retryable answer schedules the next
    attempt, or dead-letters the delivery once the schedule is exhausted; any other answer
    dead-letters it at once. A 410 disables the subscription, and so does failing without a
    single success for longer than the policy allows.
    """
    if outcome is AttemptOutcome.DELIVERED:
        return Verdict(outcome, DeliveryStatus.DELIVERED, retries_done, None, None, None)
    failing_since = failing_since or now
    final, status, next_attempt_at = outcome, DeliveryStatus.FAILED, None
    if outcome is AttemptOutcome.RETRY:
        delay = next_attempt_delay(
            policy.schedule,
            retries_done,
            jitter=policy.jitter,
            retry_after=parse_retry_after(retry_after, now),
            max_retry_after=policy.max_retry_after_seconds,
            rng=rng,
        )
        if delay is None:
            final = AttemptOutcome.FAILED
        else:
            status = DeliveryStatus.PENDING
            retries_done += 1
            next_attempt_at = now + timedelta(seconds=delay)
    disable = None
    if outcome is AttemptOutcome.GONE and subscription_enabled:
        disable = Disable(GONE_REASON, "gone")
    elif subscription_enabled and should_auto_disable(
        failing_since, now, policy.auto_disable_after_seconds
    ):
        disable = Disable(FAILING_REASON, "failing")
    return Verdict(final, status, retries_done, next_attempt_at, failing_since, disable)


def check_retry(status: DeliveryStatus, subscription_enabled: bool) -> bool:
    """Whether a manual retry re-queues the delivery (False: it is pending already)."""
    if not subscription_enabled:
        raise Conflict(
            "The subscription is disabled; enable it before retrying its deliveries.",
            code="subscription-disabled",
        )
    # `==`, not `is`: a status read back from the database is a plain string.
    if status == DeliveryStatus.PENDING:
        return False
    if DeliveryStatus.PENDING not in TRANSITIONS[DeliveryStatus(status)]:
        raise Conflict("This delivery already succeeded.", code="already-delivered")
    return True


def check_replay(subscription_enabled: bool) -> None:
    """Dead letters of a disabled subscription stay parked until it is enabled again."""
    if not subscription_enabled:
        raise Conflict(
            "The subscription is disabled; enable it before replaying its deliveries.",
            code="subscription-disabled",
        )
