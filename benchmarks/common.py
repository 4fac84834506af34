"""What every benchmark needs: servers on free ports, percentiles, and reporting figures."""

import asyncio
import atexit
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from botram_cli.nats_server import EmbeddedNatsServer, free_port

console = Console(highlight=False)
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Bytecode compiled once for every process a benchmark starts. Some machines set
# PYTHONDONTWRITEBYTECODE=1: without a cache each service would recompile its sources at
# start-up (3-4 s here), which figures that include start-up (ingest, rebuild) would count.
PYCACHE = Path(tempfile.gettempdir()) / "botram-bench-pycache"


def child_environment(*, keep_botram: bool = False, **env: str) -> dict[str, str]:
    """The environment of a process a benchmark starts: this one's without PYTHONDONTWRITEBYTECODE
    (and without BOTRAM_* settings unless `keep_botram`), a shared bytecode cache, then `env`."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if (keep_botram or not k.startswith("BOTRAM_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    return inherited | {"PYTHONPYCACHEPREFIX": str(PYCACHE)} | env


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) of the values, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def report(title: str, rows: list[tuple[str, str]], figures: dict[str, object]) -> None:
    """Print a table for people and one JSON line for machines."""
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    print(json.dumps({"benchmark": title, **figures, "machine": machine()}, sort_keys=True))


@contextlib.contextmanager
def nats_server(tmp: Path) -> Iterator[EmbeddedNatsServer]:
    server = EmbeddedNatsServer(tmp / "nats").start()
    try:
        yield server
    finally:
        server.stop()


_created_databases: list[str] = []


def _server_url(url: str) -> str:
    """asyncpg's DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(False)


async def create_pg_database(base_url: str) -> str:
    """A new database on the server of `base_url`, dropped when the benchmark exits."""
    base = make_url(base_url)
    name = f"botram_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(_server_url(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = base.set(database=name).render_as_string(hide_password=False)
    if not _created_databases:
        atexit.register(drop_created_databases, base_url)
    _created_databases.append(name)
    return url


async def _drop(base_url: str, names: list[str]) -> None:
    conn = await asyncpg.connect(_server_url(base_url))
    try:
        for name in names:  # FORCE: a service killed mid-run may leave a connection behind
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def drop_created_databases(base_url: str) -> None:
    """Drop the databases this benchmark created (at exit, once its processes stopped)."""
    names, _created_databases[:] = list(_created_databases), []
    try:
        asyncio.run(_drop(base_url, names))
    except Exception as error:  # the figures are printed already: say what was left behind
        print(f"could not drop the benchmark databases {names}: {error!r}", file=sys.stderr)


def database_url(kind: str, tmp: Path, name: str) -> str:
    """A fresh database of the requested kind for one process (PostgreSQL ones are dropped
    when the benchmark exits)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / (name + '.db')}"
    return asyncio.run(create_pg_database(os.environ.get("BOTRAM_BENCH_DATABASE_URL", DEFAULT_PG)))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    url: str
    log: Path = field(default=Path())

    def rss_mb(self) -> float:
        """Resident memory of the process, from /proc."""
        status = Path(f"/proc/{self.popen.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system), from /proc."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def start_service(service: str, tmp: Path, nats_url: str, db_url: str, **env: str) -> Process:
    """Run `python -m botram_<service>` on a free port and wait until it is ready."""
    port = free_port()
    log = tmp / f"{service}.log"
    environment = child_environment(
        BOTRAM_NATS_URL=nats_url,
        BOTRAM_DATABASE_URL=db_url,
        BOTRAM_HTTP_PORT=str(port),
        BOTRAM_LOG_LEVEL="WARNING",
        **env,
    )
    popen = subprocess.Popen(
        [sys.executable, "-m", f"botram_{service}"],
        env=environment,
        cwd=tmp,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    process = Process(service, popen, f"http://127.0.0.1:{port}", log)
    wait_ready(process)
    return process


def start_command(name: str, argv: list[str], tmp: Path, port: int, **env: str) -> Process:
    """Run a command of this repository (cwd: here) logging to `tmp`, and wait until ready."""
    log = tmp / f"{name}.log"
    popen = subprocess.Popen(
        argv,
        env=child_environment(keep_botram=True, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    process = Process(name, popen, f"http://127.0.0.1:{port}", log)
    wait_ready(process)
    return process


def wait_ready(process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{process.url}/readyz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{process.name} not ready:\n{process.log.read_text()[-3000:]}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
