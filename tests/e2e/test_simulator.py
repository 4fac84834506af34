"""The simulator drives the real system; its summary must equal reporting's session report."""

import json
import subprocess

import pytest

from helpers import System, cli

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
