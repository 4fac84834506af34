"""`botram demo`: the system on the embedded default, a simulated Saturday at Sukatani and a
Tuesday at Desa Ciantra, then where to look. Ctrl-C stops everything."""

import signal
import subprocess
import sys
import time
from typing import Annotated

import httpx
import typer
from rich.console import Console

from botram_cli.up import SERVICES, service_port

console = Console(highlight=False)
READY_TIMEOUT_SECONDS = 90


def _url(name: str) -> str:
    return f"http://127.0.0.1:{service_port(name)}"


def _wait_until_ready(system: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if system.poll() is not None:
            raise typer.Exit(1)
        try:
            if all(httpx.get(f"{_url(n)}/readyz", timeout=1).status_code == 200 for n in SERVICES):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    console.print("[red]the system did not become ready[/]")
    raise typer.Exit(1)


def demo(
    citizens: Annotated[int, typer.Option(help="Citizens at the Saturday session")] = 300,
    keep_running: Annotated[bool, typer.Option(help="Keep the system up until Ctrl-C")] = True,
) -> None:
    """Run the system, simulate a Botram Kecamatan and a Botram Desa day, show where to look."""
    system = subprocess.Popen([sys.executable, "-m", "botram_cli.main", "up"])
    try:
        _wait_until_ready(system)
        urls = [f"--{n}-url={_url(n)}" for n in ("scheduler", "registry", "reporting")]
        village = str(max(citizens // 3, 1))
        days = [
            ["--kecamatan", "Sukatani", "--citizens", str(citizens), "--seed", "6"],
            ["--kecamatan", "Cikarang Selatan", "--desa", "Ciantra", "--citizens", village],
        ]
        for day in days:
            console.rule(" ".join(day[:4]))
            step = [sys.executable, "-m", "botram_cli.main", "simulate", *day, "--close", *urls]
            if subprocess.run(step, check=False).returncode != 0:
                raise typer.Exit(1)
        console.rule("Where to look")
        console.print(f"  reports   {_url('reporting')}/docs  (GET /v1/reports/sessions/{{id}})")
        console.print(f"  metrics   {_url('reporting')}/metrics")
        for name in SERVICES:
            console.print(f"  {name:<9} {_url(name)}/docs · {_url(name)}/asyncapi")
        if keep_running:
            console.print("Ctrl-C stops the system.")
            system.wait()
    finally:
        if system.poll() is None:
            system.send_signal(signal.SIGINT)
            system.wait(timeout=30)
