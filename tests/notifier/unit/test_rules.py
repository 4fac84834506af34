"""The notifier's pure rules: answers, retry delays, Retry-After, scopes, SSRF, messages."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from botram_contracts.samples import agency_sample_types
from botram_notifier.domain.deliveries import (
    AttemptOutcome,
    classify,
    next_attempt_delay,
    parse_retry_after,
    should_auto_disable,
)
from botram_notifier.domain.messages import MessageKind, render, tanggal
from botram_notifier.domain.subscriptions import (
    agency_event_types,
    check_subscription_scope,
    forbidden_address,
    subscription_matches,
)
from botram_runtime.errors import DomainError

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
SCHEDULE = (5.0, 300.0, 1800.0)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, AttemptOutcome.DELIVERED),
        (204, AttemptOutcome.DELIVERED),
        (None, AttemptOutcome.RETRY),
        (429, AttemptOutcome.RETRY),
        (500, AttemptOutcome.RETRY),
        (503, AttemptOutcome.RETRY),
        (410, AttemptOutcome.GONE),
        (400, AttemptOutcome.FAILED),
        (404, AttemptOutcome.FAILED),
        (301, AttemptOutcome.FAILED),
    ],
)
def test_an_endpoint_answer_means(status: int | None, outcome: AttemptOutcome) -> None:
    assert classify(status) is outcome


def test_retries_follow_the_schedule_then_stop() -> None:
    delays = [
        next_attempt_delay(SCHEDULE, done, jitter=0, retry_after=None, max_retry_after=36000)
        for done in range(4)
    ]

    assert delays == [5.0, 300.0, 1800.0, None]


def test_jitter_spreads_a_delay_within_its_fraction() -> None:
    rng = random.Random(7)
    delays = {
        next_attempt_delay(SCHEDULE, 1, jitter=0.1, retry_after=None, max_retry_after=1, rng=rng)
        for _ in range(50)
    }

    assert len(delays) > 1
    assert all(270.0 <= delay <= 330.0 for delay in delays if delay is not None)


def test_retry_after_postpones_but_never_beyond_the_cap() -> None:
    def delay(retry_after: float) -> float | None:
        return next_attempt_delay(
            SCHEDULE, 0, jitter=0, retry_after=retry_after, max_retry_after=600
        )

    assert delay(120) == 120
    assert delay(1) == 5.0
    assert delay(10**6) == 600


def test_retry_after_reads_seconds_and_http_dates() -> None:
    in_two_minutes = (NOW + timedelta(minutes=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")

    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after(in_two_minutes, NOW) == 120
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_subscription_failing_long_enough_is_disabled() -> None:
    assert not should_auto_disable(None, NOW, 60)
    assert not should_auto_disable(NOW - timedelta(seconds=59), NOW, 60)
    assert should_auto_disable(NOW - timedelta(seconds=60), NOW, 60)


def test_agencies_may_read_ticket_service_and_session_events_only() -> None:
    types = agency_event_types()

    assert "botram.service.completed.v1" in types and "botram.session.opened.v1" in types
    assert not any(t.startswith(("botram.citizen.", "botram.demand.")) for t in types)
    assert types == agency_sample_types()  # each has its sample in the catalogue and docs


def test_an_agency_may_not_name_another_agencys_service() -> None:
    owners = {"baznas-zakat-infak-sedekah": "baznas"}

    with pytest.raises(DomainError) as refused:
        check_subscription_scope(
            "bpjs-kesehatan",
            ["botram.ticket.called.v1"],
            ["baznas-zakat-infak-sedekah"],
            ["bpjs-kesehatan", "baznas"],
            owners,
        )

    assert refused.value.status == 403


def test_a_session_event_matches_when_it_offers_a_subscribed_service() -> None:
    def matches(services: list[str] | None, offered: list[str]) -> bool:
        return subscription_matches(
            agency="baznas",
            event_types=["botram.session.scheduled.v1"],
            services=services,
            event_type="botram.session.scheduled.v1",
            data={"services": offered},
        )

    assert matches(None, ["dukcapil-kk"])
    assert matches(["baznas-zakat-infak-sedekah"], ["baznas-zakat-infak-sedekah", "dukcapil-kk"])
    assert not matches(["baznas-zakat-infak-sedekah"], ["dukcapil-kk"])


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("203.0.113.10", False),  # documentation range: reserved
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.100.100.200", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:127.0.0.1", False),
        ("2606:4700:4700::1111", True),
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses(address: str, allowed: bool) -> None:
    assert (forbidden_address(address) is None) is allowed


def test_messages_are_in_bahasa_indonesia_with_indonesian_dates() -> None:
    text = render(
        MessageKind.SESSION_MOVED,
        place="Sukatani",
        previous_date=tanggal(date(2026, 12, 5)),
        date=tanggal(date(2027, 1, 9)),
        reason="hari libur",
    )

    assert text == (
        "layanan Botram di Sukatani dipindahkan dari 5 Desember 2026 "
        "ke 9 Januari 2027. Alasan: hari libur."
    )
