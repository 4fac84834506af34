"""The whole system as `make up` runs it, for end-to-end tests."""

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from botram_cli.nats_server import free_port
from helpers import System, cli

READY_TIMEOUT_SECONDS = 200  # beyond `botram up`'s own limit (below), so it reports first
SERVICES = ("scheduler", "registry", "notifier", "reporting")


def _read_lines(process: subprocess.Popen[str], lines: "queue.Queue[str]", log: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        log.append(line)
        lines.put(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """An end-to-end test's time includes starting the whole system (`botram up`), which a
    busy machine makes slow: a longer limit than the suite's 120 s, unless the test sets one."""
    for item in items:
        if "tests/e2e/" in str(item.path) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(360))


@pytest.fixture
def system_env() -> dict[str, str]:
    """More `BOTRAM_*` settings for `botram up`: a test parametrises it (another regency)."""
    return {}


@pytest.fixture
def system(tmp_path: Path, system_env: dict[str, str]) -> Iterator[System]:
    """`botram up` in a fresh directory, every port free, stopped with Ctrl-C (SIGINT)."""
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTRAM_")}
    env |= {f"BOTRAM_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {"BOTRAM_OUTBOX_POLL_SECONDS": "0.2", "COLUMNS": "200", "BOTRAM_UP_READY_SECONDS": "180"}
    env |= system_env
    process = subprocess.Popen(
        cli("up"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []
    threading.Thread(target=_read_lines, args=(process, lines, log), daemon=True).start()
    nats_url = None
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert process.poll() is None, "".join(log)
                continue
            if match := re.search(r"NATS at (nats://\S+)", line):
                nats_url = match.group(1)
            if "Botram is ready" in line:
                break
        else:
            pytest.fail("botram up was not ready in time:\n" + "".join(log))
        assert nats_url is not None
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        yield System(process, nats_url, urls, log, tmp_path / "var")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
