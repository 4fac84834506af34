"""The simulator drives the real system; its summary must equal reporting's session report,
and every event it caused validates against its JSON Schema with `format` checking on."""

import asyncio
import json
import subprocess
from pathlib import Path

import jsonschema
import nats
import pytest

from botram_runtime.stream import STREAM_NAME
from helpers import System, cli

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"

pytestmark = pytest.mark.e2e


def test_a_small_simulated_day_agrees_with_reporting(system: System) -> None:
    urls = [f"--{name}-url={system.urls[name]}" for name in ("scheduler", "registry", "reporting")]

    result = subprocess.run(
        cli(
            "simulate",
            *("--citizens", "25", "--seed", "4", "--desks", "1", "--json", *urls),
            f"--var-dir={system.var_dir}",
        ),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["agrees"] is True
    assert summary["checkins"] == 25
    assert sum(s["tickets"] for s in summary["services"].values()) >= 25
    # Pre-registration is exercised whatever the time of day (the session's hours run from
    # now): citizens registered ahead, then checked in by their code.
    assert summary["pre_registrations"] > 0
    assert summary["checked_in_by_code"] > 0
    # Agencies reported documents ready, and reporting counted each follow-up.
    assert sum(s["follow_ups"] for s in summary["services"].values()) > 0
    asyncio.run(every_event_validates_against_its_schema(system))


async def every_event_validates_against_its_schema(system: System) -> None:
    """Every event of the simulated day (read from the stream as the operator) validates
    against its committed JSON Schema with `format` checking on."""
    nc = await nats.connect(
        system.nats_url, nkeys_seed_str=system.nats_seed("ops"), allow_reconnect=False
    )
    try:
        js = nc.jetstream(timeout=5)
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        checked: set[str] = set()
        for sequence in range(1, last + 1):
            message = await js.get_msg(STREAM_NAME, sequence)
            if message.subject is None or message.subject.startswith("botram.dlq."):
                continue
            event = json.loads(message.data or b"{}")
            schema = json.loads((SCHEMAS / f"{event['type']}.json").read_text())
            jsonschema.validate(event, schema, format_checker=jsonschema.FormatChecker())
            checked.add(event["type"])
    finally:
        await nc.close()
    assert {"botram.session.scheduled.v1", "botram.citizen.checked_in.v1"} <= checked, checked
    assert "botram.service.completed.v1" in checked, checked
    assert "botram.service.followed_up.v1" in checked, checked
