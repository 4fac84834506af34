"""The chaos day, small: two replicas of every service on PostgreSQL, a 3-node NATS cluster,
a NATS node killed -9 and restarted every few seconds, one replica of each service killed -9
once (benchmarks/chaos.py; `python -m benchmarks.chaos` runs the big day)."""

import os
from pathlib import Path

import pytest

from benchmarks.chaos import run_day

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]


async def test_a_chaos_day_counts_exactly_and_sends_each_webhook_once(tmp_path: Path) -> None:
    pg_url = os.environ.get("BOTRAM_TEST_DATABASE_URL")
    if pg_url is None:
        if os.environ.get("CI"):
            pytest.fail("BOTRAM_TEST_DATABASE_URL is required in CI")
        pytest.skip("no PostgreSQL here: set BOTRAM_TEST_DATABASE_URL")

    figures = await run_day(tmp_path, pg_url, citizens=60, nats_kill_every=6.0)

    print(figures)
    assert figures["failures"] == []
    assert figures["checkins"] == 60
    assert figures["replica_kills"] == ["notifier-1", "registry-1", "reporting-1", "scheduler-1"]
    assert figures["nats_kills"] >= 1
    assert figures["webhooks_received_distinct"] == figures["webhooks_expected"] > 0
