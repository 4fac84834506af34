"""The fault suite's fixture: services as real processes, which a test may kill -9 and
restart (`helpers.ServiceProcess`)."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import ServiceProcess


@pytest.fixture
def launch(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ServiceProcess]]:
    """`launch("registry", nats_url)`: that service as a process, ready; stopped at the end."""
    started: list[ServiceProcess] = []

    def start(name: str, nats_url: str, **settings: str) -> ServiceProcess:
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("BOTRAM_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        environment |= {
            # Compiled once for every process of the session (a restart must not recompile).
            "PYTHONPYCACHEPREFIX": str(tmp_path_factory.getbasetemp() / "pycache"),
            "BOTRAM_NATS_URL": nats_url,
            "BOTRAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / name}.db",
            "BOTRAM_AUTH_JWKS_FILE": os.environ["BOTRAM_AUTH_JWKS_FILE"],
            "BOTRAM_LOG_LEVEL": "WARNING",
            **{f"BOTRAM_{key.upper()}": value for key, value in settings.items()},
        }
        process = ServiceProcess(name, tmp_path, environment).start()
        started.append(process)
        process.wait_ready()
        return process

    yield start
    for process in reversed(started):
        if process.popen is not None and process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait(timeout=10)
