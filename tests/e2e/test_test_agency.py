"""The test agency of `make up` (docs/agencies.md, "A test agency on a laptop"): its own NATS
key and consumers on the embedded server, and the documented client reading them."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from botram_runtime.clock import local_today, system_clock
from helpers import System

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agency" / "nats_consumer.py"
AGENCY = "bpjs-kesehatan"


def test_the_documented_client_reads_the_test_agencys_events_with_its_own_key(
    system: System,
) -> None:
    assert any(f"test agency {AGENCY}" in line for line in system.output), system.output
    seed = system.nats_seed(f"agency-{AGENCY}")
    consumer = subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        env={
            **os.environ,
            "BOTRAM_NATS_URL": system.nats_url,
            "BOTRAM_AGENCY_SEED": seed,
            "BOTRAM_AGENCY": AGENCY,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert consumer.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in consumer.stdout], daemon=True).start()
    try:
        assert "ready" in lines.get(timeout=30)
        today = local_today(system_clock).isoformat()
        created = httpx.post(
            system.urls["scheduler"] + "/v1/sessions",
            json={"level": "kecamatan", "kecamatan": "Sukatani", "date": today},
            headers=system.headers("planner"),
            timeout=10,
        )
        assert created.status_code == 201, created.text

        line = lines.get(timeout=30)
        event = json.loads(line)
        assert event["type"] == "botram.session.scheduled.v1", line
    finally:
        consumer.terminate()  # it stops within one fetch (5 s)
        assert consumer.wait(timeout=15) == 0
